"""Durable receipt: message, its deliveries and the log row in one committed transaction."""

from __future__ import annotations

import datetime as dt
import hashlib

from municloud.platform.models import Message
from services.platform_hub import message_log
from services.platform_hub.routing import Route


class DuplicateMessageError(Exception):
    """Same message id, different bytes: refuse (a retried identical message is re-acked)."""


async def store_message(conn, message: Message, raw: bytes, route: Route, subscribers: list[tuple[str, str]]) -> bool:
    """Insert before acknowledging. True if stored now, False if the identical message was already stored."""
    h = message.header
    digest = hashlib.sha256(raw).digest()
    now = dt.datetime.now(dt.timezone.utc)
    async with conn.transaction():
        inserted = await conn.fetchval(
            """
            INSERT INTO messages (message_id, message_type, route_id, sender_unit, sender_lgcode,
                                  receiver_unit, receiver_lgcode, correlation_id, body_sha256, body, received_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (message_id) DO NOTHING
            RETURNING true
            """,
            h.message_id, h.message_type, route.id, h.sender_unit.value, h.sender_lgcode,
            h.receiver_unit.value, h.receiver_lgcode, h.correlation_id, digest, raw, now,
        )
        if not inserted:
            stored = await conn.fetchval("SELECT body_sha256 FROM messages WHERE message_id = $1", h.message_id)
            if bytes(stored) != digest:
                raise DuplicateMessageError(f"message id {h.message_id} was already used for a different message")
            return False
        await conn.executemany(
            "INSERT INTO deliveries (message_id, subscriber_lgcode, subscriber_unit, next_attempt_at)"
            " VALUES ($1, $2, $3, $4)",
            [(h.message_id, lgcode, unit, now) for lgcode, unit in subscribers],
        )
        await message_log.append(conn, "received", h.message_id, {
            "type": h.message_type, "route": route.id,
            "from": f"{h.sender_unit.value}@{h.sender_lgcode}", "to": f"{h.receiver_unit.value}@{h.receiver_lgcode}",
            "sha256": digest.hex(), "subscribers": [f"{u}@{c}" for c, u in subscribers],
        })
    return True
