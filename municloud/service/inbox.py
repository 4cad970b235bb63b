"""POST /api/v1/platform/inbox: the receiving end of the platform hub for every service.

Parses, schema-checks and verifies the signed XML (municloud.platform.receive_message), then
runs the service's handler for that message type exactly once (consume_once: the inbox row and
the handler's writes share one transaction). Refusals are signed Faults with a 4xx (the hub
dead-letters those); an unexpected failure is a 5xx (the hub retries)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response


log = logging.getLogger(__name__)

InboxHandler = Callable[[object, object, object], Awaitable[None]]  # (app, conn, message)
XML = "application/xml"


def make_inbox_router(handlers: dict[str, InboxHandler], *,
                      individual_number: frozenset[str]) -> APIRouter:
    """`individual_number`: the message types whose route may carry a 個人番号 to this unit
    (docs/platform.md routing table); any other message carrying one is refused with Fault
    individual-number-not-allowed (403), as the hub refuses it."""

    router = APIRouter(prefix="/platform", tags=["platform"])

    @router.post("/inbox", response_class=Response)
    async def inbox(request: Request) -> Response:
        from municloud import platform as p

        app = request.app
        settings = app.state.settings
        unit, lgcode = settings.service_name, settings.lgcode
        registry, key = getattr(app.state, "platform_registry", None), getattr(app.state, "platform_key", None)
        if registry is None or key is None:
            return Response(b"platform keys not configured", 503, media_type="text/plain")
        data = await request.body()

        def fault(exc: Exception, status: int) -> Response:
            # Addressed and correlated to the sender when its header could be read.
            return Response(p.make_fault(exc.code, exc.reason, key=key, unit=unit, lgcode=lgcode,
                                         path=exc.path, in_reply_to=exc.header),
                            status, media_type=XML)

        try:
            message = p.receive_message(data, registry, lgcode=lgcode, unit=unit)
        except p.PlatformError as exc:
            # exc.code is the platform's standard Fault code (unsafe, malformed, ...).
            return fault(exc, fault_status(exc))
        if message.carries_individual_number() and (
                message.header.message_type not in individual_number):
            refusal = p.IndividualNumberError(
                f"{message.header.message_type} to {unit} may not carry a 個人番号",
                header=message.header)
            return fault(refusal, fault_status(refusal))
        handler = handlers.get(message.header.message_type)
        if handler is None:
            return Response(p.make_fault("unsupported", f"{unit} does not accept "
                                         f"{message.header.message_type}", key=key, unit=unit,
                                         lgcode=lgcode, in_reply_to=message), 400, media_type=XML)

        async def run(conn, msg) -> None:
            await handler(app, conn, msg)

        try:
            async with app.state.pool.acquire() as conn:
                applied = await p.consume_once(conn, message, run)
        except p.ReplayError as exc:
            return fault(exc, fault_status(exc))
        log.info("inbox %s %s %s", message.header.message_type, message.header.message_id,
                 "applied" if applied else "duplicate")
        return Response(p.make_ack(message, key, unit=unit, lgcode=lgcode), 200, media_type=XML)

    return router


def fault_status(exc) -> int:
    """HTTP status of an inbox refusal (docs/platform.md, "Inbox"): 413 over the size limit,
    403 signature or a 個人番号 the route may not carry, 409 replayed id with other content, 400 every other refusal."""
    from municloud import platform as p

    if isinstance(exc, p.OversizeMessageError):
        return 413
    if isinstance(exc, (p.SignatureError, p.IndividualNumberError)):
        return 403
    if isinstance(exc, p.ReplayError):
        return 409
    return 400


def load_platform_keys(app) -> None:
    """Load this unit's signing key and the public key registry, when configured."""
    settings = app.state.settings
    app.state.platform_key = app.state.platform_registry = None
    if settings.platform_signing_key_file is not None:
        from municloud.platform import SigningKey

        app.state.platform_key = SigningKey.load(settings.platform_signing_key_file)
    if settings.platform_keys_file is not None:
        from municloud.platform import WatchedKeyRegistry

        app.state.platform_registry = WatchedKeyRegistry(settings.platform_keys_file)
