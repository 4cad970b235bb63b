"""Steps cut from Locust's history and the capacity found in them."""

import pytest

from municloud_ops.loadtest.capacity import find_capacity
from municloud_ops.loadtest.history import Sample, StepResult, read_history, steps
from municloud_ops.loadtest.sla import SlaTargets

pytestmark = pytest.mark.unit

SLA = SlaTargets(concurrent_users=50, p95_ms=100, max_failure_ratio=0.01, min_rps=10)


def step(users, p95, requests=1000, failures=0, rps=100.0):
    return StepResult(users, 30, rps, p95 / 2, p95, p95 * 1.5, requests, failures)


def test_capacity_is_the_last_step_before_the_first_breach():
    found = find_capacity([step(25, 40), step(50, 70, rps=180), step(75, 130), step(100, 90)], SLA)
    assert (found.users, found.rps) == (50, 180.0)
    assert found.broke.users == 75 and found.meets_sla_users
    assert found.sentence().startswith("capacity: 50 users at 180.0 req/s (p95 70 ms")
    assert "SLA breaks at 75 users (p95 130 ms" in found.sentence()


def test_failures_over_the_ratio_break_the_sla_too():
    found = find_capacity([step(25, 40), step(50, 40, failures=20)], SLA)
    assert found.users == 25 and not found.meets_sla_users
    assert "SLA concurrent users 50: NOT met" in found.sentence()


def test_no_breach_means_the_limit_is_above_the_search():
    found = find_capacity([step(25, 40), step(50, 50)], SLA)
    assert found.broke is None and "held at every step" in found.sentence()


def test_breach_at_the_first_step():
    assert find_capacity([step(25, 400)], SLA).users == 0


def _sample(t, users, p95, requests, failures=0):
    return Sample(t, users, 50.0, 0.0, p95 / 2, p95, p95, requests, failures)


def test_steps_group_by_users_and_judge_the_settled_half():
    samples = ([_sample(t, 10, 500 if t < 3 else 50, t * 10) for t in range(6)]
               + [_sample(t, 20, 80, t * 20, failures=t - 6) for t in range(6, 12)]
               + [_sample(12, 30, 1, 999)])  # too short to judge
    result = steps(samples)
    assert [r.users for r in result] == [10, 20]
    assert result[0].p95 == 50  # the ramp-up outlier of the first half is not judged
    assert result[1].requests == 11 * 20 - 9 * 20 and result[1].failures == 2


def test_history_csv_is_read_by_column_name(tmp_path):
    (tmp_path / "x_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
        "99.9%,99.99%,100%,Total Request Count,Total Failure Count\n"
        "1700000000,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0\n"
        "1700000001,5,GET,/x,1,0,5,5,5,5,5,5,5,5,5,5,5,1,0\n"
        "1700000001,5,,Aggregated,12.5,0.5,8,9,9,9,10,11,12,13,14,14,14,40,2\n", encoding="utf-8")
    rows = read_history(tmp_path / "x")
    assert len(rows) == 2
    assert rows[1] == Sample(1700000001, 5, 12.5, 0.5, 8, 11, 13, 40, 2)
