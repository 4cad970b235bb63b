"""Failover (切替): fence the primary site, promote the DR standbys, start the DR services
read-write, let the frontdoor switch. Safe to re-run after a partial failure.

A whole-site failover (no ``lgcodes``) also promotes the platform hub's standby and starts the
DR hub (pilot light); until it answers, the services queue platform messages in their outboxes.
Each cluster (municipality or hub) is one lane of steps; lanes run side by side
(``max_parallel``)."""

from __future__ import annotations

from municloud_ops.dr import actions
from municloud_ops.dr.inventory import DR, HUB, PRIMARY, Inventory
from municloud_ops.dr.steps import Reporter, StepResult, Stopwatch, report, run_lanes


def failover(inv: Inventory, lgcodes: list[str] | None = None, reporter: Reporter | None = None,
             frontdoor_port: int | None = None, max_parallel: int = 4) -> list[StepResult]:
    """Fail ``lgcodes`` (default: every municipality, and then the whole primary site is fenced)
    over to the DR site. Returns the steps' results, last one the total."""
    codes = lgcodes or inv.lgcodes()
    if not codes:
        raise LookupError(f"no municipality databases found in stack {inv.stack}")
    results: list[StepResult] = []
    with Stopwatch() as total:
        results.append(report(actions.fence_site(inv, PRIMARY, lgcodes), reporter))
        clusters = codes + ([HUB] if lgcodes is None and inv.database(DR, HUB) is not None else [])

        def lane(cluster: str):
            return lambda: [report(actions.promote(inv, DR, cluster), reporter),
                            report(actions.start_services(inv, DR, cluster), reporter)]

        # Clusters are independent: promoted side by side, so the RTO of a consortium does not
        # grow with its number of members.
        results += run_lanes([(c, lane(c)) for c in clusters], max_parallel)
        results.append(report(actions.check_frontdoor(inv, codes, frontdoor_port), reporter))
    changed = any(r.changed for r in results)
    results.append(report(StepResult(
        f"failover of {len(codes)} municipalities to {DR} {'done' if changed else 'already complete'} "
        f"in {total.seconds:.1f} s", total.seconds, changed), reporter))
    return results
