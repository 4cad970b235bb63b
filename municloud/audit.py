"""Access log (アクセスログ) for personal data: append-only and hash-chained.

Every row's hash is sha256(prev_hash || canonical row); the head table holds the last seq and
hash. One appender task per process batches the entries that arrive while the previous batch
commits, so requests do not queue one by one on the head row: each request waits for the commit
of the batch holding its entry (durable before the response is sent), and a batch is one
statement that advances the head from the one its writer last wrote (``append_chained``).

The tables live in the schema ``audit`` owned by the NOLOGIN role ``<service>_audit``, created at
cluster initialisation by the postgres image (images/postgres/audit_schema.sql, the one definition
of their DDL): the service role may only INSERT rows and advance the head.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

log = logging.getLogger(__name__)

SCHEMA = "audit"
LOG_TABLE = f"{SCHEMA}.access_log"
HEAD_TABLE = f"{SCHEMA}.access_log_head"
GENESIS_HASH = bytes(32)
GUARD_TRIGGERS = ("access_log_no_update", "access_log_no_truncate", "access_log_head_forward",
                  "access_log_head_no_delete")
MAX_BATCH = 1000
#: application_name of the appender's own connection (so its backend can be told apart).
APPENDER_APPLICATION_NAME = "access-log-appender"


@dataclass(frozen=True)
class AccessEntry:
    """Who read or changed which resident's data, for what purpose."""

    staff_id: str
    lgcode: str
    purpose: str
    resident_id: str | None
    action: str


def _canonical(seq: int, at: datetime, entry: AccessEntry) -> bytes:
    row = [
        seq,
        at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        entry.staff_id,
        entry.lgcode,
        entry.purpose,
        entry.resident_id,
        entry.action,
    ]
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(prev_hash: bytes, seq: int, at: datetime, entry: AccessEntry) -> bytes:
    return hashlib.sha256(prev_hash + _canonical(seq, at, entry)).digest()


#: One round trip: the head advances from the (seq, hash) the writer last knew and the rows go in,
#: in one statement; when another writer moved the head meanwhile, the UPDATE (re-checked on the
#: newest row version once that writer commits) matches nothing and no row is inserted.
_APPEND_SQL = (
    f"WITH advanced AS (UPDATE {HEAD_TABLE} SET seq = $1, hash = $2 WHERE seq = $3 AND hash = $4 RETURNING seq) "
    f"INSERT INTO {LOG_TABLE} (seq, at, staff_id, lgcode, purpose, resident_id, action, prev_hash, hash) "
    "SELECT * FROM unnest($5::bigint[], $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[], "
    "$11::text[], $12::bytea[], $13::bytea[]) WHERE EXISTS (SELECT 1 FROM advanced)")
#: attempts at the one-statement append before taking the head's lock (writers racing)
_OPTIMISTIC_TRIES = 3


def _chain(head: tuple[int, bytes], at: datetime, entries: list[AccessEntry]) -> tuple[list[tuple], int, bytes]:
    seq, prev = head
    rows = []
    for entry in entries:
        seq += 1
        digest = chain_hash(prev, seq, at, entry)
        rows.append((seq, at, entry.staff_id, entry.lgcode, entry.purpose, entry.resident_id,
                     entry.action, prev, digest))
        prev = digest
    return rows, seq, prev


async def _read_head(conn: asyncpg.Connection) -> tuple[int, bytes]:
    head = await conn.fetchrow(f"SELECT seq, hash FROM {HEAD_TABLE}")
    return head["seq"], bytes(head["hash"])


async def append_chained(conn: asyncpg.Connection, entries: list[AccessEntry],
                         head: tuple[int, bytes] | None = None) -> tuple[int, bytes]:
    """Append entries chained after the head; returns the new head (seq, hash).

    ``head`` is the head this writer last wrote (the appender keeps it): the append is then one
    statement, one round trip (its commit, with synchronous replication, included), instead of a
    transaction holding the head's lock across five (measured: under load the appender's
    transaction spent most of its time waiting for its own client's next statement,
    docs/benchmarks.md). Another writer in between (a second process, an import) makes the
    statement insert nothing; the head is read again and the append retried, and after a few
    such races it takes the head's lock as before."""
    if not entries:
        return head or await _read_head(conn)
    for _ in range(_OPTIMISTIC_TRIES):
        head = head or await _read_head(conn)
        at = datetime.now(UTC)
        rows, seq, last = _chain(head, at, entries)
        columns = list(zip(*rows))
        status = await conn.execute(_APPEND_SQL, seq, last, head[0], head[1], *columns)
        if status == f"INSERT 0 {len(rows)}":
            return seq, last
        head = None  # moved by another writer: read it again
    async with conn.transaction():
        locked = await conn.fetchrow(f"SELECT seq, hash FROM {HEAD_TABLE} FOR UPDATE")
        rows, seq, last = _chain((locked["seq"], bytes(locked["hash"])), datetime.now(UTC), entries)
        await conn.copy_records_to_table(
            "access_log", schema_name=SCHEMA, records=rows,
            columns=["seq", "at", "staff_id", "lgcode", "purpose", "resident_id", "action", "prev_hash", "hash"])
        await conn.execute(f"UPDATE {HEAD_TABLE} SET seq = $1, hash = $2", seq, last)
    return seq, last


