"""Report writers of the kit: JSON and a readable HTML page (JUnit XML comes from pytest)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import jinja2

from municloud_ops.conformance.plugin import CheckResult


@dataclass
class RunReport:
    unit: str
    base_url: str
    lgcode: str
    started_at: str
    duration_s: float
    kit_version: str
    checks: list[CheckResult] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # the kit's ledger (KitContext.ledger)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for check in self.checks:
            counts[check.outcome] = counts.get(check.outcome, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def failed_ids(self) -> list[str]:
        return [c.id for c in self.checks if c.outcome in ("failed", "error")]

    @property
    def conforming(self) -> bool:
        return bool(self.checks) and not self.failed_ids

    @property
    def verdict(self) -> str:
        if self.conforming:
            return f"CONFORMING: {self.counts.get('passed', 0)} required checks passed"
        return f"NOT CONFORMING: failed {', '.join(self.failed_ids) or '(no checks ran)'}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(conforming=self.conforming, verdict=self.verdict, counts=self.counts)
        return data


def write_json(report: RunReport, path: Path) -> None:
    path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")


def write_html(report: RunReport, path: Path) -> None:
    template = resources.files("municloud_ops.conformance").joinpath("report.html.j2").read_text(
        "utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    path.write_text(env.from_string(template).render(run=report), encoding="utf-8")
