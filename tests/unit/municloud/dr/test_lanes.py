"""run_lanes: the clusters of a failover / failback proceed side by side, report in lane order,
and one failed lane neither stops the others nor hides which cluster failed."""

from __future__ import annotations

import threading

import pytest

from municloud_ops.dr.steps import StepFailed, StepResult, run_lanes

pytestmark = pytest.mark.unit


def _meeting(barrier: threading.Barrier, name: str, timeout: float = 5):
    def lane() -> list[StepResult]:
        barrier.wait(timeout=timeout)  # returns only when the other lane is running at the same time
        return [StepResult(f"promoted {name}", 0.0), StepResult(f"started services of {name}", 0.0)]
    return lane


def test_lanes_run_side_by_side_and_results_keep_lane_order():
    barrier = threading.Barrier(2)
    results = run_lanes([("053031", _meeting(barrier, "053031")), ("hub", _meeting(barrier, "hub"))])
    assert [r.sentence for r in results] == ["promoted 053031", "started services of 053031",
                                             "promoted hub", "started services of hub"]


def test_twin_one_at_a_time_when_max_parallel_is_one():
    barrier = threading.Barrier(2)
    with pytest.raises(StepFailed, match="2 of 2 clusters failed"):
        # one at a time, the first lane waits for a partner that never comes: a short wait says so
        run_lanes([("a", _meeting(barrier, "a", 0.5)), ("b", _meeting(barrier, "b", 0.5))], max_parallel=1)


def test_a_failed_lane_lets_the_others_finish_and_is_named():
    finished = []

    def ok() -> list[StepResult]:
        finished.append("053279")
        return [StepResult("promoted 053279", 0.0)]

    def broken() -> list[StepResult]:
        raise StepFailed("promotion of dr 053031 did not finish within 60 s")

    with pytest.raises(StepFailed) as caught:
        run_lanes([("053031", broken), ("053279", ok)])
    assert finished == ["053279"]
    assert "1 of 2 clusters failed (053031: promotion of dr 053031 did not finish within 60 s)" in str(caught.value)


def test_no_lanes_no_results():
    assert run_lanes([]) == []