async def append_entries(conn: asyncpg.Connection, entries: list[AccessEntry]) -> int:
    """Append entries chained after the current head. Returns the last seq."""
    return (await append_chained(conn, entries))[0]


class AuditLog:
    """In-process appender: `await record(entry)` returns once the entry is committed.

    It owns one connection of its own, not one from the request pool: handlers hold pool
    connections while they wait for their entry, so sharing the pool could deadlock."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]],
                 max_batch: int = MAX_BATCH) -> None:
        self._connect = connect
        self._conn: asyncpg.Connection | None = None
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[AccessEntry, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._head: tuple[int, bytes] | None = None  # the head this appender last wrote

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-appender")

    async def stop(self) -> None:
        if self._task is not None:
            # Let queued entries be written before the task goes away.
            while not self._queue.empty():
                await asyncio.sleep(0.01)
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def record(self, entry: AccessEntry) -> None:
        await self.record_many([entry])

    async def record_many(self, entries: list[AccessEntry]) -> None:
        """Queue all entries at once so they share a batch; return when all are committed."""
        if self._task is None:
            raise RuntimeError("audit log appender is not running")
        loop = asyncio.get_running_loop()
        waiting = []
        for entry in entries:
            done: asyncio.Future[None] = loop.create_future()
            self._queue.put_nowait((entry, done))
            waiting.append(done)
        if waiting:
            await asyncio.gather(*waiting)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await self._connect()
                self._head = await append_chained(self._conn, [entry for entry, _ in batch], self._head)
            except Exception as exc:  # every waiter learns its entry was not logged
                log.error("access log append failed: %s", type(exc).__name__)
                self._head = None
                if self._conn is not None:
                    self._conn.terminate()
                    self._conn = None
                for _, done in batch:
                    if not done.done():
                        done.set_exception(RuntimeError("access log unavailable"))
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)


class AuditSchemaError(RuntimeError):
    """The access log is missing, or its owner is the role the service connects as."""


async def check_schema(conn: asyncpg.Connection) -> str:
    """Refuse to run against an access log the service itself could rewrite; return a sentence."""
    row = await conn.fetchrow(
        "SELECT c.relowner::regrole::text AS owner, current_user::text AS me,"
        " has_table_privilege(c.oid, 'INSERT') AS can_append"
        " FROM pg_class c WHERE c.oid = to_regclass($1)", LOG_TABLE)
    if row is None:
        raise AuditSchemaError(
            f"{LOG_TABLE} does not exist: the database was not initialised by the municloud postgres "
            "image (its cluster initialisation creates the audit schema); rebuild the database")
    if row["owner"] == row["me"]:
        raise AuditSchemaError(f"{LOG_TABLE} is owned by {row['me']}, the role this service connects as: "
                               "it could disable the append-only triggers; its owner must be a NOLOGIN role")
    if not row["can_append"]:
        raise AuditSchemaError(f"{row['me']} may not append to {LOG_TABLE} (INSERT not granted)")
    return f"access log {LOG_TABLE} owned by {row['owner']}; {row['me']} may append only"


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    rows: int
    reason: str
    bad_seq: int | None = None

    def sentence(self) -> str:
        if self.ok:
            return f"access log chain intact ({self.rows} rows)"
        return f"access log chain broken at seq {self.bad_seq}: {self.reason}"


async def verify_chain(conn: asyncpg.Connection) -> ChainVerification:
    """Recompute the whole chain; report the first modified, inserted or missing row."""
    prev = GENESIS_HASH
    expected_seq = 0
    rows = 0
    guards = {r["tgname"]: r["tgenabled"] for r in await conn.fetch(
        "SELECT tgname::text AS tgname, tgenabled::text AS tgenabled FROM pg_trigger"
        " WHERE NOT tgisinternal"
        f" AND tgrelid IN ('{LOG_TABLE}'::regclass, '{HEAD_TABLE}'::regclass)")}
    missing = [name for name in GUARD_TRIGGERS if guards.get(name) not in ("O", "A")]
    if missing:
        # Switched off or dropped (only a superuser can): the log may have been rewritten.
        return ChainVerification(False, 0, f"append-only trigger(s) disabled: {', '.join(missing)}")
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await conn.fetchrow(f"SELECT seq, hash FROM {HEAD_TABLE}")
        cursor = conn.cursor(f"SELECT * FROM {LOG_TABLE} ORDER BY seq", prefetch=2000)
        async for row in cursor:
            expected_seq += 1
            rows += 1
            if row["seq"] != expected_seq:
                return ChainVerification(False, rows, "row(s) missing before this one", expected_seq)
            if bytes(row["prev_hash"]) != prev:
                return ChainVerification(False, rows, "prev_hash does not match", row["seq"])
            entry = AccessEntry(row["staff_id"], row["lgcode"], row["purpose"],
                                row["resident_id"], row["action"])
            digest = chain_hash(prev, row["seq"], row["at"], entry)
            if digest != bytes(row["hash"]):
                return ChainVerification(False, rows, "row content does not match its hash", row["seq"])
            prev = digest
    if head is None:
        return ChainVerification(False, rows, "chain head missing", None)
    if head["seq"] != expected_seq or bytes(head["hash"]) != prev:
        return ChainVerification(False, rows, "newest row(s) missing (head mismatch)", expected_seq + 1)
    return ChainVerification(True, rows, "intact")
