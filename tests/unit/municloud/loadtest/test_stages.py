"""Stage plans of the load shapes: bounded, in order, the users each shape promises."""

import pytest

from municloud_ops.loadtest import stages

pytestmark = pytest.mark.unit


def test_steady_ramps_then_holds_and_ends():
    plan = stages.steady(200, 60, ramp_s=10)
    assert stages.at(plan, 0) == (200, 20.0)
    assert stages.at(plan, 59.9)[0] == 200
    assert stages.at(plan, 60) is None


def test_step_adds_users_until_the_maximum():
    plan = stages.step(25, 25, 30, 100)
    assert [s.users for s in plan] == [25, 50, 75, 100]
    assert stages.duration(plan) == 120
    assert stages.at(plan, 45)[0] == 50


def test_spike_rises_to_the_peak_and_falls_back():
    plan = stages.spike(20, 200, 90)
    assert [stages.at(plan, t)[0] for t in (10, 40, 70)] == [20, 200, 20]


def test_soak_is_bounded():
    assert stages.duration(stages.soak(200, 3600)) == 3600
    with pytest.raises(ValueError, match="bounded"):
        stages.soak(200, stages.MAX_RUN_S + 1)


@pytest.mark.parametrize("call, field", [
    (lambda: stages.steady(0, 60), "users"),
    (lambda: stages.steady(10, 5, ramp_s=10), "ramp_s"),
    (lambda: stages.spike(50, 20, 60), "peak_users"),
    (lambda: stages.step(10, 0, 30, 100), "step_users")])
def test_bad_parameters_name_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()
