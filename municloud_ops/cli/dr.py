"""`municloud dr`: status, failover, failback and rehearsal of the DR site (災害対策).

Exit codes: 0 done; 1 a step failed (named; safe to re-run); 2 bad input; 3 the stack's
containers are missing. Runbook: docs/dr.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from municloud_ops.cli._ops import EXIT_FAILED, SitesOpt, StackOpt, fail, operation, show

app = typer.Typer(help="DR site: status, failover, failback, rehearse (RTO/RPO against the SLA).",
                  no_args_is_help=True)

LgcodeOpt = Annotated[Optional[list[str]], typer.Option("--lgcode", help="municipality code (repeatable; default all)")]


def _inventory(stack: str, sites: Optional[Path] = None):
    from municloud_ops.dr.inventory import stack_inventory

    return stack_inventory(stack, sites)


@app.command("status")
def status(stack: str = StackOpt, sites: Optional[Path] = SitesOpt, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per municipality: active site, replication mode, lag, last backup and age, last verify."""
    from municloud_ops.dr.status import stack_status, to_json

    with operation():
        statuses = stack_status(_inventory(stack, sites))
        if not statuses:
            raise LookupError(f"no municipality databases found in stack {stack}")
    if as_json:
        typer.echo(to_json(statuses))
        return
    for s in statuses:
        lag = f"{s.lag_bytes} B / {s.lag_seconds:.2f} s" if s.lag_bytes is not None else "-"
        age = f"{s.last_backup} ({s.last_backup_age_seconds / 3600:.1f} h ago)" if s.last_backup else "none"
        typer.echo(f"{s.lgcode}  active={s.active_site or 'NONE'}  mode={s.mode}  standby={s.standby_state}  "
                   f"lag={lag}  backup={age}  verify={s.last_verify or 'never'}")


@app.command("failover")
def failover(stack: str = StackOpt, sites: Optional[Path] = SitesOpt, lgcode: LgcodeOpt = None) -> None:
    """Fence the primary site, promote the DR standbys, start DR services, check the frontdoor."""
    from municloud_ops.dr.failover import failover as do_failover

    with operation():
        do_failover(_inventory(stack, sites), lgcode, reporter=show)


@app.command("failback")
def failback(stack: str = StackOpt, sites: Optional[Path] = SitesOpt, lgcode: LgcodeOpt = None) -> None:
    """Rebuild the primary site's databases from DR, then switch back with no lost write."""
    from municloud_ops.dr.failback import failback as do_failback
    from municloud_ops.dr.sla import sla_targets

    with operation():
        do_failback(_inventory(stack, sites), lgcode, reporter=show, dr_services=sla_targets(stack).dr_services)


@app.command("rehearse")
def rehearse(
    stack: str = StackOpt, sites: Optional[Path] = SitesOpt,
    lgcode: Annotated[Optional[str], typer.Option("--lgcode", help="municipality the writes go to (default: the first)")] = None,
    failback_after: Annotated[bool, typer.Option("--failback/--no-failback")] = True,
    json_out: Annotated[Optional[Path], typer.Option("--json-out", help="result JSON (default .state/dr/<stack>/)")] = None,
    report: Annotated[Path, typer.Option("--report", help="SLA report to append to")] = Path("docs/sla-report.md"),
    max_seconds: Annotated[float, typer.Option("--max-seconds", min=10, max=900)] = 180.0,
) -> None:
    """Write numbered transactions through the frontdoor (DR probe), kill the primary site, fail
    over, measure RTO / RPO / availability, fail back; write the JSON result and append the SLA
    report. Reads the stack's outputs (frontdoor URL, CA, token keys) with `pulumi stack output`."""
    from municloud_ops.dr.rehearsal import RehearsalPlan, rehearse as do_rehearse, write_json
    from municloud_ops.dr.sla import append_report, render_report, sla_targets
    from municloud_ops.dr.state import state_dir
    from municloud_ops.dr.writer import FrontdoorWriteTarget
    from municloud_ops.loadtest.targets import stack_outputs

    sla = sla_targets(stack)
    plan = RehearsalPlan(failback=failback_after, max_seconds=max_seconds, dr_services=sla.dr_services)
    with operation():
        inv = _inventory(stack, sites)
        codes = inv.lgcodes()
        if not codes:
            raise LookupError(f"no municipality databases found in stack {stack}")
    if lgcode is not None and lgcode not in codes:
        fail(2, f"--lgcode: {lgcode} is not a municipality of stack {stack}")
    with operation():
        target = FrontdoorWriteTarget.from_outputs(stack_outputs(stack), lgcode or codes[0], state_dir(stack))
        try:
            result = do_rehearse(inv, target, plan, reporter=show)
        finally:
            target.close()
    path = write_json(result, json_out or state_dir(stack) / f"rehearsal-{result.run_id}.json")
    append_report(report, render_report(result, sla))
    typer.echo(f"result: {path}; SLA report: {report}")
    if not result.meets(sla):
        fail(EXIT_FAILED, f"SLA missed: RTO {result.rto_seconds} s (≤ {sla.rto_seconds}), "
                          f"RPO {result.rpo_lost_writes} writes / {result.rpo_seconds} s")
