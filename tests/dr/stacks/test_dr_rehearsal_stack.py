"""DR rehearsal on a stack of its own (`citestdr`, the dev consortium built by `pulumi up`), every
write through the frontdoor's DR probe: synchronous rehearsal (RPO 0, RTO bound) and failback,
the switch to asynchronous replication (only the databases change) and its rehearsal (RPO within
the lag bound), a DR-site outage in both modes, kill -9 of a service and of a PostgreSQL container
(back within the local recovery bound). The stack is destroyed at module end, even on failure."""

from __future__ import annotations

import math
import os
import signal
import time

import pytest

from municloud_ops.dr import postgres as pg
from municloud_ops.dr.inventory import DR, PRIMARY, Inventory, is_running
from municloud_ops.dr.rehearsal import RehearsalPlan, rehearse, write_json
from municloud_ops.dr.sla import sla_targets
from municloud_ops.dr.writer import FrontdoorWriteTarget

pytestmark = [pytest.mark.live, pytest.mark.dr]

LG = "053031"
SLA = sla_targets("dev")


@pytest.fixture(scope="module")
def dr_stack():
    from support.stack import stack_up, suite_stack

    with stack_up(suite_stack("MC_DR_STACK")) as stack:
        yield stack


@pytest.fixture
def inv(dr_stack):
    return Inventory(dr_stack.name)


@pytest.fixture
def target(dr_stack, tmp_path):
    t = FrontdoorWriteTarget.from_outputs(dr_stack.outputs, LG, tmp_path, write_timeout=3.0)
    yield t
    t.close()


def _mode(stack) -> str:
    return (stack.config("municloud:sla") or {}).get("replication_mode", SLA.replication_mode)


def _switch(stack, mode: str):
    """Change sla.replication_mode in the stack's config and `up`; returns {name: id} before and after.

    The SLA's RPO moves with it, as a consortium's would: asynchronous replication promises at most
    the lag bound, synchronous promises 0 (the guardrail replication-matches-rpo refuses any other
    pairing, docs/security.md)."""
    before = _container_ids(stack.name)
    sla = stack.config("municloud:sla") or {}
    rpo = 0 if mode == "synchronous" else math.ceil(sla.get("max_lag_seconds", SLA.max_lag_seconds))
    stack.update_config({"municloud:sla": {**sla, "replication_mode": mode, "rpo_seconds": rpo}})
    stack.up()
    return before, _container_ids(stack.name)


def _ensure_mode(stack, mode: str) -> None:
    if _mode(stack) != mode:
        _switch(stack, mode)


def _container_ids(stack_name: str) -> dict[str, tuple[str, str]]:
    inv = Inventory(stack_name)
    return {c.name: (c.id, c.labels.get("municloud.component")) for c in inv.find()}


def _operator_write(target, run_id, n):
    t0 = time.monotonic()
    site = target.write(run_id, n)
    return site, time.monotonic() - t0


def _wait_streaming(inv, sync: bool, timeout: float = 90.0) -> None:
    from municloud_ops.dr.actions import application_name, wait_streaming

    wait_streaming(inv.require_database(PRIMARY, LG), application_name(inv.require_database(DR, LG)),
                   timeout, sync=sync)


# --- the probe itself, live through the frontdoor -------------------------------------------------------

