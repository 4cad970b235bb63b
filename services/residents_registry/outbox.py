"""Outbox relay: drains the outbox table to the platform hub when HUB_URL is set.

Rows are written in the same transaction as the 異動, so nothing is published that was not
committed and nothing committed is lost. The relay claims pending rows with
FOR UPDATE SKIP LOCKED (several replicas may run it), groups 住民異動通知 records into one
message, publishes it, and marks the rows sent in the same transaction; a failure leaves them
pending with exponential backoff. Delivery is at least once; receivers consume once by
message id. With HUB_URL unset the rows simply stay in the outbox (visible at
GET /api/v1/outbox)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import asyncpg
from fastapi import FastAPI

log = logging.getLogger(__name__)

BATCH = 200
IDLE_S = 0.5
MAX_BACKOFF_S = 300


async def drain_once(pool: asyncpg.Pool, lgcode: str, client, key) -> str:
    """Publish what is pending; return a sentence for the log."""
    from municloud.platform import MoveOutCertificate, ResidentMove, ResidentMoveNotice, build_message

    started = time.monotonic()
    sent = failed = 0
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= now()"
            " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", BATCH)
        groups: dict[tuple, list] = {}
        for row in rows:
            key_ = (row["message_type"], row["receiver_unit"], row["receiver_lgcode"])
            if row["message_type"] == "ResidentMoveNotice":
                groups.setdefault(key_, []).append(row)
            else:
                groups[(*key_, row["id"])] = [row]
        for group_key, group in groups.items():
            message_type, unit, receiver_lgcode = group_key[:3]
            if message_type == "ResidentMoveNotice":
                body = ResidentMoveNotice(
                    moves=[ResidentMove.model_validate(r["payload"]) for r in group])
            else:
                body = MoveOutCertificate.model_validate(group[0]["payload"])
            message = build_message(body, sender_unit="residents_registry", sender_lgcode=lgcode,
                                    receiver_unit=unit, receiver_lgcode=receiver_lgcode)
            ids = [r["id"] for r in group]
            try:
                await client.publish(message, key)
            except Exception as exc:
                failed += len(group)
                await conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
                    " next_attempt_at = now() + least(interval '1 second' * power(2, attempts),"
                    " $3::interval) WHERE id = ANY($1::bigint[])",
                    ids, type(exc).__name__, timedelta(seconds=MAX_BACKOFF_S))
                continue
            sent += len(group)
            await conn.execute(
                "UPDATE outbox SET sent_at = now(), message_id = $2, attempts = attempts + 1,"
                " last_error = NULL WHERE id = ANY($1::bigint[])", ids, message.header.message_id)
    return (f"outbox relay sent {sent} and deferred {failed} record(s) in "
            f"{time.monotonic() - started:.2f} s")


async def outbox_relay(app: FastAPI) -> None:
    """Background task of residents_registry (does nothing when HUB_URL is unset)."""
    settings = app.state.settings
    if not settings.platform_enabled:
        log.info("HUB_URL unset: 住民異動通知 stay in the outbox table")
        return
    from municloud.platform import PlatformClient, SigningKey

    if settings.platform_signing_key_file is None:
        log.error("HUB_URL set but PLATFORM_SIGNING_KEY_FILE missing: outbox relay not started")
        return
    key = SigningKey.load(settings.platform_signing_key_file)
    async with PlatformClient(settings.hub_url) as client:
        while True:
            try:
                sentence = await drain_once(app.state.pool, settings.lgcode, client, key)
                if not sentence.startswith("outbox relay sent 0 and deferred 0"):
                    log.info(sentence)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("outbox relay: %s", type(exc).__name__)
            await asyncio.sleep(IDLE_S)
