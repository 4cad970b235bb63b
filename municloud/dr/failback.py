"""Failback (切戻し): rebuild the old primary as a standby of the DR site, then a planned
switchover back with no lost write, then the DR side returns to its configured role."""

from __future__ import annotations

from municloud.dr import actions
from municloud.dr.inventory import DR, PRIMARY, Inventory, is_running
from municloud.dr.steps import Reporter, StepResult, Stopwatch, report


def failback(inv: Inventory, lgcodes: list[str] | None = None, reporter: Reporter | None = None,
             dr_services: str = "pilot_light", frontdoor_port: int | None = None) -> list[StepResult]:
    codes = lgcodes or inv.lgcodes()
    results: list[StepResult] = []
    with Stopwatch() as total:
        for lg in codes:
            results.append(report(actions.rebuild_as_standby(inv, PRIMARY, lg, DR), reporter))
            results.append(report(actions.stop_services(inv, DR, lg), reporter))
            results.append(report(actions.switchover(inv, lg, PRIMARY), reporter))
            results.append(report(actions.start_services(inv, PRIMARY, lg), reporter))
            if dr_services == "warm":
                results.append(report(actions.start_services(inv, DR, lg), reporter))
        results.append(report(_start_shared(inv), reporter))
        results.append(report(actions.check_frontdoor(inv, codes, frontdoor_port), reporter))
    results.append(report(StepResult(f"failback of {len(codes)} municipalities to {PRIMARY} done in "
                                     f"{total.seconds:.1f} s", total.seconds), reporter))
    return results


def _start_shared(inv: Inventory) -> StepResult:
    """Shared primary-site components (gateway, hub...) fenced by the failover come back."""
    with Stopwatch() as t:
        stopped = [c for c in inv.find(site=PRIMARY, lgcode="shared") if not is_running(c)]
        for c in stopped:
            c.start()
    return StepResult(f"started {len(stopped)} shared {PRIMARY}-site containers in {t.seconds:.1f} s",
                      t.seconds, bool(stopped))
