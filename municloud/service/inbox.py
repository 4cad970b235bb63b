"""POST /api/v1/platform/inbox: the receiving end of the platform hub for every service.

Parses, schema-checks and verifies the signed XML (municloud.platform.receive_message), then
runs the service's handler for that message type exactly once (consume_once: the inbox row and
the handler's writes share one transaction). Refusals are signed Faults with a 4xx (the hub
dead-letters those); an unexpected failure is a 5xx (the hub retries)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response

from municloud.service.errors import ApiError

log = logging.getLogger(__name__)

InboxHandler = Callable[[object, object, object], Awaitable[None]]  # (app, conn, message)
XML = "application/xml"
#: a signed platform message or reply in XML, as the OpenAPI describes it (the inbox, the hub)
XML_TEXT = {XML: {"schema": {"type": "string"}}}
#: What the inbox answers (docs/platform.md, "Inbox"): a signed Ack or Fault in XML, and the kit's
#: JSON error only when the unit cannot receive at all (no platform keys, database down).
INBOX_RESPONSES = {
    200: {"description": "signed Ack (applied, or a duplicate of an applied message)", "content": XML_TEXT},
    400: {"description": "signed Fault: malformed, invalid, stale, misaddressed or unsupported message",
          "content": XML_TEXT},
    403: {"description": "signed Fault: bad signature, or a 個人番号 this route may not carry",
          "content": XML_TEXT},
    409: {"description": "signed Fault: a replayed message id with other content", "content": XML_TEXT},
    413: {"description": "signed Fault: over the size limit", "content": XML_TEXT},
}
#: the request body is a platform message signed by its sender (no bearer token: the signature
#: authenticates it); only JSON error the kit adds: 503 (municloud/service/contract.py)
SIGNED_MESSAGE_BODY = {"required": True, "content": {XML: {"schema": {
    "type": "string", "format": "binary",
    "description": "a platform message (Envelope) signed by its sender, docs/platform.md"}}}}
INBOX_OPENAPI = {"requestBody": SIGNED_MESSAGE_BODY, "x-json-errors": [503]}


def make_inbox_router(handlers: dict[str, InboxHandler], *,
                      individual_number: frozenset[str]) -> APIRouter:
    """`individual_number`: the message types whose route may carry a 個人番号 to this unit
    (docs/platform.md routing table); any other message carrying one is refused with Fault
    individual-number-not-allowed (403), as the hub refuses it."""

    router = APIRouter(prefix="/platform", tags=["platform"])

    @router.post("/inbox", response_class=Response, responses=INBOX_RESPONSES,
                 openapi_extra=INBOX_OPENAPI)
    async def inbox(request: Request) -> Response:
        from municloud import platform as p

        app = request.app
        settings = app.state.settings
        unit, lgcode = settings.service_name, settings.lgcode
        registry, key = getattr(app.state, "platform_registry", None), getattr(app.state, "platform_key", None)
        if registry is None or key is None:
            raise ApiError(503, "platform_keys_missing", "this unit has no platform keys configured "
                           "(PLATFORM_SIGNING_KEY_FILE, PLATFORM_KEYS_FILE)")
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
