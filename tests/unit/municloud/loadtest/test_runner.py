"""Runner pieces that need no Locust process: shape parameters from the SLA, role selection,
and the generator-honesty verdict."""

import pytest

from municloud_ops.loadtest import runner, stages
from municloud_ops.loadtest.runner import CpuUsage
from municloud_ops.loadtest.sla import SlaTargets
from municloud_ops.loadtest.targets import LoadTarget, Municipality

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", stages.SHAPES)
def test_every_shape_builds_a_bounded_plan_from_the_sla_users(kind):
    params = runner.build_plan(kind, 200)
    plan = runner.plan_stages(kind, params)
    assert 0 < stages.duration(plan) <= stages.MAX_RUN_S
    assert max(s.users for s in plan) >= 200


def test_unknown_shape_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="shape: must be one of steady, step, spike, soak"):
        runner.build_plan("burst", 200)


def test_only_roles_of_running_services_are_loaded():
    target = LoadTarget("local", "http://127.0.0.1:1", (Municipality("053031", "小坂町", 5864),),
                        SlaTargets(1, 1, 0, 0), {"053031": "/k"}, services=("residents_registry",))
    assert runner.user_classes(target) == ["CounterClerk", "ConvenienceStore"]


def test_busy_generator_is_called_saturated_and_the_figures_a_lower_bound():
    cpu = CpuUsage(samples=60, generator_mean=85, generator_p90=97, generator_max=99, machine_mean=120,
                   cores=2, processes=1)
    assert cpu.saturated
    assert "GENERATOR SATURATED: the figures are a lower bound" in cpu.sentence()


def test_idle_generator_is_not_saturated_even_with_a_start_up_spike():
    cpu = CpuUsage(samples=60, generator_mean=20, generator_p90=30, generator_max=150,
                   machine_mean=190, cores=2, processes=2)
    assert not cpu.saturated
    assert "SATURATED" not in cpu.sentence()
    assert "the machine was saturated" in cpu.sentence()
