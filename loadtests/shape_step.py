"""Step: add users step by step to find capacity; stops early once a finished step missed the
SLA's p95 or failure ratio (measured over Locust's recent window), so a search never runs far
past the limit."""

from shapes import PlannedShape
from common import plan_of
from municloud_ops.loadtest import stages


class StepShape(PlannedShape):
    abstract = False
    kind = "step"

    def build(self, params):
        self._stop_on_breach = bool(params.get("stop_on_breach", True))
        self._checked_until = 0.0
        self._failures_before = (0, 0)
        return stages.step(params["start_users"], params["step_users"], params["step_s"],
                           params["max_users"])

    def tick(self):
        plan = self._plan()
        now = self.get_run_time()
        if self._stop_on_breach:
            ended = [s for s in plan if s.until_s <= now and s.until_s > self._checked_until]
            if ended:
                self._checked_until = ended[-1].until_s
                if self._breached():
                    return None
        return stages.at(plan, now)

    def _breached(self) -> bool:
        sla = plan_of(self.runner.environment).target.sla
        total = self.runner.stats.total
        p95 = total.get_current_response_time_percentile(0.95) or 0
        requests, failures = total.num_requests, total.num_failures
        done = requests - self._failures_before[0]
        failed = failures - self._failures_before[1]
        self._failures_before = (requests, failures)
        ratio = failed / done if done else 0.0
        return p95 > sla.p95_ms or ratio > sla.max_failure_ratio
