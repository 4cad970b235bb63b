"""Availability over a window, from the prober's 0/1 samples of a unit (``municloud_unit_up``).

Availability = samples up / samples taken in the window; the page asks Prometheus for
``avg_over_time(municloud_unit_up[<window>])``, which is this arithmetic on the stored samples
(the live test recomputes it here from the raw samples of Prometheus' API). Time for which no
sample exists (the stack or its prober not running) is not counted either way: the page shows how
much of the window was observed.
"""

from __future__ import annotations

from collections.abc import Iterable

WINDOWS = {"24h": 24 * 3600, "30d": 30 * 24 * 3600}


def availability(samples: Iterable[float]) -> float | None:
    """Fraction of samples that were up (1); None when there is no sample."""
    values = [float(v) for v in samples]
    if not values:
        return None
    for v in values:
        if v not in (0.0, 1.0):
            raise ValueError(f"an up sample is 0 or 1, got {v}")
    return sum(values) / len(values)


def observed_fraction(sample_count: int, interval_s: float, window_s: float) -> float:
    """How much of the window the samples cover (at most 1)."""
    if interval_s <= 0 or window_s <= 0:
        raise ValueError("interval and window must be positive")
    return min(1.0, sample_count * interval_s / window_s)


def percent(value: float | None) -> str:
    """99.95 %, truncated (never rounded up to a promise not kept); "no data" without samples."""
    if value is None:
        return "no data"
    hundredths = int(value * 10000)
    return f"{hundredths // 100}.{hundredths % 100:02d} %"
