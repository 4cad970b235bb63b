"""Soak: the SLA's users for a long, bounded time (leaks, pool exhaustion, log growth)."""

from shapes import PlannedShape
from municloud_ops.loadtest import stages


class SoakShape(PlannedShape):
    abstract = False
    kind = "soak"

    def build(self, params):
        return stages.soak(params["users"], params["duration_s"])
