"""`dr status`: per municipality (and one row "hub" for the platform hub's cluster), the active
site, replication mode and lag, last backup and its age, and the last verify result."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from municloud_ops.dr import postgres as pg
from municloud_ops.dr.actions import application_name
from municloud_ops.dr.inventory import DR, PRIMARY, Inventory, is_running
from municloud_ops.dr.state import last_verify


@dataclass
class ClusterStatus:
    """One municipality's database pair."""

    lgcode: str
    active_site: str | None
    mode: str
    standby_state: str
    lag_bytes: int | None
    lag_seconds: float | None
    last_backup: str | None
    last_backup_age_seconds: float | None
    last_verify: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def _active(inv: Inventory, lg: str):
    for site in (PRIMARY, DR):
        db = inv.database(site, lg)
        if db is not None and is_running(db):
            try:
                if not pg.in_recovery(db):
                    return site, db
            except pg.SqlError:
                continue
    return None, None


def cluster_status(inv: Inventory, lg: str, backups: dict | None = None) -> ClusterStatus:
    site, primary = _active(inv, lg)
    mode, state, lag_b, lag_s = "unknown", "no primary", None, None
    if primary is not None:
        other = inv.database(DR if site == PRIMARY else PRIMARY, lg)
        sync_names = pg.scalar(primary, "SHOW synchronous_standby_names")
        mode = "synchronous" if sync_names else "asynchronous" if other is not None else "no standby"
        rows = [r for r in pg.replication(primary) if other is None or r.application_name == application_name(other)]
        if rows:
            state, lag_b, lag_s = f"{rows[0].state} ({rows[0].sync_state})", rows[0].lag_bytes, rows[0].lag_seconds
        else:
            state = "standby not connected"
    backup = (backups or {}).get(lg)
    verify = last_verify(inv.stack, lg)
    return ClusterStatus(
        lg, site, mode, state, lag_b, lag_s,
        backup["label"] if backup else None,
        (dt.datetime.now(dt.timezone.utc).timestamp() - backup["stop"]) if backup else None,
        f"{verify['result']} at {verify['at']}" if verify else None,
    )


def stack_status(inv: Inventory) -> list[ClusterStatus]:
    from municloud_ops.backup.pgbackrest import latest_backups

    try:
        backups = latest_backups(inv)
    except (LookupError, RuntimeError):
        backups = {}
    return [cluster_status(inv, lg, backups) for lg in inv.clusters()]


def to_json(statuses: list[ClusterStatus]) -> str:
    return json.dumps([s.as_dict() for s in statuses], ensure_ascii=False, indent=2)
