"""Plots of a run (matplotlib, Agg backend): p50/p95/p99 and req/s against users (one point per
step) and against time."""

from __future__ import annotations

from pathlib import Path

from municloud_ops.loadtest.history import Sample, StepResult


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_steps(steps: list[StepResult], out: Path, title: str, p95_target: float | None = None) -> Path:
    plt = _pyplot()
    fig, (lat, thr) = plt.subplots(1, 2, figsize=(11, 4.2))
    users = [s.users for s in steps]
    for attr, label in (("p50", "p50"), ("p95", "p95"), ("p99", "p99")):
        lat.plot(users, [getattr(s, attr) for s in steps], marker="o", label=label)
    if p95_target:
        lat.axhline(p95_target, color="red", linestyle="--", linewidth=1, label="p95 target")
    lat.set_xlabel("concurrent users")
    lat.set_ylabel("response time (ms)")
    lat.set_title("latency vs users")
    lat.legend()
    lat.grid(alpha=0.3)
    thr.plot(users, [s.rps for s in steps], marker="o", color="tab:green")
    thr.set_xlabel("concurrent users")
    thr.set_ylabel("requests / s")
    thr.set_title("throughput vs users")
    thr.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def plot_timeline(samples: list[Sample], out: Path, title: str) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.2))
    t0 = samples[0].t if samples else 0
    ts = [s.t - t0 for s in samples]
    for attr in ("p50", "p95", "p99"):
        ax.plot(ts, [getattr(s, attr) for s in samples], label=attr)
    ax.set_xlabel("seconds")
    ax.set_ylabel("response time (ms)")
    right = ax.twinx()
    right.plot(ts, [s.rps for s in samples], color="black", label="req/s")
    right.plot(ts, [s.users for s in samples], color="gray", linestyle=":", label="users")
    right.set_ylabel("req/s, users")
    ax.legend(loc="upper left")
    right.legend(loc="upper right")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
