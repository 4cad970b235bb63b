"""Stage plans of the load shapes: steady, step, spike and soak.

A plan is a tuple of `Stage` (run ``users`` at ``spawn_rate`` until ``until_s`` seconds after the
start); `at(plan, t)` is what a Locust ``LoadTestShape.tick`` returns. Every plan is bounded in
time (`MAX_RUN_S`). No Locust import here, so plans are unit-tested and shown in reports.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_RUN_S = 4 * 3600  # nothing runs longer than four hours, a soak included
SHAPES = ("steady", "step", "spike", "soak")


@dataclass(frozen=True)
class Stage:
    until_s: float
    users: int
    spawn_rate: float


def _check(plan: tuple[Stage, ...]) -> tuple[Stage, ...]:
    last = 0.0
    for i, stage in enumerate(plan):
        if stage.until_s <= last:
            raise ValueError(f"stages[{i}].until_s: must grow, got {stage.until_s} after {last}")
        if stage.users < 0 or stage.spawn_rate <= 0:
            raise ValueError(f"stages[{i}]: users must be >= 0 and spawn_rate > 0")
        last = stage.until_s
    if last > MAX_RUN_S:
        raise ValueError(f"duration: a run is bounded to {MAX_RUN_S} s, this plan lasts {last:g} s")
    return plan


def _positive(**values: float) -> None:
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{name}: must be > 0, got {value}")


def steady(users: int, duration_s: float, ramp_s: float = 10.0) -> tuple[Stage, ...]:
    """Ramp up to the SLA's concurrent users, then hold them until ``duration_s``."""
    _positive(users=users, duration_s=duration_s, ramp_s=ramp_s)
    if ramp_s >= duration_s:
        raise ValueError("ramp_s: must be shorter than duration_s")
    rate = max(users / ramp_s, 1.0)
    return _check((Stage(ramp_s, users, rate), Stage(duration_s, users, rate)))


def step(start_users: int, step_users: int, step_s: float, max_users: int) -> tuple[Stage, ...]:
    """Add ``step_users`` every ``step_s`` seconds from ``start_users`` up to ``max_users``
    (capacity search; the shape may stop earlier when the SLA breaks)."""
    _positive(start_users=start_users, step_users=step_users, step_s=step_s, max_users=max_users)
    stages, users, t = [], start_users, 0.0
    while users <= max_users:
        t += step_s
        stages.append(Stage(t, users, max(step_users / min(step_s / 3, 10.0), 1.0)))
        users += step_users
    return _check(tuple(stages))


def spike(base_users: int, peak_users: int, duration_s: float) -> tuple[Stage, ...]:
    """Counter opening (窓口開庁): a quiet base, then everyone arrives within seconds, holds,
    and the queue drains back to the base. Thirds of ``duration_s``."""
    _positive(base_users=base_users, duration_s=duration_s)
    if peak_users <= base_users:
        raise ValueError("peak_users: must exceed base_users")
    third = duration_s / 3
    burst = max((peak_users - base_users) / 5.0, 1.0)  # the peak arrives within ~5 s
    return _check((Stage(third, base_users, max(base_users / 5.0, 1.0)),
                   Stage(2 * third, peak_users, burst),
                   Stage(duration_s, base_users, burst)))


def soak(users: int, duration_s: float) -> tuple[Stage, ...]:
    """Hold the SLA's users for a long time (leaks, pool exhaustion, audit-log growth)."""
    return steady(users, duration_s, ramp_s=min(60.0, duration_s / 10))


def duration(plan: tuple[Stage, ...]) -> float:
    return plan[-1].until_s


def at(plan: tuple[Stage, ...], t: float) -> tuple[int, float] | None:
    """(users, spawn_rate) at run time ``t``; None once the plan is over (Locust stops)."""
    for stage in plan:
        if t < stage.until_s:
            return stage.users, stage.spawn_rate
    return None


def describe(plan: tuple[Stage, ...]) -> str:
    return ", ".join(f"{s.users} users until {s.until_s:g} s" for s in plan)
