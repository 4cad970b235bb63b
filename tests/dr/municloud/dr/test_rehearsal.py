"""Rehearsals: site failure -> failover -> measured RTO / RPO / availability -> failback."""

import re

import pytest

from municloud.dr.failover import failover
from municloud.dr.rehearsal import RehearsalPlan, rehearse
from municloud.dr.sla import render_report, sla_targets

pytestmark = pytest.mark.dr

PLAN = RehearsalPlan(warmup_writes=15, after_writes=5, max_seconds=120.0)


def test_synchronous_rehearsal_loses_no_write_recovers_within_rto_and_fails_back(make_lab, capsys):
    with make_lab(synchronous=True, backup=False) as (lab, inv):
        result = rehearse(inv, PLAN)
    print(result.to_json())
    assert result.mode == "synchronous"
    assert result.writes_acknowledged >= 20 and result.dr_writes >= 5
    assert result.rpo_lost_writes == 0 and result.rpo_seconds == 0.0
    assert result.rto_seconds is not None and result.rto_seconds <= sla_targets("dev").rto_seconds
    assert 0.0 < result.availability < 1.0  # the outage is visible in the probes
    assert result.failback_kept_dr_writes is True
    assert any(re.fullmatch(r"promoted standby 053031 at dr in \d+\.\d s", s) for s in result.steps)
    assert any(s.startswith("injected failure: killed 1 containers at site primary") for s in result.steps)
    assert any(re.match(r"rebuilt primary 053031 as standby of dr by base backup in", s) for s in result.steps)
    assert any(re.match(r"switched 053031 over to primary in .* \(dr now synchronous standby", s) for s in result.steps)
    report = render_report(result, sla_targets("dev"))
    assert f"| recovery point (RPO) | 0 acknowledged writes lost (synchronous replication) | 0 of {result.writes_acknowledged}" in report


def test_asynchronous_rehearsal_reports_rpo_within_the_bound(make_lab):
    bound_seconds = 5.0  # our bound for asynchronous mode in the lab (the stack's sla.rpo_seconds)
    with make_lab(synchronous=False, backup=False) as (lab, inv):
        result = rehearse(inv, RehearsalPlan(warmup_writes=15, after_writes=3, failback=False))
    print(result.to_json())
    assert result.mode == "asynchronous"
    assert result.rpo_seconds <= bound_seconds
    assert result.rto_seconds is not None and result.rto_seconds <= 60
    assert result.writes_acknowledged - result.rpo_lost_writes > 0


def test_failover_is_safe_to_rerun(make_lab):
    with make_lab(synchronous=True, backup=False) as (lab, inv):
        first = failover(inv)
        again = failover(inv)
    assert [r.changed for r in first][:2] == [True, True]
    assert not any(r.changed for r in again)
    assert again[0].sentence == "site primary already fenced (1 containers, none running)"
    assert again[1].sentence == "dr 053031 already primary"
    assert re.fullmatch(r"failover of 1 municipalities to dr already complete in \d+\.\d s", again[-1].sentence)
