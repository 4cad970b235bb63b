"""SLA report rows come from the measured result and the stack's SLA config."""

import pytest

from municloud_ops.dr.rehearsal import RehearsalResult
from municloud_ops.dr.sla import append_report, render_report, report_rows, sla_targets

pytestmark = pytest.mark.unit


def _result(**kw) -> RehearsalResult:
    base = dict(stack="dev", lgcode="053031", mode="synchronous", run_id="abc", started_at="2026-11-26T05:00:00+00:00",
                writes_attempted=100, writes_acknowledged=90, rto_seconds=2.5, rpo_lost_writes=0, rpo_seconds=0.0,
                availability=0.9, failover_seconds=1.4, steps=["promoted standby 053031 at dr in 1.2 s"],
                failback_seconds=9.0, failback_kept_dr_writes=True, dr_writes=40)
    return RehearsalResult(**{**base, **kw})


def test_rows_state_promise_from_config_and_measured_figures():
    rows = {item: (promised, measured) for item, promised, measured in report_rows(_result(), sla_targets("dev"))}
    assert rows["mean time to recover (RTO)"][0].startswith("≤ 60 s")
    assert rows["mean time to recover (RTO)"][1] == "2.5 s from failure to the first acknowledged write at the DR site"
    assert rows["recovery point (RPO)"] == ("0 acknowledged writes lost (synchronous replication)",
                                           "0 of 90 acknowledged writes lost (0.0 s of writes)")
    assert rows["availability"][1].startswith("90.00% of 100 write probes")
    assert rows["failback"][1].startswith("all 40 DR-site writes present")


def test_asynchronous_promise_names_the_configured_bound_and_a_lost_write_shows():
    sla = sla_targets("dev").model_copy(update={"max_lag_seconds": 4})
    rows = {i: (p, m) for i, p, m in report_rows(_result(mode="asynchronous", rpo_lost_writes=2, rpo_seconds=0.3), sla)}
    assert rows["recovery point (RPO)"] == ("≤ 4 s of writes (asynchronous, configured lag bound)",
                                           "2 of 90 acknowledged writes lost (0.3 s of writes)")


@pytest.mark.parametrize("kw, met", [
    ({}, True),
    ({"rpo_lost_writes": 1, "rpo_seconds": 0.1}, False),  # synchronous: one lost write misses
    ({"rto_seconds": 61.0}, False),
    ({"rto_seconds": None}, False),
    ({"mode": "asynchronous", "rpo_lost_writes": 3, "rpo_seconds": 4.0}, True),  # within the lag bound
    ({"mode": "asynchronous", "rpo_lost_writes": 9, "rpo_seconds": 4.5}, False),
])
def test_result_meets_the_sla_by_mode(kw, met):
    sla = sla_targets("dev").model_copy(update={"max_lag_seconds": 4})
    assert _result(**kw).meets(sla) is met


def test_failback_row_reports_missing_writes():
    rows = {i: m for i, _p, m in report_rows(_result(failback_kept_dr_writes=False), sla_targets("dev"))}
    assert rows["failback"].startswith("NOT all 40 DR-site writes")


def test_report_is_a_markdown_table_appended_to_the_file(tmp_path):
    path = tmp_path / "sla.md"
    text = render_report(_result(), sla_targets("dev"))
    append_report(path, text)
    append_report(path, text)
    content = path.read_text()
    assert content.startswith("# SLA report (generated)")
    assert content.count("| SLA item | promised | measured |") == 2
    assert "| availability | 99.5 % (policy example 99–99.5 %) |" in content
