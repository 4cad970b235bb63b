"""Transactional outbox: `enqueue` in the caller's transaction, a relay publishes to the hub.

Nothing is published that was not committed, nothing committed is lost. The relay claims
pending rows with FOR UPDATE SKIP LOCKED (replicas may run it side by side), merges consecutive
bodies of a batch type (Body.batch_field, e.g. 住民異動通知) to the same receiver into one
message, publishes, and marks rows sent in the same
transaction; a failure leaves them pending with exponential backoff (at-least-once; receivers
consume once by message id). With HUB_URL unset rows stay in the table (GET /api/v1/outbox)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg
from fastapi import FastAPI

from municloud.platform.models import BODY_TYPES, Body

log = logging.getLogger(__name__)

BATCH = 200
IDLE_S = 0.5
MAX_BACKOFF_S = 300
#: How long a refusal that means "the hub does not know this yet" is retried before the rows are
#: set aside. When a member joins (or a key or route is added), the hub loads its new routing
#: table and key registry a little after the member's services start (docs/operator-guide.md
#: "Members joining and leaving"): a first message sent in between is refused for a reason the next
#: reload removes, and must not be lost for it.
CONFIG_LAG_S = 600


def awaits_hub_configuration(fault) -> bool:
    """A refusal the hub's next configuration reload can lift: a municipality or route it does not
    know yet, or a signing key it has not loaded yet. Every other 4xx Fault is final."""
    return (fault.code in ("wrong-municipality", "route-unauthorised")
            or (fault.code == "signature-invalid" and fault.path == "/Envelope/Signature/@keyId"))


def body_type(message_type: str) -> type[Body]:
    """The platform body class of a queued row's ``message_type``."""
    try:
        return BODY_TYPES[message_type]
    except KeyError:
        raise ValueError(f"outbox message_type {message_type!r} is not a platform body type"
                         f" (known: {', '.join(sorted(BODY_TYPES))})") from None


async def enqueue(conn: asyncpg.Connection, body: Body, *, receiver_unit: str, receiver_lgcode: str,
                  correlation_id: uuid.UUID | None = None, source_ref: str | None = None) -> int:
    """Queue any platform body (a municloud.platform.models Body) inside the caller's transaction."""
    message_type = getattr(type(body), "message_type", None)
    if not isinstance(body, Body) or BODY_TYPES.get(message_type) is not type(body):
        raise TypeError(f"{type(body).__name__} is not a platform body type"
                        f" (known: {', '.join(sorted(BODY_TYPES))})")
    return await conn.fetchval(
        "INSERT INTO outbox (message_type, receiver_unit, receiver_lgcode, correlation_id,"
        " source_ref, payload) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        message_type, receiver_unit, receiver_lgcode, correlation_id, source_ref,
        json.dumps(body.model_dump(mode="json"), ensure_ascii=False))


def batch_limit(cls: type[Body]) -> int:
    """How many records one message of a batch body type may carry (its field's max_length)."""
    limits = [m.max_length for m in cls.model_fields[cls.batch_field].metadata
              if getattr(m, "max_length", None) is not None]
    return min(limits) if limits else BATCH


def _joins(group: list, row) -> bool:
    """Whether ``row`` may travel in the same message as ``group`` (a batch body type, the same
    receiver and correlation, equal in every field but the batch, within the batch limit)."""
    last = group[-1]
    cls = body_type(row["message_type"])
    field = cls.batch_field
    if field is None or any(last.get(k) != row.get(k) for k in
                            ("message_type", "receiver_unit", "receiver_lgcode", "correlation_id")):
        return False
    payloads = [json.loads(r["payload"]) for r in (*group, row)]
    rest = [{k: v for k, v in p.items() if k != field} for p in payloads]
    return (all(r == rest[0] for r in rest)
            and sum(len(p.get(field) or []) for p in payloads) <= batch_limit(cls))