def test_probe_through_frontdoor_needs_an_operator_token_and_valid_input(dr_stack, target):
    import httpx

    url, ctx = target.url, dr_stack.ssl_context()
    staff = {"Authorization": f"Bearer {dr_stack.token(LG, 'residents_registry')}"}
    operator = {"Authorization": f"Bearer {dr_stack.token(LG, 'residents_registry', purpose='system_operation')}"}
    with httpx.Client(verify=ctx, timeout=10) as http:
        refused = http.post(url, json={"run_id": "authz", "n": 1}, headers=staff)
        assert refused.status_code == 403 and refused.json()["error"]["field"] == "purpose"
        ok = http.post(url, json={"run_id": "authz", "n": 2}, headers=operator)
        assert ok.status_code == 201 and ok.json() == {"run_id": "authz", "n": 2, "site": PRIMARY}
        for body, field in ((({"run_id": "authz", "n": "3"}), "n"), ({"n": 4}, "run_id"),
                            ({"run_id": "x" * 65, "n": 5}, "run_id"), ({"run_id": "authz", "n": 10**7}, "n")):
            bad = http.post(url, json=body, headers=operator)
            assert bad.status_code == 422 and bad.json()["error"]["field"] == field, body
        assert http.get(f"{url}/authz", headers=staff).status_code == 403
        read = http.get(f"{url}/authz", headers=operator).json()
    assert read["numbers"] == [2] and read["site"] == PRIMARY  # nothing of the refused writes stored


# --- local failures: kill -9 (restart policy) -------------------------------------------------------------

def _kill_9_and_measure(container, back) -> float:
    """SIGKILL the container's main process from the host (a crash, not `docker kill`: the restart
    policy applies), then wait until it restarted, is healthy and ``back()`` holds."""
    container.reload()
    restarts = container.attrs["RestartCount"]
    t0 = time.monotonic()
    os.kill(container.attrs["State"]["Pid"], signal.SIGKILL)
    bound = SLA.local_recovery_seconds + 30  # measure a little beyond the bound, then assert it
    while time.monotonic() - t0 < bound:
        container.reload()
        state = container.attrs["State"]
        if (container.attrs["RestartCount"] > restarts and state.get("Health", {}).get("Status") == "healthy"
                and back()):
            return time.monotonic() - t0
        time.sleep(0.3)
    pytest.fail(f"{container.name} not back after {bound:.0f} s (restarts {container.attrs['RestartCount']}, "
                f"state {container.attrs['State'].get('Health', {}).get('Status')})")


@pytest.mark.parametrize("component", ["residents_registry", "postgres"])
def test_kill_9_is_back_through_the_frontdoor_within_the_local_recovery_bound(dr_stack, inv, target, component):
    _ensure_mode(dr_stack, "synchronous")
    run_id = f"kill-{component}"[:64].replace("_", "-")
    assert target.write(run_id, 1) == PRIMARY  # twin: answers before the crash
    victim = dr_stack.container(component, LG, site=PRIMARY)
    counter = iter(range(2, 100_000))
    seconds = _kill_9_and_measure(victim, lambda: target.write(run_id, next(counter)) == PRIMARY)
    print(f"kill -9 of {victim.name}: healthy and writing through the frontdoor again in {seconds:.1f} s "
          f"(bound {SLA.local_recovery_seconds} s)")
    assert seconds <= SLA.local_recovery_seconds
    if component == "postgres":
        assert not pg.in_recovery(victim)  # same role after the restart
        _wait_streaming(inv, sync=True)


# --- DR-site outage while the primary runs ----------------------------------------------------------------

def _dr_outage(inv):
    """Stop every running DR-site container; returns a function that starts them again."""
    running = [c for c in inv.site_containers(DR) if is_running(c)]
    for c in running:
        c.stop(timeout=10)

    def restore() -> None:
        for c in running:
            c.start()

    return restore


def test_dr_outage_in_synchronous_mode_blocks_writes_until_the_standby_returns(dr_stack, inv, target):
    _ensure_mode(dr_stack, "synchronous")
    run_id = "outage-sync"
    assert _operator_write(target, run_id, 1)[0] == PRIMARY  # twin: acknowledged while DR is up
    restore = _dr_outage(inv)
    try:
        site, seconds = _operator_write(target, run_id, 2)
        assert site is None and seconds >= 2.5  # never acknowledged while no standby confirms it
    finally:
        t0 = time.monotonic()
        restore()
    n, site = 3, None
    while site is None and time.monotonic() - t0 < 90:
        site, _ = _operator_write(target, run_id, n)
        n += 1
    resumed = time.monotonic() - t0
    print(f"synchronous DR outage: writes blocked (not acknowledged within 3 s); acknowledged again "
          f"{resumed:.1f} s after the DR site was started")
    assert site == PRIMARY
    assert {1, 2} <= target.present(run_id, PRIMARY)  # the blocked COMMIT completed once DR returned
    _wait_streaming(inv, sync=True)


