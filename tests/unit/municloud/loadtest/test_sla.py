"""Arithmetic of the SLA gate: each target can fail with its message; the twin passes."""

import pytest

from municloud_ops.loadtest.sla import EXIT_SLA_BREACH, Observed, SlaTargets, evaluate

pytestmark = pytest.mark.unit

TARGETS = SlaTargets(concurrent_users=200, p95_ms=100, max_failure_ratio=0.01, min_rps=150)


def test_run_within_every_target_passes():
    result = evaluate(Observed(requests=10_000, failures=100, p95_ms=100, rps=150), TARGETS)
    assert result.passed and result.exit_code == 0
    assert result.sentence().startswith("SLA gate passed: 10000 requests, 100 failed (1.00%)")


def test_p95_over_target_names_the_overshoot():
    result = evaluate(Observed(10_000, 0, 180, 200), TARGETS)
    assert not result.passed and result.exit_code == EXIT_SLA_BREACH
    assert [b.metric for b in result.breaches] == ["p95_ms"]
    assert "p95 180 ms exceeds the target 100 ms by 80 ms (+80.0%)" in result.sentence()


def test_failure_ratio_over_target_names_the_points():
    result = evaluate(Observed(1_000, 25, 50, 200), TARGETS)
    assert [b.metric for b in result.breaches] == ["failure_ratio"]
    assert ("failure ratio 2.50% exceeds the target 1.00% by 1.50 points "
            "(25 of 1000 requests failed)") in result.sentence()


def test_throughput_under_target_names_the_shortfall():
    result = evaluate(Observed(1_000, 0, 50, 120), TARGETS)
    assert [b.metric for b in result.breaches] == ["rps"]
    assert "throughput 120.0 req/s is below the target 150 req/s by 30.0 req/s (-20.0%)" \
        in result.sentence()


def test_throughput_can_be_left_out_for_spikes():
    assert evaluate(Observed(1_000, 0, 50, 120), TARGETS, check_throughput=False).passed


def test_all_breaches_are_reported_together():
    result = evaluate(Observed(100, 50, 900, 1), TARGETS)
    assert [b.metric for b in result.breaches] == ["failure_ratio", "p95_ms", "rps"]


def test_a_run_without_requests_proves_nothing():
    result = evaluate(Observed(0, 0, 0, 0), TARGETS)
    assert not result.passed
    assert "no requests were made" in result.sentence()


@pytest.mark.parametrize("field, kwargs", [
    ("concurrent_users", {"concurrent_users": 0}), ("p95_ms", {"p95_ms": 0}),
    ("max_failure_ratio", {"max_failure_ratio": 1.5}), ("min_rps", {"min_rps": -1})])
def test_bad_targets_are_refused_naming_the_field(field, kwargs):
    values = {"concurrent_users": 10, "p95_ms": 100, "max_failure_ratio": 0.01, "min_rps": 1,
              **kwargs}
    with pytest.raises(ValueError, match=field):
        SlaTargets(**values)