def _groups(rows: list) -> list[list]:
    groups: list[list] = []
    for row in rows:
        if groups and _joins(groups[-1], row):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _body(group: list) -> Body:
    cls = body_type(group[0]["message_type"])
    payloads = [json.loads(r["payload"]) for r in group]
    merged = payloads[0]
    if len(payloads) > 1:
        merged[cls.batch_field] = [item for p in payloads for item in p[cls.batch_field]]
    return cls.model_validate(merged)


async def _defer(conn: asyncpg.Connection, ids: list[int], exc: Exception, reason: str | None = None) -> None:
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
        " next_attempt_at = now() + least(interval '1 second' * power(2, attempts),"
        " $3::interval) WHERE id = ANY($1::bigint[])",
        ids, (reason or type(exc).__name__)[:500], timedelta(seconds=MAX_BACKOFF_S))


async def drain_once(pool: asyncpg.Pool, unit: str, lgcode: str, client, key) -> tuple[int, int]:
    """Publish what is pending; return (rows sent, rows deferred)."""
    from municloud.platform import FaultError, build_message

    sent = failed = 0
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT * FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL"
            " AND next_attempt_at <= now()"
            " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", BATCH)
        for group in _groups(rows):
            first = group[0]
            message = build_message(_body(group), sender_unit=unit, sender_lgcode=lgcode,
                                    receiver_unit=first["receiver_unit"],
                                    receiver_lgcode=first["receiver_lgcode"],
                                    correlation_id=first["correlation_id"])
            ids = [r["id"] for r in group]
            try:
                await client.publish(message, key)
            except FaultError as exc:
                refused = 400 <= (exc.status_code or 0) < 500
                age_s = (datetime.now(timezone.utc) - first["created_at"]).total_seconds()
                waiting = refused and age_s < CONFIG_LAG_S and awaits_hub_configuration(exc.fault)
                failed += len(group)
                if refused and not waiting:
                    await conn.execute(
                        "UPDATE outbox SET attempts = attempts + 1, dead_at = now(),"
                        " last_error = $2 WHERE id = ANY($1::bigint[])",
                        ids, f"fault {exc.fault.code}: {exc.fault.reason}"[:500])
                    log.error("hub refused %s (%s): %d outbox row(s) set aside",
                              first["message_type"], exc.fault.code, len(group))
                    continue
                reason = f"fault {exc.fault.code}: {exc.fault.reason}"
                if waiting:
                    reason += " (retried while the hub's configuration catches up)"
                    log.warning("hub does not know %s yet (%s): %d outbox row(s) retried", first["message_type"],
                                exc.fault.code, len(group))
                await _defer(conn, ids, exc, reason)
                continue
            except Exception as exc:
                failed += len(group)
                await _defer(conn, ids, exc)
                continue
            sent += len(group)
            await conn.execute(
                "UPDATE outbox SET sent_at = now(), message_id = $2, attempts = attempts + 1,"
                " last_error = NULL WHERE id = ANY($1::bigint[])", ids, message.header.message_id)
    return sent, failed


async def outbox_relay(app: FastAPI) -> None:
    """Background task of every service; does nothing when HUB_URL is unset."""
    settings = app.state.settings
    if not settings.platform_enabled:
        log.info("HUB_URL unset: platform messages stay in the outbox table")
        return
    if not settings.outbox_relay:
        log.info("OUTBOX_RELAY=false: this replica does not drain the outbox")
        return
    if app.state.platform_key is None:
        log.error("HUB_URL set but PLATFORM_SIGNING_KEY_FILE missing: outbox relay not started")
        return
    from municloud.platform import PlatformClient

    async with PlatformClient(settings.hub_url) as client:
        while True:
            started = time.monotonic()
            try:
                sent, failed = await drain_once(app.state.pool, settings.service_name,
                                                settings.lgcode, client, app.state.platform_key)
                if sent or failed:
                    log.info("outbox relay sent %d and deferred %d record(s) in %.2f s",
                             sent, failed, time.monotonic() - started)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("outbox relay: %s", type(exc).__name__)
            await asyncio.sleep(IDLE_S)
