"""Failback (切戻し): rebuild the old primary as a standby of the DR site, then a planned
switchover back with no lost write, then the DR side returns to its configured role.

Each cluster is one lane (rebuild, stop DR services, switchover, start services), lanes side by
side (``max_parallel``). A whole-site failback (no ``lgcodes``) brings the platform hub back the
same way; the DR hub returns to pilot light (stopped) whatever ``dr_services`` says.
The DR services return to the mode they were deployed in (their ``MC_DR_SERVICES`` env, set by
stacks/municipality.py); ``dr_services`` only applies to containers without it (a lab)."""

from __future__ import annotations

from municloud_ops.dr import actions
from municloud_ops.dr.inventory import DR, HUB, PRIMARY, Inventory, env_of, is_running
from municloud_ops.dr.steps import Reporter, StepResult, Stopwatch, report, run_lanes


def failback(inv: Inventory, lgcodes: list[str] | None = None, reporter: Reporter | None = None,
             dr_services: str = "pilot_light", frontdoor_port: int | None = None,
             max_parallel: int = 4) -> list[StepResult]:
    codes = lgcodes or inv.lgcodes()
    clusters = codes + ([HUB] if lgcodes is None and inv.database(DR, HUB) is not None else [])
    results: list[StepResult] = []
    with Stopwatch() as total:
        def lane(lg: str):
            def steps() -> list[StepResult]:
                done = [report(actions.rebuild_as_standby(inv, PRIMARY, lg, DR), reporter),
                        report(actions.stop_services(inv, DR, lg), reporter),
                        report(actions.switchover(inv, lg, PRIMARY), reporter),
                        report(actions.start_services(inv, PRIMARY, lg), reporter)]
                if lg != HUB and deployed_dr_services(inv, lg, dr_services) == "warm":
                    done.append(report(actions.start_services(inv, DR, lg), reporter))
                return done
            return steps

        results += run_lanes([(lg, lane(lg)) for lg in clusters], max_parallel)
        results.append(report(_start_shared(inv), reporter))
        results.append(report(actions.check_frontdoor(inv, codes, frontdoor_port), reporter))
    hub = " and the hub" if HUB in clusters else ""
    results.append(report(StepResult(f"failback of {len(codes)} municipalities{hub} to {PRIMARY} done in "
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


def deployed_dr_services(inv: Inventory, lgcode: str, fallback: str) -> str:
    """``warm`` or ``pilot_light`` as the stack deployed the DR services of ``lgcode``, else ``fallback``."""
    for c in inv.services(DR, lgcode):
        mode = env_of(c).get("MC_DR_SERVICES")
        if mode:
            return mode
    return fallback
