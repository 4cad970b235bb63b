"""Durable receipt: message, its deliveries and the log row in one committed transaction.

Four round trips: BEGIN with the log's append lock; one statement inserting the message and its
deliveries (multi-row, from arrays) and reading the log's head; one multi-row log insert; COMMIT.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from municloud.platform.models import Message
from services.platform_hub import message_log
from services.platform_hub.routing import Route


class DuplicateMessageError(Exception):
    """Same message id, different bytes: refuse (a retried identical message is re-acked)."""


# The deliveries are inserted only when the message is (FROM m); the body_sha256 read sees the
# statement's snapshot, so it is an earlier message's digest or NULL.
RECEIVE = f"""
WITH m AS (
    INSERT INTO messages (message_id, message_type, route_id, sender_unit, sender_lgcode,
                          receiver_unit, receiver_lgcode, correlation_id, body_sha256, body, received_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    ON CONFLICT (message_id) DO NOTHING
    RETURNING message_id
), d AS (
    INSERT INTO deliveries (message_id, subscriber_lgcode, subscriber_unit, next_attempt_at)
    SELECT m.message_id, s.lgcode, s.unit, $11 FROM m, unnest($12::text[], $13::text[]) AS s(lgcode, unit)
)
SELECT EXISTS (SELECT 1 FROM m) AS inserted,
       (SELECT body_sha256 FROM messages WHERE message_id = $1) AS earlier_sha256,
       head.seq, head.row_hash
FROM (SELECT 1) AS one LEFT JOIN LATERAL ({message_log.HEAD}) AS head ON true
"""


async def store_message(conn, message: Message, raw: bytes, route: Route, subscribers: list[tuple[str, str]]) -> bool:
    """Insert before acknowledging. True if stored now, False if the identical message was already stored."""
    h = message.header
    digest = hashlib.sha256(raw).digest()
    now = dt.datetime.now(dt.timezone.utc)
    async with message_log.locked_transaction(conn):
        row = await conn.fetchrow(
            RECEIVE, h.message_id, h.message_type, route.id, h.sender_unit.value, h.sender_lgcode,
            h.receiver_unit.value, h.receiver_lgcode, h.correlation_id, digest, raw, now,
            [lgcode for lgcode, _ in subscribers], [unit for _, unit in subscribers],
        )
        if not row["inserted"]:
            if bytes(row["earlier_sha256"]) != digest:
                raise DuplicateMessageError(f"message id {h.message_id} was already used for a different message")
            return False
        await conn.execute(message_log.INSERT, *message_log.chain(row["seq"], row["row_hash"], [(
            "received", h.message_id, {
                "type": h.message_type, "route": route.id,
                "from": f"{h.sender_unit.value}@{h.sender_lgcode}", "to": f"{h.receiver_unit.value}@{h.receiver_lgcode}",
                "sha256": digest.hex(), "subscribers": [f"{u}@{c}" for c, u in subscribers],
            })]))
    return True
