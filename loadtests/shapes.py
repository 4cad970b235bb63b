"""The base of the load shapes: a `LoadTestShape` that follows a stage plan from
municloud_ops.loadtest.stages, built from the run plan's shape parameters.

Each concrete shape lives in its own file (shape_steady.py, shape_step.py, shape_spike.py,
shape_soak.py) because Locust takes the first shape class it finds; ``municloud loadtest run
--shape X`` passes ``-f loadtests/locustfile.py,loadtests/shape_X.py``.
"""

from __future__ import annotations

from locust import LoadTestShape

from common import plan_of
from municloud_ops.loadtest import stages


class PlannedShape(LoadTestShape):
    abstract = True
    kind = ""

    def build(self, params: dict) -> tuple[stages.Stage, ...]:
        raise NotImplementedError

    def _plan(self) -> tuple[stages.Stage, ...]:
        if getattr(self, "_stages", None) is None:
            shape = plan_of(self.runner.environment).shape
            if shape["kind"] != self.kind:
                raise SystemExit(f"plan is for shape {shape['kind']!r}, this file is {self.kind!r}")
            self._stages = self.build(shape["params"])
        return self._stages

    def tick(self):
        return stages.at(self._plan(), self.get_run_time())
