"""Read Locust's CSV output (``--csv PREFIX --csv-full-history``) into plain rows and cut the
aggregated history into the steps of a run (one row per user count)."""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """One row of the aggregated history (Locust writes one per second)."""

    t: float
    users: int
    rps: float
    fps: float
    p50: float
    p95: float
    p99: float
    requests: int
    failures: int


@dataclass(frozen=True)
class StepResult:
    """Steady-state figures of one user count (the second half of its samples)."""

    users: int
    seconds: float
    rps: float
    p50: float
    p95: float
    p99: float
    requests: int
    failures: int

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def _num(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0  # Locust writes "N/A" before the first response


def read_history(prefix: Path) -> list[Sample]:
    path = Path(f"{prefix}_stats_history.csv")
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("Name") != "Aggregated":
                continue
            rows.append(Sample(t=_num(row["Timestamp"]), users=int(_num(row["User Count"])),
                               rps=_num(row["Requests/s"]), fps=_num(row["Failures/s"]),
                               p50=_num(row["50%"]), p95=_num(row["95%"]), p99=_num(row["99%"]),
                               requests=int(_num(row["Total Request Count"])),
                               failures=int(_num(row["Total Failure Count"]))))
    return rows


def read_totals(prefix: Path) -> dict[str, dict[str, str]]:
    """Name -> row of ``<prefix>_stats.csv`` (the last row is "Aggregated")."""
    path = Path(f"{prefix}_stats.csv")
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {f"{row['Type']} {row['Name']}".strip(): row for row in csv.DictReader(fh)}


def steps(samples: list[Sample], min_samples: int = 4) -> list[StepResult]:
    """Group consecutive samples by user count; judge each group on its second half, after
    the ramp and the 10 s percentile window have settled. Groups too short are dropped."""
    groups: list[list[Sample]] = []
    for sample in samples:
        if groups and groups[-1][0].users == sample.users:
            groups[-1].append(sample)
        else:
            groups.append([sample])
    results = []
    for group in groups:
        if len(group) < min_samples or group[0].users == 0:
            continue
        settled = group[len(group) // 2:]
        first, last = settled[0], settled[-1]
        results.append(StepResult(
            users=group[0].users, seconds=last.t - group[0].t,
            rps=statistics.fmean(s.rps for s in settled),
            p50=statistics.median(s.p50 for s in settled),
            p95=statistics.median(s.p95 for s in settled),
            p99=statistics.median(s.p99 for s in settled),
            requests=last.requests - first.requests,
            failures=last.failures - first.failures))
    return results
