"""Restore a backup into a new scratch container at the DR site: to verify a backup (compare with
the source) or for point-in-time recovery (PITR) into a new database server.

The scratch container uses the postgres image, the repository volume (read-only) and the cipher
include file of the repository container; it has no network (reached by ``docker exec`` only)."""

from __future__ import annotations

import datetime as dt
import time

from municloud.naming import ONE_OFF_LABEL
from municloud_ops.dr import postgres as pg
from municloud_ops.dr.inventory import DR, Inventory
from municloud_ops.dr.steps import StepFailed, Stopwatch

_SCRIPT = r"""
set -eu
cat > /etc/pgbackrest/pgbackrest.conf <<CONF
[global]
repo1-path=/var/lib/pgbackrest
repo1-cipher-type=aes-256-cbc
log-level-console=warn
lock-path=/tmp/pgbackrest
[$STANZA]
pg1-path=$PGDATA
CONF
pgbackrest --stanza="$STANZA" "$@" restore
# The restored configuration may point at files of the source container (roles/postgres puts
# pg_hba.conf in /etc/municloud/postgres): the scratch server gets its own, socket-only one.
printf 'local all postgres peer\n' > /tmp/pg_hba.conf
exec postgres -D "$PGDATA" -c ssl=off -c listen_addresses='' -c archive_mode=off \
  -c synchronous_standby_names='' -c hot_standby=on -c hba_file=/tmp/pg_hba.conf
"""


def start_scratch(inv: Inventory, stanza: str, name: str, restore_args: list[str], component: str,
                  timeout: float = 300.0):
    """Start a container that restores ``stanza`` and runs the result; wait until it is a primary."""
    repo = inv.backup_repo()
    mounts = [f"{m['Name'] if m['Type'] == 'volume' else m['Source']}:{m['Destination']}:ro"
              for m in repo.attrs["Mounts"] if m["Destination"] in ("/var/lib/pgbackrest", "/run/secrets/pgbackrest")]
    client = repo.client  # the scratch server reads the repository's volume: on the repository's engine
    for stale in client.containers.list(all=True, filters={"name": f"^{name}$"}):
        stale.remove(force=True, v=True)
    labels = {"municloud.stack": inv.stack, "municloud.site": DR, "municloud.lgcode": stanza,
              "municloud.component": component, ONE_OFF_LABEL: f"restore of {stanza} ({component})"}
    c = client.containers.run(
        repo.attrs["Config"]["Image"], name=name, detach=True, labels=labels, network_mode="none",
        entrypoint=["bash", "-c", _SCRIPT, "restore", *restore_args], volumes=mounts,
        environment={"STANZA": stanza, "MC_PG_MODE": "primary"},
    )
    t0 = time.monotonic()
    while True:
        c.reload()
        if c.status in ("exited", "dead"):
            logs = c.logs(tail=15).decode(errors="replace").strip()
            c.remove(force=True, v=True)
            raise StepFailed(f"restore of {stanza} failed: {logs[-1500:]}")
        if c.status == "running":
            try:
                if not pg.in_recovery(c):
                    return c
            except pg.SqlError:
                pass
        if time.monotonic() - t0 > timeout:
            c.remove(force=True, v=True)
            raise StepFailed(f"restore of {stanza} not finished after {timeout:.0f} s")
        time.sleep(0.5)


def pitr(inv: Inventory, stanza: str, target: dt.datetime) -> tuple[str, float]:
    """Recover ``stanza`` to just before ``target`` (aware datetime) into a new container; return
    (container name, seconds)."""
    if target.tzinfo is None:
        raise ValueError("to: the target time needs a time zone (e.g. 2026-11-26T05:00:00+09:00)")
    if target > dt.datetime.now(dt.timezone.utc):
        raise ValueError("to: the target time is in the future")
    utc = target.astimezone(dt.timezone.utc)
    name = f"mc-{inv.stack}-{DR}-{stanza}-pitr-{utc:%Y%m%d%H%M%S}"
    with Stopwatch() as t:
        start_scratch(inv, stanza, name, ["--type=time", f"--target={utc:%Y-%m-%d %H:%M:%S.%f}+00",
                                          "--target-exclusive", "--target-action=promote"], "pitr")
    return name, t.seconds
