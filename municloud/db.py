"""PostgreSQL access shared by the services: pool, retrying pre-start, SQL migrations.

Migrations are numbered files `NNN_name.sql` in a service's `migrations/` directory, applied
in order at start, each in its own transaction, under a session advisory lock so that several
replicas starting together apply each file exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

#: how long the migrations at start may wait for one statement. Their first COMMIT also waits for a
#: synchronous DR standby, which a deploy builds beside the services (base backup, then streaming):
#: under load that takes longer than the pool's 30 s command timeout, and the service must wait for
#: it rather than exit and be restarted (the deploy's health wait bounds the whole start anyway).
MIGRATION_STATEMENT_TIMEOUT_S = 600.0

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class DatabaseTarget:
    host: str
    port: int
    name: str
    user: str
    password: str
    sslmode: str = "disable"  # disable | require | verify-full
    sslrootcert: Path | None = None

    def ssl_argument(self) -> Any:
        if self.sslmode == "disable":
            return False
        if self.sslmode == "require":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        if self.sslmode == "verify-full":
            return ssl.create_default_context(
                cafile=str(self.sslrootcert) if self.sslrootcert else None)
        raise ValueError(f"unknown sslmode {self.sslmode}")

    def connect_kwargs(self) -> dict[str, Any]:
        return {
            "ssl": self.ssl_argument(),
            "host": self.host,
            "port": self.port,
            "database": self.name,
            "user": self.user,
            "password": self.password or None,
        }


async def wait_for_database(
    target: DatabaseTarget, attempts: int = 60, delay_s: float = 1.0
) -> str:
    """Retrying pre-start: return a sentence once the database answers `SELECT 1`."""
    started = time.monotonic()
    last_error = ""
    for attempt in range(1, attempts + 1):
        try:
            conn = await asyncpg.connect(**target.connect_kwargs(), timeout=5)
            try:
                await conn.fetchval("SELECT 1")
            finally:
                await conn.close()
            return (
                f"database {target.name} at {target.host}:{target.port} ready after "
                f"{attempt} attempt(s) in {time.monotonic() - started:.1f} s"
            )
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
            last_error = type(exc).__name__
            log.info("waiting for database %s (attempt %d): %s", target.name, attempt, last_error)
            await asyncio.sleep(delay_s)
    raise RuntimeError(
        f"database {target.name} at {target.host}:{target.port} not reachable after "
        f"{attempts} attempts ({last_error})"
    )


async def create_pool(target: DatabaseTarget, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        **target.connect_kwargs(), min_size=min_size, max_size=max_size, command_timeout=30,
        reset=_light_reset,
    )


async def _light_reset(conn: asyncpg.Connection) -> None:
    """Release hook: only end a leftover transaction.

    The services set no session state (no SET, LISTEN, advisory locks held across requests,
    cursors outside transactions), so asyncpg's default full reset, a round trip on every
    release, is pure cost on the read path."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def in_recovery(conn: asyncpg.Connection) -> bool:
    """True on a streaming standby (read-only until promoted)."""
    return bool(await conn.fetchval("SELECT pg_is_in_recovery()"))


def migration_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.iterdir() if p.suffix == ".sql")
    for path in files:
        if not _MIGRATION_NAME.match(path.name):
            raise ValueError(f"migration file name {path.name} must look like 001_name.sql")
    numbers = [p.name[:3] for p in files]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"duplicate migration numbers in {directory}")
    return files


def _lock_key(namespace: str) -> int:
    return int.from_bytes(hashlib.sha256(namespace.encode()).digest()[:8], "big", signed=True)


async def apply_migrations(conn: asyncpg.Connection, directory: Path, namespace: str, *,
                           timeout: float = MIGRATION_STATEMENT_TIMEOUT_S) -> str:
    """Apply pending migrations from `directory`; return a sentence saying what was done."""
    files = migration_files(directory)
    started = time.monotonic()
    key = _lock_key(f"migrations:{namespace}")
    await conn.execute("SELECT pg_advisory_lock($1)", key, timeout=timeout)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())""",
            timeout=timeout,
        )
        done = {r["version"]: r["checksum"] for r in await conn.fetch("SELECT * FROM schema_migrations", timeout=timeout)}
        applied: list[str] = []
        for path in files:
            sql = path.read_text(encoding="utf-8")
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            version = f"{namespace}/{path.name}"
            if version in done:
                if done[version] != checksum:
                    raise RuntimeError(f"migration {path.name} changed after it was applied")
                continue
            async with conn.transaction():
                await conn.execute(sql, timeout=timeout)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                    version,
                    checksum,
                    timeout=timeout,
                )
            applied.append(path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", key, timeout=timeout)
    elapsed = time.monotonic() - started
    if not applied:
        return f"schema {namespace} up to date ({len(files)} migrations) in {elapsed:.2f} s"
    return f"applied {len(applied)} migration(s) to {namespace} ({', '.join(applied)}) in {elapsed:.2f} s"
