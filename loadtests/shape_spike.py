"""Spike: the counters open (窓口開庁) and the morning queue arrives within seconds."""

from shapes import PlannedShape
from municloud_ops.loadtest import stages


class SpikeShape(PlannedShape):
    abstract = False
    kind = "spike"

    def build(self, params):
        return stages.spike(params["base_users"], params["peak_users"], params["duration_s"])
