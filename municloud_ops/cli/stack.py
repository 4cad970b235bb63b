"""`municloud stack ...`: look at a consortium stack (status of its containers, its signing keys).

Standing up and tearing down stay `pulumi up` / `pulumi destroy` (`make up` / `make down`).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

app = typer.Typer(help="Inspect a consortium stack: container health, token signing keys.",
                  no_args_is_help=True)


@app.command("status")
def status(stack: str = typer.Option("dev", help="Stack (consortium) name.")) -> None:
    """One line per container labelled for the stack; exit 1 when any is not healthy."""
    import docker

    client = docker.from_env()
    containers = sorted(client.containers.list(all=True, filters={"label": f"municloud.stack={stack}"}),
                        key=lambda c: c.name)
    if not containers:
        typer.echo(f"stack {stack}: no containers")
        raise typer.Exit(1)
    bad = 0
    for c in containers:
        health = (c.attrs["State"].get("Health") or {}).get("Status", "no healthcheck")
        ok = c.status == "running" and health in ("healthy", "no healthcheck")
        bad += not ok
        typer.echo(f"{c.name:55} {c.status:10} {health}")
    typer.echo(f"stack {stack}: {len(containers) - bad} of {len(containers)} containers healthy")
    raise typer.Exit(1 if bad else 0)


@app.command("token-key")
def token_key(
    lgcode: str = typer.Option(..., help="地方公共団体コード of the municipality."),
    out: Path = typer.Option(..., help="File to write the private key PEM to (created with mode 0600)."),
    stack: str = typer.Option("dev", help="Stack (consortium) name."),
) -> None:
    """Write a municipality's token-signing private key (a secret stack output) to a 0600 file.

    Use with `municloud token issue --key-file OUT`. Needs the environment of
    tools/bootstrap/env.sh (backend, passphrase).
    """
    from pulumi import automation as auto

    from municloud.ids import IdentifierError, validate_lgcode
    from stacks.automation import REPO_ROOT, pulumi_env

    try:
        code = validate_lgcode(lgcode)
    except IdentifierError as exc:
        typer.echo(f"lgcode: {exc.reason}", err=True)
        raise typer.Exit(2) from None
    env = pulumi_env()
    ws = auto.LocalWorkspace(work_dir=str(REPO_ROOT), env_vars=env, pulumi_home=env["PULUMI_HOME"])
    try:
        outputs = auto.Stack.select(stack, ws).outputs()
    except auto.errors.CommandError as exc:
        typer.echo(f"stack: cannot read stack {stack} ({str(exc).strip().splitlines()[-1]})", err=True)
        raise typer.Exit(1) from None
    keys = outputs.get("token_private_keys")
    if keys is None or code not in keys.value:
        typer.echo(f"lgcode: {code} is not a member of stack {stack}", err=True)
        raise typer.Exit(2)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(keys.value[code])
    typer.echo(f"wrote the token signing key of {code} ({stack}) to {out}")
