"""`municloud member ...`: a consortium's membership as operations (municloud_ops/member.py).

    municloud member list     --stack S
    municloud member add      --stack S --lgcode C --name N --population P --like C2
    municloud member offboard --stack S --lgcode C --out DIR
    municloud member remove   --stack S --lgcode C --handover DIR

Exit 0 done (the sentence on stdout), 1 a step failed, 2 bad input (the key named; nothing written).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from municloud_ops.cli._ops import EXIT_BAD_INPUT, StackOpt, fail, operation

app = typer.Typer(help="Members of a consortium: list, add, offboard (hand-over), remove.",
                  no_args_is_help=True)

LgcodeOpt = Annotated[str, typer.Option("--lgcode", help="地方公共団体コード of the member")]
ConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", help="the stack's config file (default Pulumi.<stack>.yaml in the checkout)")]


def _member_errors():
    from municloud_ops.member import MemberError

    return MemberError


@app.command("list")
def list_(stack: str = StackOpt, config: ConfigOpt = None,
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every member with its address slot and the subnets it gives at each site."""
    from municloud_ops.member import list_members

    try:
        rows = list_members(stack, config)
    except _member_errors() as exc:
        fail(EXIT_BAD_INPUT, str(exc))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        nets = "  ".join(f"{site} {net}" for site, net in r["subnets"].items())
        typer.echo(f"{r['lgcode']}  {r['name']:<8}  population {r['population']:>7,}  slot {r['address_slot']:>2}  {nets}")
    typer.echo(f"stack {stack}: {len(rows)} members")


@app.command("add")
def add(lgcode: LgcodeOpt, name: Annotated[str, typer.Option("--name", help="municipality name")],
        population: Annotated[int, typer.Option("--population", min=1)], stack: str = StackOpt,
        like: Annotated[Optional[str], typer.Option("--like", help="copy tax/NHI parameters from this member")] = None,
        params: Annotated[Optional[Path], typer.Option("--params", help="YAML/JSON file with the member's "
                                                       "parameters (the entry's keys but lgcode/name/population)")] = None,
        address_slot: Annotated[Optional[int], typer.Option("--address-slot", help="default: the lowest free")] = None,
        config: ConfigOpt = None) -> None:
    """Add a member to the stack config (validated as `pulumi preview` does; comments kept)."""
    import yaml

    from municloud_ops.member import add_member

    values = None
    if params is not None:
        try:
            values = yaml.safe_load(params.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            fail(EXIT_BAD_INPUT, f"--params: cannot read {params}: {exc}")
        if not isinstance(values, dict):
            fail(EXIT_BAD_INPUT, f"--params: {params} must hold a mapping of parameters")
    try:
        typer.echo(add_member(stack, lgcode, name, population, like=like, params=values,
                              address_slot=address_slot, path=config))
    except _member_errors() as exc:
        fail(EXIT_BAD_INPUT, str(exc))


@app.command("remove")
def remove(lgcode: LgcodeOpt, stack: str = StackOpt,
           handover: Annotated[Optional[Path], typer.Option("--handover", help="the directory `offboard` wrote")] = None,
           no_handover: Annotated[bool, typer.Option("--no-handover", help="remove without handing data over "
                                                     "(its databases are deleted by the next up)")] = False,
           config: ConfigOpt = None) -> None:
    """Remove a member from the stack config; the others keep their address slots."""
    from municloud_ops.member import remove_member

    try:
        typer.echo(remove_member(stack, lgcode, handover=handover, no_handover=no_handover, path=config))
    except _member_errors() as exc:
        fail(EXIT_BAD_INPUT, str(exc))


@app.command("offboard")
def offboard(lgcode: LgcodeOpt, out: Annotated[Path, typer.Option("--out", help="hand-over directory")],
             stack: str = StackOpt) -> None:
    """Final verified backup and the layout files of the member's three units (UTF-8 and cp932)."""
    from pulumi import automation as auto

    from municloud_ops.member import offboard as do_offboard
    from stacks.automation import REPO_ROOT, pulumi_env

    env = pulumi_env()
    ws = auto.LocalWorkspace(work_dir=str(REPO_ROOT), env_vars=env, pulumi_home=env["PULUMI_HOME"])
    try:
        outputs = {k: v.value for k, v in auto.Stack.select(stack, ws).outputs().items()}
    except auto.errors.CommandError as exc:
        fail(1, f"stack: cannot read stack {stack} ({str(exc).strip().splitlines()[-1]})")
    with operation():
        try:
            typer.echo(do_offboard(stack, lgcode, out, outputs=outputs, progress=typer.echo))
        except _member_errors() as exc:
            fail(EXIT_BAD_INPUT, str(exc))
