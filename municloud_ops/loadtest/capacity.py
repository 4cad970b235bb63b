"""Capacity search: step the users up until the SLA breaks; the capacity is the highest user
count (and its req/s) at which every step so far still held p95 and failure ratio."""

from __future__ import annotations

from dataclasses import dataclass

from municloud_ops.loadtest.history import StepResult
from municloud_ops.loadtest.sla import SlaTargets


@dataclass(frozen=True)
class Capacity:
    held: StepResult | None
    """the last step (in order) at which the SLA held; None if the first step already broke."""
    broke: StepResult | None
    """the first step at which it broke; None if the search never reached the limit."""
    targets: SlaTargets

    @property
    def users(self) -> int:
        return self.held.users if self.held else 0

    @property
    def rps(self) -> float:
        return self.held.rps if self.held else 0.0

    @property
    def meets_sla_users(self) -> bool:
        return self.users >= self.targets.concurrent_users

    def sentence(self) -> str:
        if self.held is None:
            head = "capacity: the SLA broke at the first step"
        else:
            h = self.held
            head = (f"capacity: {h.users} users at {h.rps:.1f} req/s (p95 {h.p95:.0f} ms, "
                    f"failures {h.failure_ratio:.2%})")
        tail = (f"; SLA breaks at {self.broke.users} users (p95 {self.broke.p95:.0f} ms, "
                f"failures {self.broke.failure_ratio:.2%})" if self.broke else
                "; the SLA held at every step (the limit is above the largest step)")
        verdict = (f"; SLA concurrent users {self.targets.concurrent_users}: "
                   f"{'met' if self.meets_sla_users else 'NOT met'}")
        return head + tail + verdict


def holds(step: StepResult, targets: SlaTargets) -> bool:
    return step.p95 <= targets.p95_ms and step.failure_ratio <= targets.max_failure_ratio


def find_capacity(steps: list[StepResult], targets: SlaTargets) -> Capacity:
    held = None
    for step in sorted(steps, key=lambda s: s.users):
        if not holds(step, targets):
            return Capacity(held, step, targets)
        held = step
    return Capacity(held, None, targets)
