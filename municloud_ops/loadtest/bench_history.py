"""Benchmark history: every benchmark run appends one line (its figures, the commit, when, the
machine's load) to ``reports/benchmarks.jsonl``; ``render`` turns the file into the trend table
and plot that docs/benchmarks.md shows between its history markers, so a regression is visible.

    .venv/bin/python -m municloud_ops.loadtest.bench_history     # re-render the table and the plot
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from municloud_ops.loadtest.targets import REPO_ROOT

HISTORY = REPO_ROOT / "reports" / "benchmarks.jsonl"
DOC = REPO_ROOT / "docs" / "benchmarks.md"
PLOT = REPO_ROOT / "reports" / "benchmarks-trend.png"
BEGIN, END = "<!-- history:begin -->", "<!-- history:end -->"
#: the headline figure of each benchmark (what the trend plot draws), with its unit
HEADLINES = {"read_path": ("rps", "req/s"), "load_gate": ("rps", "req/s"),
             "hub": ("end_to_end_msg_s", "msg/s"),
             "ceilings": ("nginx_static_rps", "req/s"),
             "cost_shared_vs_standalone_dev": ("saving_priced_pct", "%"),
             "cost_shared_vs_standalone_akita": ("saving_priced_pct", "%")}


def commit(root: Path = REPO_ROOT) -> str:
    """The commit measured (``+dirty`` when the work tree had changes)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def append(benchmark: str, figures: dict, *, path: Path = HISTORY, note: str = "",
           at: float | None = None, load_average: float | None = None) -> dict:
    """Append one run of ``benchmark`` (figures: flat name -> number) and return the record;
    ``at`` (epoch seconds) and ``load_average`` default to now (for a run recorded later, give
    the run's own)."""
    if not figures:
        raise ValueError(f"{benchmark}: no figures to record")
    record = {"benchmark": benchmark,
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
              "commit": commit(),
              "load_average": round(os.getloadavg()[0] if load_average is None else load_average, 1),
              "cores": os.cpu_count(), "figures": figures}
    if note:
        record["note"] = note
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return record


def read(path: Path = HISTORY) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def trend_table(records: list[dict]) -> str:
    """Markdown: one row per run, newest last, the headline figure and every other figure."""
    lines = ["| when (UTC) | benchmark | commit | load avg | headline | other figures |",
             "|---|---|---|---:|---:|---|"]
    for r in records:
        key, unit = HEADLINES.get(r["benchmark"], ("", ""))
        figures = dict(r["figures"])
        head = figures.pop(key, None)
        others = ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                           for k, v in sorted(figures.items()))
        lines.append(f"| {r['at'][:16].replace('T', ' ')} | {r['benchmark']} | `{r['commit']}` | "
                     f"{r['load_average']:.1f} | {f'{head:g} {unit}' if head is not None else '-'} | "
                     f"{others} |")
    return "\n".join(lines)


def plot(records: list[dict], out: Path = PLOT) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.6))
    for bench, (key, unit) in HEADLINES.items():
        points = [(i, r["figures"][key]) for i, r in enumerate(records)
                  if r["benchmark"] == bench and key in r["figures"]]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                    label=f"{bench} ({unit})")
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("run (order of reports/benchmarks.jsonl)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yscale("log")
    ax.set_title("benchmark headline figures per run")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def render(doc: Path = DOC, path: Path = HISTORY, plot_to: Path = PLOT) -> str:
    """Rewrite the part of ``doc`` between the history markers; returns a sentence."""
    records = read(path)
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise ValueError(f"{doc}: the markers {BEGIN} and {END} are missing")
    body = trend_table(records)
    if records:
        plot(records, plot_to)
        body += f"\n\n![trend](../{plot_to.relative_to(doc.parents[1]).as_posix()})"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}", encoding="utf-8")
    return f"rendered {len(records)} benchmark run(s) from {path.name} into {doc.name}"


if __name__ == "__main__":
    print(render())
