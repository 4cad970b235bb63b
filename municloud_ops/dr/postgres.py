"""Talk to one PostgreSQL server of the stack through ``docker exec`` (local socket, peer auth):
no password leaves its secret file and no port needs publishing."""

from __future__ import annotations

import time
from dataclasses import dataclass


class SqlError(RuntimeError):
    """psql failed; the message names the container."""


def psql(container, sql: str, database: str = "postgres", timeout_ms: int = 30000) -> list[list[str]]:
    """Run ``sql``; return rows as lists of text fields."""
    rc, out = container.exec_run(
        ["psql", "-X", "-qAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", database,
         "-c", f"SET statement_timeout = {timeout_ms}", "-c", sql],
        user="postgres", environment={"PGCONNECT_TIMEOUT": "5"},
    )
    text = out.decode(errors="replace")
    if rc != 0:
        raise SqlError(f"{container.name}: {text.strip()[-500:]}")
    return [line.split("\t") for line in text.splitlines() if line.strip() and line != "SET"]


def scalar(container, sql: str, database: str = "postgres") -> str:
    rows = psql(container, sql, database)
    return rows[0][0] if rows else ""


def in_recovery(container) -> bool:
    return scalar(container, "SELECT pg_is_in_recovery()") == "t"


def wait_accepting(container, timeout: float = 60.0) -> float:
    """Wait until the server accepts connections on its socket; return seconds waited."""
    t0 = time.monotonic()
    while True:
        container.reload()
        if container.status == "running":
            rc, _ = container.exec_run(["pg_isready", "-q", "-h", "/var/run/postgresql"], user="postgres")
            if rc == 0:
                return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{container.name} not accepting connections after {timeout:.0f} s")
        time.sleep(0.3)


def set_synchronous_standby_names(container, names: str) -> None:
    """ALTER SYSTEM + reload: '' = asynchronous; '"<application_name>"' = wait for that standby."""
    quoted = names.replace("'", "''")
    psql(container, f"ALTER SYSTEM SET synchronous_standby_names = '{quoted}'")
    psql(container, "SELECT pg_reload_conf()")


def reset_synchronous_standby_names(container) -> None:
    """ALTER SYSTEM RESET + reload: the server's own configuration (the container's
    MC_PG_SYNCHRONOUS_STANDBY_NAMES, i.e. the stack config) applies again. A value left by
    ALTER SYSTEM would outlive a later change of the stack's replication mode."""
    psql(container, "ALTER SYSTEM RESET synchronous_standby_names")
    psql(container, "SELECT pg_reload_conf()")


@dataclass(frozen=True)
class ReplicationRow:
    """One connected standby as seen from the primary (pg_stat_replication)."""

    application_name: str
    state: str
    sync_state: str
    lag_bytes: int
    lag_seconds: float


def replication(primary) -> list[ReplicationRow]:
    rows = psql(primary, """
        SELECT application_name, state, sync_state,
               COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint,
               COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)
        FROM pg_stat_replication""")
    return [ReplicationRow(r[0], r[1], r[2], int(r[3]), float(r[4])) for r in rows]


def current_lsn(container) -> str:
    return scalar(container, "SELECT pg_current_wal_lsn()")


def replay_lsn(container) -> str:
    return scalar(container, "SELECT pg_last_wal_replay_lsn()")


def lsn_at_least(container, a: str, b: str) -> bool:
    return scalar(container, f"SELECT pg_wal_lsn_diff('{a}', '{b}') >= 0") == "t"
