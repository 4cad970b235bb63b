"""Steady: the SLA's concurrent users (同時接続利用者数), held for the run."""

from shapes import PlannedShape
from municloud_ops.loadtest import stages


class SteadyShape(PlannedShape):
    abstract = False
    kind = "steady"

    def build(self, params):
        return stages.steady(params["users"], params["duration_s"], params.get("ramp_s", 10.0))
