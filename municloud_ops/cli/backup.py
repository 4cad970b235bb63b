"""`municloud backup`: pgBackRest backups of each municipality's cluster at the DR site.

Exit codes: 0 done; 1 the operation failed (a corrupted backup, a failed restore; the step is
named); 2 bad input (the option is named); 3 the stack's backup repository or database is missing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from municloud_ops.cli._ops import EXIT_BAD_INPUT, SitesOpt, StackOpt, fail, operation, show

app = typer.Typer(help="Encrypted remote backups (pgBackRest): run, list, verify, restore (PITR).",
                  no_args_is_help=True)

LgcodeOpt = Annotated[Optional[list[str]], typer.Option("--lgcode", help="municipality code (repeatable; default all)")]


def _inventory(stack: str, sites: Optional[Path] = None):
    from municloud_ops.dr.inventory import stack_inventory

    return stack_inventory(stack, sites)


def _codes(inv, lgcodes: list[str] | None) -> list[str]:
    codes = lgcodes or inv.lgcodes()
    if not codes:
        raise LookupError(f"no municipality databases found in stack {inv.stack}")
    return codes


@app.command("run")
def run(stack: str = StackOpt, sites: Optional[Path] = SitesOpt, lgcode: LgcodeOpt = None,
        backup_type: Annotated[str, typer.Option("--type", help="full, diff or incr")] = "full") -> None:
    """Take a backup of each municipality's cluster into the DR-site repository."""
    from municloud_ops.backup.pgbackrest import run_backup

    if backup_type not in ("full", "diff", "incr"):
        fail(EXIT_BAD_INPUT, f"--type: must be full, diff or incr (got {backup_type!r})")
    with operation():
        inv = _inventory(stack, sites)
        for lg in _codes(inv, lgcode):
            show(run_backup(inv, lg, backup_type, progress=lambda line: typer.echo(line, err=True)))


@app.command("list")
def list_(stack: str = StackOpt, sites: Optional[Path] = SitesOpt, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the backups of every stanza (label, type, end time, size)."""
    from municloud_ops.backup.pgbackrest import info

    with operation():
        stanzas = info(_inventory(stack, sites))
    if as_json:
        typer.echo(json.dumps(stanzas, indent=2))
        return
    for st in stanzas:
        cipher = st.get("cipher", "?")
        typer.echo(f"{st['name']}: {st['status']['message']}, cipher {cipher}")
        for b in st.get("backup", []):
            stop = dt.datetime.fromtimestamp(b["timestamp"]["stop"], dt.timezone.utc).isoformat(timespec="seconds")
            typer.echo(f"  {b['label']}  {b['type']:<4}  {stop}  {b['info']['repository']['delta'] / 1e6:.1f} MB stored")


@app.command("verify")
def verify(stack: str = StackOpt, sites: Optional[Path] = SitesOpt, lgcode: LgcodeOpt = None) -> None:
    """Check repository checksums, restore the latest backup into a scratch container and compare
    every table (row count + checksum) with the source."""
    from municloud_ops.backup.verify import verify as do_verify

    with operation():
        inv = _inventory(stack, sites)
        for lg in _codes(inv, lgcode):
            show(do_verify(inv, lg))


@app.command("restore")
def restore(to: Annotated[str, typer.Option("--to", help="target time, ISO 8601 with zone, e.g. 2026-11-26T14:00:00+09:00")],
            lgcode: Annotated[str, typer.Option("--lgcode", help="municipality code")],
            stack: str = StackOpt, sites: Optional[Path] = SitesOpt) -> None:
    """Point-in-time recovery into a NEW database server container at the DR site (the running
    clusters are not touched): the rows committed before --to."""
    from municloud_ops.backup.restore import pitr

    try:
        target = dt.datetime.fromisoformat(to)
    except ValueError:
        fail(EXIT_BAD_INPUT, f"--to: not an ISO 8601 time: {to!r}")
    with operation():
        name, seconds = pitr(_inventory(stack, sites), lgcode, target)
    typer.echo(f"[{seconds:6.1f}s] restored {lgcode} to {target.isoformat()} into {name}")
