"""Exactly-once processing on the receiving side (the hub delivers at least once).

Each service keeps a `platform_inbox` table in its own database. `consume_once` inserts the
message id and runs the handler in the same transaction: a duplicate delivery finds the id
already there and does nothing; a handler failure rolls the insert back so the hub retries. The same id with other content (a
replay with an altered body) is refused with `ReplayError` (docs/platform.md, "Freshness and
replay"): the inbox keeps the sha256 of each message's signed form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from municloud.platform.errors import ReplayError
from municloud.platform.models import Message

INBOX_DDL = """
CREATE TABLE IF NOT EXISTS platform_inbox (
    message_id    uuid PRIMARY KEY,
    message_type  text NOT NULL,
    sender_unit   text NOT NULL,
    sender_lgcode char(6) NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    content_sha256 bytea
);
ALTER TABLE platform_inbox ADD COLUMN IF NOT EXISTS content_sha256 bytea
"""

Handler = Callable[[object, Message], Awaitable[object]]


async def ensure_inbox(conn) -> None:
    """Create the inbox table if missing (or put INBOX_DDL in the service's migration)."""
    await conn.execute(INBOX_DDL)


async def consume_once(conn, message: Message, handler: Handler) -> bool:
    """Run `handler(conn, message)` once per message id; True if it ran now, False if a duplicate.

    A message id already processed with other content raises `ReplayError` (nothing runs).

    `conn` is an asyncpg connection not inside a transaction; the insert and the handler share
    one transaction. Concurrent duplicates serialise on the primary key: the second waits, then
    sees the row and returns False.
    """
    header = message.header
    async with conn.transaction():
        inserted = await conn.fetchval(
            """
            INSERT INTO platform_inbox (message_id, message_type, sender_unit, sender_lgcode, content_sha256)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (message_id) DO NOTHING
            RETURNING true
            """,
            header.message_id,
            header.message_type,
            header.sender_unit.value,
            header.sender_lgcode,
            message.content_sha256,
        )
        if not inserted:
            stored = await conn.fetchval(
                "SELECT content_sha256 FROM platform_inbox WHERE message_id = $1", header.message_id)
            if stored is not None and message.content_sha256 is not None and bytes(stored) != message.content_sha256:
                raise ReplayError("message id already received with other content",
                                  path="/Envelope/Header/MessageId", header=header)
            return False
        await handler(conn, message)
        return True
