"""`municloud stack ...`: look at a consortium stack (status of its containers, its signing keys).

Standing up and tearing down stay `pulumi up` / `pulumi destroy` (`make up` / `make down`).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

app = typer.Typer(help="Inspect a consortium stack: its status (units, availability, replication, backups), token signing keys.",
                  no_args_is_help=True)


class _DockerEngine:
    """The two engine calls of municloud.status.facts.probe, through docker-py (any engine)."""

    def __init__(self, client) -> None:
        self.client = client

    def containers(self, labels: list[str]) -> list[dict]:
        return self.client.api.containers(all=True, filters={"label": labels})

    def exec(self, cid: str, cmd: list[str], user: str = "") -> tuple[int, str]:
        code, out = self.client.containers.get(cid).exec_run(cmd, user=user, demux=True)
        return code, (out[0] or b"").decode(errors="replace")


def _prometheus_view(client, stack: str, facts):
    """The status page's view (availability over 24 h and 30 days) from the stack's Prometheus,
    asked from inside its container (no port of it is published); None when it does not answer."""
    import json as _json
    import urllib.parse

    from municloud.status.web import QUERIES, build_view

    found = client.containers.list(filters={"label": [f"municloud.stack={stack}", "municloud.component=prometheus"]})
    if not found:
        return None
    results = {}
    for name, promql in QUERIES.items():
        url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        code, out = found[0].exec_run(["curl", "-fsS", "--max-time", "5", url])
        if code != 0:
            return None
        results[name] = _json.loads(out)["data"]["result"]
    members = sorted({u.lgcode for u in facts.units} - {"shared"})
    return build_view(results, stack, [(m, m) for m in members], facts.at)


@app.command("status")
def status(stack: str = typer.Option("dev", help="Stack (consortium) name."),
           standby_site: list[str] = typer.Option(["dr"], help="Site whose services wait as a pilot light.")) -> None:
    """The facts of the status page, measured now: every unit up, down or standby (pilot light), its
    availability over 24 h and 30 days (from the stack's Prometheus), replication lag to the DR site
    and the age of the last verified backup. Exit 0 when no unit is down, 1 otherwise."""
    import time

    import docker

    from municloud.status.availability import percent
    from municloud.status.facts import probe
    from municloud.status.page import duration

    client = docker.from_env()
    facts = probe(_DockerEngine(client), stack, set(standby_site), usage=False)  # usage: the page's
    if not facts.units:
        typer.echo(f"stack {stack}: no containers")
        raise typer.Exit(1)
    view = _prometheus_view(client, stack, facts)
    avail = {}
    if view is not None:
        avail = {(s.lgcode, u.site, u.component): u for s in view.sections for u in s.units}
    for u in facts.units:
        row = avail.get((u.lgcode, u.site, u.component))
        figures = (f"24 h {percent(row.avail_24h):>9}  30 d {percent(row.avail_30d):>9}" if row is not None
                   else "")
        typer.echo(f"{u.lgcode:7} {u.site:8} {u.component:20} {u.state:8} {u.detail:28} {figures}".rstrip())
    for r in facts.replication:
        what = (f"{r.lag_bytes} bytes behind, replay lag {r.lag_seconds:.1f} s" if r.standbys
                else "no standby streaming")
        typer.echo(f"replication {r.lgcode} ({r.site}): {r.standbys} standby(s), {what}")
    for b in facts.backups:
        typer.echo(f"backup {b.stanza}: last verified {b.kind} backup {b.label}, "
                   f"{duration(time.time() - b.stop_epoch)} ago")
    if view is None:
        typer.echo("availability: the stack's Prometheus did not answer")
    for sentence in facts.errors:
        typer.echo(sentence)
    down = facts.down()
    standby = sum(u.state == "standby" for u in facts.units)
    if down:
        typer.echo(f"stack {stack}: {len(down)} of {len(facts.units)} units down: "
                   + ", ".join(f"{u.name} ({u.detail})" for u in down))
        raise typer.Exit(1)
    typer.echo(f"stack {stack}: all {len(facts.units) - standby} running units up, "
               f"{standby} standing by as a pilot light")


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
