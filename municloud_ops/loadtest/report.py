"""Write a run's report (Markdown beside Locust's HTML/CSV and the plots) under reports/."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from municloud_ops.loadtest import history, plots
from municloud_ops.loadtest.capacity import Capacity
from municloud_ops.loadtest.runner import RunResult
from municloud_ops.loadtest.targets import REPO_ROOT, LoadTarget

REPORTS = REPO_ROOT / "reports"


def run_dir(stack: str, shape: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return REPORTS / f"{stack}-{shape}-{stamp}"


def write(result: RunResult, target: LoadTarget, capacity: Capacity | None = None,
          publish_as: str | None = None) -> Path:
    """reports/<run>/report.md + plots; with ``publish_as`` also copy the plots to
    reports/<publish_as>-*.png (the copies docs/benchmarks.md links to)."""
    out = result.out_dir
    samples = history.read_history(out / "locust")
    title = f"{target.stack} / {result.shape}"
    images = []
    if samples:
        images.append(plots.plot_timeline(samples, out / "timeline.png", title + ": over time"))
    if result.steps:
        images.append(plots.plot_steps(result.steps, out / "users.png", title + ": per user count",
                                       target.sla.p95_ms))
    lines = [f"# Load run {out.name}", "",
             f"- target: {target.stack} ({target.base_url}), municipalities "
             + ", ".join(f"{m.lgcode} {m.name} ({m.population:,})" for m in target.municipalities),
             f"- SLA: {target.sla.describe()}",
             f"- verdict: {result.gate.get('sentence', 'none')} (exit {result.exit_code})",
             f"- generator: {result.cpu.sentence()}"]
    if capacity is not None:
        lines.append(f"- {capacity.sentence()}")
    lines += ["", "| users | s | req/s | p50 ms | p95 ms | p99 ms | requests | failures |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {s.users} | {s.seconds:.0f} | {s.rps:.1f} | {s.p50:.0f} | {s.p95:.0f} | "
              f"{s.p99:.0f} | {s.requests} | {s.failures} |" for s in result.steps]
    lines += ["", "Files: report.html (Locust), locust_stats.csv, locust_stats_history.csv, "
              "locust_failures.csv, plan.json, gate.json, result.json",
              *[f"![{p.stem}]({p.name})" for p in images], ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    if publish_as:
        for image in images:
            shutil.copyfile(image, REPORTS / f"{publish_as}-{image.name}")
    return out / "report.md"
