"""The SLA gate: compare what a load run observed with the stack's targets.

Pure arithmetic, no Locust import, so the same code judges a live run (the ``quitting`` hook in
loadtests/gate.py), a step of the capacity search and the unit tests. A breach says which target
was missed and by how much ("p95 180 ms exceeds the target 100 ms by 80 ms (+80.0 %)").
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Exit code of a Locust run whose SLA gate failed (1 and 2 are Locust's own errors).
EXIT_SLA_BREACH = 3


@dataclass(frozen=True)
class SlaTargets:
    """Load targets of a consortium's SLA (同時接続利用者数 and the response it promises)."""

    concurrent_users: int
    """normal concurrent users the consortium must carry (steady shape runs this many)."""
    p95_ms: float
    """95th percentile response time over all requests must not exceed this (ms)."""
    max_failure_ratio: float
    """failed requests / all requests must not exceed this (0.01 = 1 %)."""
    min_rps: float
    """requests per second over the run must reach at least this."""
    source: str = "stack config"
    """where the figures came from, shown in the report."""

    def __post_init__(self) -> None:
        if self.concurrent_users <= 0:
            raise ValueError(f"concurrent_users: must be > 0, got {self.concurrent_users}")
        if self.p95_ms <= 0:
            raise ValueError(f"p95_ms: must be > 0, got {self.p95_ms}")
        if not 0 <= self.max_failure_ratio < 1:
            raise ValueError(f"max_failure_ratio: must be in [0, 1), got {self.max_failure_ratio}")
        if self.min_rps < 0:
            raise ValueError(f"min_rps: must be >= 0, got {self.min_rps}")

    def describe(self) -> str:
        return (f"{self.concurrent_users} users, p95 <= {self.p95_ms:g} ms, failures <= "
                f"{self.max_failure_ratio:.2%}, throughput >= {self.min_rps:g} req/s ({self.source})")


@dataclass(frozen=True)
class Observed:
    """What a run (or one step of a run) measured."""

    requests: int
    failures: int
    p95_ms: float
    rps: float

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class Breach:
    metric: str
    observed: float
    target: float
    message: str


@dataclass(frozen=True)
class GateResult:
    observed: Observed
    targets: SlaTargets
    breaches: tuple[Breach, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.breaches

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else EXIT_SLA_BREACH

    def sentence(self) -> str:
        o = self.observed
        measured = (f"{o.requests} requests, {o.failures} failed ({o.failure_ratio:.2%}), "
                    f"p95 {o.p95_ms:.0f} ms, {o.rps:.1f} req/s")
        if self.passed:
            return f"SLA gate passed: {measured}"
        return f"SLA gate FAILED: {measured}; " + "; ".join(b.message for b in self.breaches)


def _pct(over: float, target: float) -> str:
    return f"{over / target:+.1%}" if target else "n/a"


def evaluate(observed: Observed, targets: SlaTargets, *, check_throughput: bool = True) -> GateResult:
    """Judge one run. ``check_throughput=False`` for windows whose rate is not comparable
    (e.g. a spike), where only latency and failures count."""
    breaches: list[Breach] = []
    if observed.requests == 0:
        breaches.append(Breach("requests", 0, 1, "no requests were made, so nothing was proven"))
        return GateResult(observed, targets, tuple(breaches))
    ratio = observed.failure_ratio
    if ratio > targets.max_failure_ratio:
        breaches.append(Breach(
            "failure_ratio", ratio, targets.max_failure_ratio,
            f"failure ratio {ratio:.2%} exceeds the target {targets.max_failure_ratio:.2%} by "
            f"{(ratio - targets.max_failure_ratio) * 100:.2f} points "
            f"({observed.failures} of {observed.requests} requests failed)"))
    if observed.p95_ms > targets.p95_ms:
        over = observed.p95_ms - targets.p95_ms
        breaches.append(Breach(
            "p95_ms", observed.p95_ms, targets.p95_ms,
            f"p95 {observed.p95_ms:.0f} ms exceeds the target {targets.p95_ms:g} ms by "
            f"{over:.0f} ms ({_pct(over, targets.p95_ms)})"))
    if check_throughput and observed.rps < targets.min_rps:
        short = targets.min_rps - observed.rps
        breaches.append(Breach(
            "rps", observed.rps, targets.min_rps,
            f"throughput {observed.rps:.1f} req/s is below the target {targets.min_rps:g} req/s "
            f"by {short:.1f} req/s ({_pct(-short, targets.min_rps)})"))
    return GateResult(observed, targets, tuple(breaches))
