"""Tamper-evident message log (in the spirit of X-Road's message log).

Every receipt, delivery attempt and outcome is one row; row_hash = sha256(prev_hash ||
canonical row), the first row chaining from 32 zero bytes. Appends serialise on a transaction
advisory lock, taken before the head is read, so the chain has no forks; rows are never updated (a trigger refuses it).
`verify_chain` recomputes every hash. Deleting rows at the tail is not detectable from the
chain alone: operators record the head hash GET /api/v1/log/verify returns (anchoring).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import time
import uuid

GENESIS = bytes(32)
_APPEND_LOCK = 0x6D636C6F67  # "mclog": one advisory lock key for the hub database


def canonical_detail(detail: dict) -> str:
    return json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_digest(prev_hash: bytes, seq: int, recorded_at: dt.datetime, event: str, message_id, detail: str) -> bytes:
    canonical = json.dumps(
        [seq, recorded_at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds"), event,
         str(message_id) if message_id is not None else None, detail],
        ensure_ascii=False, separators=(",", ":"),
    ).encode("utf-8")
    return hashlib.sha256(prev_hash + canonical).digest()


#: Taken first in a transaction that appends: the statements after it read the chain's head in
#: a snapshot that sees every earlier append (READ COMMITTED takes one snapshot per statement).
LOCK = f"SELECT pg_advisory_xact_lock({_APPEND_LOCK})"
#: The chain's head, for a statement that runs after LOCK (may be combined with other work).
HEAD = "SELECT seq, row_hash FROM message_log ORDER BY seq DESC LIMIT 1"
#: Every new row in one statement (arrays of columns, unnest keeps their order).
INSERT = """
INSERT INTO message_log (seq, recorded_at, event, message_id, detail, prev_hash, row_hash)
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::uuid[], $5::text[],
                     $6::bytea[], $7::bytea[])
"""


def chain(head_seq: int | None, head_hash: bytes | None,
          entries: list[tuple[str, uuid.UUID | None, dict]]) -> list[list]:
    """The INSERT's column arrays for ``entries`` chained after the head (None: an empty log)."""
    seq, prev = (head_seq, bytes(head_hash)) if head_seq is not None else (0, GENESIS)
    recorded_at = dt.datetime.now(dt.timezone.utc)
    columns: list[list] = [[], [], [], [], [], [], []]
    for event, message_id, detail in entries:
        seq += 1
        text = canonical_detail(detail)
        digest = row_digest(prev, seq, recorded_at, event, message_id, text)
        for column, value in zip(columns, (seq, recorded_at, event, message_id, text, prev, digest)):
            column.append(value)
        prev = digest
    return columns


@contextlib.asynccontextmanager
async def locked_transaction(conn):
    """A transaction whose first round trip both begins it and takes the append lock (one simple
    query); committed when the block ends, rolled back on any exception."""
    await conn.execute("BEGIN; " + LOCK)
    try:
        yield conn
    except BaseException:
        if not conn.is_closed() and conn.is_in_transaction():
            try:
                await conn.execute("ROLLBACK")
            except Exception:  # a command still in flight (timeout, cancel): drop the connection,
                conn.terminate()  # the pool replaces it; the server rolls back; the first error stands
        raise
    await conn.execute("COMMIT")


async def append(conn, event: str, message_id: uuid.UUID | None, detail: dict) -> int:
    """Append one row inside the caller's transaction; returns its sequence number."""
    return await append_many(conn, [(event, message_id, detail)])


async def append_many(conn, entries: list[tuple[str, uuid.UUID | None, dict]]) -> int:
    """Append rows in order inside the caller's transaction (one lock, one read, one insert);
    returns the last sequence number. The lock is held until the caller commits. The hot paths
    (store.py, delivery.py) run the same three steps with the read folded into their own
    statement."""
    await conn.execute(LOCK)
    last = await conn.fetchrow(HEAD)
    columns = chain(last["seq"] if last else None, last["row_hash"] if last else None, entries)
    await conn.execute(INSERT, *columns)
    return columns[0][-1]


@dataclasses.dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    head_hash: str | None
    broken_at: int | None
    sentence: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


async def verify_chain(conn) -> ChainReport:
    """Recompute the whole chain in one snapshot; report the first broken row."""
    started = time.monotonic()
    prev, expected_seq, rows = GENESIS, 1, 0
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(
            "SELECT seq, recorded_at, event, message_id, detail, prev_hash, row_hash FROM message_log ORDER BY seq",
            prefetch=1000,
        ):
            problem = None
            if row["seq"] != expected_seq:
                problem = f"sequence gap: expected {expected_seq}, found {row['seq']}"
            elif bytes(row["prev_hash"]) != prev:
                problem = "prev_hash does not match the previous row"
            else:
                digest = row_digest(prev, row["seq"], row["recorded_at"], row["event"], row["message_id"], row["detail"])
                if digest != bytes(row["row_hash"]):
                    problem = "row_hash does not match the row's content"
            if problem:
                return ChainReport(False, rows, None, expected_seq,
                                   f"message log broken at row {expected_seq}: {problem}")
            prev, expected_seq, rows = bytes(row["row_hash"]), expected_seq + 1, rows + 1
    head = prev.hex() if rows else None
    return ChainReport(True, rows, head, None,
                       f"message log verified: {rows} rows intact in {time.monotonic() - started:.2f} s")