# --- rehearsals through the frontdoor ---------------------------------------------------------------------

def _rehearse(dr_stack, inv, target):
    from municloud_ops.dr.state import state_dir

    plan = RehearsalPlan(warmup_writes=20, after_writes=10, max_seconds=150, dr_services=SLA.dr_services)
    result = rehearse(inv, target, plan, reporter=lambda r: print(f"[{r.seconds:6.1f}s] {r.sentence}"))
    path = write_json(result, state_dir(dr_stack.name) / f"rehearsal-{result.run_id}.json")
    print(f"rehearsal {result.mode}: RTO {result.rto_seconds} s, RPO {result.rpo_lost_writes} writes "
          f"({result.rpo_seconds} s), availability {result.availability:.2%} of {result.writes_attempted}, "
          f"failback {result.failback_seconds} s; {path}")
    return result


def test_synchronous_rehearsal_loses_no_acknowledged_write_and_fails_back(dr_stack, inv, target):
    _ensure_mode(dr_stack, "synchronous")
    result = _rehearse(dr_stack, inv, target)
    assert result.mode == "synchronous"
    assert result.writes_acknowledged >= 30 and result.dr_writes >= 10  # writes at both sites were made
    assert result.rpo_lost_writes == 0
    assert result.rto_seconds is not None and result.rto_seconds <= SLA.rto_seconds
    assert 0 < result.availability < 1  # the window contains the failure
    assert result.failback_kept_dr_writes is True
    assert result.meets(SLA)
    assert target.write(result.run_id, 100_000) == PRIMARY  # the primary serves again after failback


def test_switch_to_asynchronous_updates_only_the_database_containers(dr_stack):
    _ensure_mode(dr_stack, "synchronous")
    before, after = _switch(dr_stack, "asynchronous")
    changed = {name for name in before if after.get(name, (None,))[0] != before[name][0]}
    print(f"switch to asynchronous: {len(changed)} containers changed: {sorted(changed)}")
    assert changed, "the primaries' synchronous_standby_names must change"
    assert {before[name][1] for name in changed} <= {"postgres", "hub_postgres", "standby"}
    inv = Inventory(dr_stack.name)
    for lg in inv.lgcodes():
        assert pg.scalar(inv.require_database(PRIMARY, lg), "SHOW synchronous_standby_names") == ""


def test_asynchronous_rehearsal_loses_at_most_the_lag_bound(dr_stack, inv, target):
    _ensure_mode(dr_stack, "asynchronous")
    result = _rehearse(dr_stack, inv, target)
    assert result.mode == "asynchronous"
    assert result.dr_writes >= 10
    assert result.rpo_seconds <= SLA.max_lag_seconds
    assert result.rto_seconds is not None and result.rto_seconds <= SLA.rto_seconds
    assert result.failback_kept_dr_writes is True


def test_dr_outage_in_asynchronous_mode_writes_continue(dr_stack, inv, target):
    _ensure_mode(dr_stack, "asynchronous")
    run_id = "outage-async"
    restore = _dr_outage(inv)
    try:
        results = [_operator_write(target, run_id, n) for n in range(1, 11)]
    finally:
        restore()
    assert all(site == PRIMARY for site, _ in results)
    slowest = max(s for _, s in results)
    print(f"asynchronous DR outage: 10 of 10 writes acknowledged at the primary, slowest {slowest:.2f} s")
    assert slowest < 2.0
    _wait_streaming(inv, sync=False)
