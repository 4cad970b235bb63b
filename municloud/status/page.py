"""The status page's HTML: one section for the consortium's shared units, one per member.

Server-side HTML with inline CSS only: no script, no font or style from elsewhere, so it works on a
closed network (LGWAN) and in any browser. It names units, sites and municipalities, never a
person. Every value is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html import escape

from municloud.status.availability import WINDOWS, percent

JST = timezone(timedelta(hours=9))
STATE_WORDS = {"up": "up", "down": "DOWN", "standby": "standby (pilot light)", "unknown": "unknown"}

CSS = """
body{font-family:sans-serif;margin:1.5em;color:#111;background:#fff}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #999;padding:.25em .6em;text-align:left}
th{background:#eee}
.up{color:#064}.down{color:#b00;font-weight:bold}.standby{color:#555}.unknown{color:#a60}
.summary{font-size:1.2em}
"""


@dataclass
class UnitRow:
    """One unit's line on the page."""

    site: str
    component: str
    state: str  # up | down | standby | unknown
    avail_24h: float | None = None
    avail_30d: float | None = None
    observed_24h: float = 0.0
    """seconds of the window the samples cover"""
    observed_30d: float = 0.0


@dataclass
class Section:
    """The shared units, or one member's."""

    lgcode: str  # "shared" for the consortium's own units
    name: str
    units: list[UnitRow] = field(default_factory=list)
    lag_bytes: float | None = None
    lag_seconds: float | None = None
    standbys: int | None = None
    backup_age_s: float | None = None
    cpu_cores_5m: float | None = None
    """CPU in use, averaged over the last 5 minutes (cores; Prometheus rate over [5m])"""
    cpu_core_hours_24h: float | None = None
    """CPU used in the last 24 h (core-hours: what the cost formula prices)"""
    memory_bytes: float | None = None
    """memory in use now"""


@dataclass
class StatusView:
    """Everything the page shows."""

    consortium: str
    generated_at: float
    sections: list[Section]
    notes: list[str] = field(default_factory=list)

    def down(self) -> list[tuple[Section, UnitRow]]:
        return [(s, u) for s in self.sections for u in s.units if u.state == "down"]

    def unknown(self) -> list[tuple[Section, UnitRow]]:
        return [(s, u) for s in self.sections for u in s.units if u.state == "unknown"]


def duration(seconds: float | None) -> str:
    """3 h 12 min, 45 s, 2 d 4 h."""
    if seconds is None:
        return "no data"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 2 * 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def lag(section: Section) -> str:
    if section.standbys is None:
        return "no data"
    if section.standbys == 0:
        return "no standby streaming"
    b = section.lag_bytes or 0
    size = f"{b:.0f} B" if b < 1024 else f"{b / 1024:.1f} KiB" if b < 1 << 20 else f"{b / (1 << 20):.1f} MiB"
    return f"{size} behind, replay lag {section.lag_seconds or 0:.1f} s"


def usage(section: Section) -> str:
    """CPU 0.031 cores over the last 5 minutes, 0.74 core-hours in the last 24 h; memory 412.0 MiB now."""
    if section.cpu_cores_5m is None and section.memory_bytes is None:
        return "no data"
    said = []
    if section.cpu_cores_5m is not None:
        said.append(f"CPU {section.cpu_cores_5m:.3f} cores over the last 5 minutes"
                    + (f", {section.cpu_core_hours_24h:.2f} core-hours in the last 24 h"
                       if section.cpu_core_hours_24h is not None else ""))
    if section.memory_bytes is not None:
        said.append(f"memory {section.memory_bytes / (1 << 20):.1f} MiB now")
    return "; ".join(said)


def _unit_row(u: UnitRow) -> str:
    def avail(value: float | None, observed: float, window: float) -> str:
        text = escape(percent(value))
        return text + (f" <small>(over the {escape(duration(observed))} observed)</small>"
                       if value is not None and observed < window * 0.995 else "")
    return (f"<tr><td>{escape(u.component)}</td><td>{escape(u.site)}</td>"
            f"<td class=\"{escape(u.state)}\">{escape(STATE_WORDS.get(u.state, u.state))}</td>"
            f"<td>{avail(u.avail_24h, u.observed_24h, WINDOWS['24h'])}</td>"
            f"<td>{avail(u.avail_30d, u.observed_30d, WINDOWS['30d'])}</td></tr>")


def render(view: StatusView) -> str:
    """The whole page."""
    when = datetime.fromtimestamp(view.generated_at, JST).strftime("%Y-%m-%d %H:%M:%S JST")
    down, unknown = view.down(), view.unknown()
    said = []
    if down:
        said.append(f"{len(down)} unit(s) down: " + ", ".join(f"{s.lgcode} {u.component} at {u.site}" for s, u in down) + ".")
    if unknown:
        said.append(f"{len(unknown)} unit(s) not measured lately (see the notes).")
    summary = " ".join(said) or "All units up."
    down = down or unknown
    parts = [
        "<!DOCTYPE html>", '<html lang="ja"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(view.consortium)} — service status</title>", f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(view.consortium)} — service status (サービス稼働状況)</h1>",
        f'<p class="summary {"down" if down else "up"}">{escape(summary)}</p>',
        f"<p>Measured at {escape(when)}; refresh the page for new figures.</p>",
        "<nav><ul>" + "".join(f'<li><a href="#m-{escape(s.lgcode)}">{escape(s.name)}</a></li>'
                              for s in view.sections) + "</ul></nav>",
    ]
    for s in view.sections:
        title = escape(s.name) if s.lgcode == "shared" else f"{escape(s.name)} ({escape(s.lgcode)})"
        parts.append(f'<section id="m-{escape(s.lgcode)}"><h2>{title}</h2>')
        parts.append("<table><tr><th>unit</th><th>site</th><th>now</th><th>availability 24 h</th>"
                     "<th>availability 30 days</th></tr>" + "".join(_unit_row(u) for u in s.units) + "</table>")
        parts.append("<dl>")
        if s.standbys is not None or s.lgcode != "shared":
            parts.append(f"<dt>Replication to the DR site</dt><dd>{escape(lag(s))}</dd>")
        parts.append(f"<dt>Last verified backup</dt><dd>{escape(duration(s.backup_age_s))}"
                     f"{' ago' if s.backup_age_s is not None else ''}</dd>")
        parts.append(f"<dt>Usage (running units, the engine's figures)</dt><dd>{escape(usage(s))}</dd>")
        parts.append("</dl></section>")
    if view.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in view.notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
