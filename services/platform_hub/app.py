"""FastAPI app of the platform hub. `create_app(settings)`; nothing is built at import time."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from municloud.platform.envelope import check_freshness, parse_message
from municloud.platform.json_binding import message_to_json, parse_message_json
from municloud.platform.errors import (
    AddressError, InvalidMessageError, MalformedMessageError, OversizeMessageError, PlatformError, SignatureError,
    UnsafeMessageError,
)
from municloud.platform.models import AckStatus, Header, Message
from municloud.platform.replies import make_ack, make_fault
from municloud.service.app import create_kit_app
from municloud.service.contract import install_contract
from municloud.service.errors import not_found
from municloud.service.inbox import SIGNED_MESSAGE_BODY, XML_TEXT
from services.platform_hub import hot_files
from services.platform_hub import message_log
from services.platform_hub.delivery import DeliveryWorker, delivery_session
from services.platform_hub.routing import RouteRefusal
from services.platform_hub.settings import HubSettings
from services.platform_hub.store import DuplicateMessageError, store_message

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
XML = "application/xml"
JSON = "application/json"
HUB_UNIT = "platform_hub"


async def get_settings(request: Request) -> HubSettings:
    return request.app.state.settings


SettingsDep = Annotated[HubSettings, Depends(get_settings)]
router = APIRouter()  # under /api/v1 (municloud.service.app)

#: What POST /messages answers (docs/platform.md, "Hub"): a signed Ack or Fault in XML (the REST/JSON
#: binding answers the same in JSON; it is not in the document). No staff token: the message's
#: signature authenticates its sender, and the hub's API is served only on the gateway's internal
#: listener (docs/security.md).
MESSAGES_RESPONSES = {
    202: {"description": "signed Ack, status accepted: stored durably (or an identical replay)",
          "content": XML_TEXT},
    400: {"description": "signed Fault: unsafe, malformed, schema-invalid or stale message", "content": XML_TEXT},
    403: {"description": "signed Fault: bad signature, unauthorised route, wrong municipality or a "
                         "個人番号 the route may not carry", "content": XML_TEXT},
    409: {"description": "signed Fault: duplicate-message-id (the id again with other content)",
          "content": XML_TEXT},
    413: {"description": "signed Fault: over the size limit", "content": XML_TEXT},
}
MESSAGES_OPENAPI = {"requestBody": SIGNED_MESSAGE_BODY, "x-json-errors": []}


class Delivery(BaseModel):
    subscriber_lgcode: str
    subscriber_unit: str
    status: str
    """pending | delivered | dead"""
    attempts: int
    last_error: str | None


class Deliveries(BaseModel):
    message_id: uuid.UUID
    deliveries: list[Delivery]


class LogReport(BaseModel):
    """The message log's hash chain, recomputed (services/platform_hub/message_log.py)."""

    ok: bool
    rows: int
    head_hash: str | None
    broken_at: int | None
    sentence: str


def _status_for(exc: PlatformError) -> int:
    if isinstance(exc, OversizeMessageError):
        return 413
    if isinstance(exc, (UnsafeMessageError, MalformedMessageError, InvalidMessageError)):
        return 400
    if isinstance(exc, (SignatureError, RouteRefusal, AddressError)):
        return 403
    return 400


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise OversizeMessageError(f"message is {declared} bytes, limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise OversizeMessageError(f"message is over {limit} bytes, limit is {limit}")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/messages", response_class=Response, status_code=202, responses=MESSAGES_RESPONSES,
             openapi_extra=MESSAGES_OPENAPI)
async def receive(request: Request, settings: SettingsDep) -> Response:
    """Verify, authorise, store durably, then answer a signed Ack (202) or a Fault (4xx)."""
    state = request.app.state
    message: Message | None = None
    as_json = request.headers.get("content-type", "").split(";")[0].strip() == JSON
    try:
        raw = await _read_limited(request, settings.max_message_bytes)
        if as_json:  # REST/JSON binding: same checks; stored and forwarded as the signed XML
            message, raw = parse_message_json(raw, registry=state.registry, max_bytes=settings.max_message_bytes)
        else:
            message = parse_message(raw, registry=state.registry, max_bytes=settings.max_message_bytes)
        check_freshness(message.header)
        route, subscribers = state.routes.authorise(message)
        async with state.pool.acquire() as conn:
            stored = await store_message(conn, message, raw, route, subscribers)
    except PlatformError as exc:
        header = message.header if message else exc.header  # read before the refusal, or not at all
        return _fault(state, exc.code, exc.reason, exc.path, header, _status_for(exc), as_json)
    except DuplicateMessageError as exc:
        return _fault(state, "duplicate-message-id", str(exc), "/Envelope/Header/MessageId", message.header, 409,
                      as_json)
    if stored:
        state.worker.wake.set()
    ack = make_ack(message, state.signing_key, unit=HUB_UNIT, lgcode=message.header.receiver_lgcode,
                   status=AckStatus.ACCEPTED)
    return _reply(ack, 202, as_json)


def _reply(signed_xml: bytes, status: int, as_json: bool) -> Response:
    if not as_json:
        return Response(signed_xml, status_code=status, media_type=XML)
    return JSONResponse(message_to_json(parse_message(signed_xml)), status_code=status)


def _fault(state, code: str, reason: str, path: str | None, header: Header | None, status: int,
           as_json: bool = False) -> Response:
    log.info("refused message %s: %s (%s)", header.message_id if header else "-", code, path or "-")
    lgcode = header.receiver_lgcode if header else state.routes.municipalities[0]
    body = make_fault(code, reason, key=state.signing_key, unit=HUB_UNIT, lgcode=lgcode, path=path,
                      in_reply_to=header, receiver_unit=HUB_UNIT, receiver_lgcode=lgcode)
    return _reply(body, status, as_json)


@router.get("/messages/{message_id}/deliveries", response_model=Deliveries,
            openapi_extra={"x-json-errors": [404, 422]})
async def deliveries(message_id: uuid.UUID, request: Request) -> JSONResponse:
    async with request.app.state.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT subscriber_lgcode, subscriber_unit, status, attempts, last_error FROM deliveries"
            " WHERE message_id = $1 ORDER BY id", message_id,
        )
    if not rows:
        raise not_found(f"message {message_id}", "message_id")
    return JSONResponse({"message_id": str(message_id), "deliveries": [dict(r) for r in rows]})


@router.get("/log/verify", response_model=LogReport,
            responses={409: {"model": LogReport, "description": "the chain is broken (at `broken_at`)"}},
            openapi_extra={"x-json-errors": []})
async def verify_log(request: Request) -> JSONResponse:
    async with request.app.state.pool.acquire() as conn:
        report = await message_log.verify_chain(conn)
    return JSONResponse(report.as_dict(), 200 if report.ok else 409)


async def delivery(app: FastAPI) -> None:
    """Background task: the delivery worker (opened with the app's resources)."""
    await app.state.worker.run_forever()


def create_app(settings: HubSettings | None = None) -> FastAPI:
    """The hub on the service kit (municloud.service.app.create_kit_app): settings, logging,
    health, JSON errors, pool, migrations and the reload check are the kit's; the message
    endpoints, the routing table and the delivery worker are the hub's."""
    settings = settings or HubSettings()

    @contextlib.asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        http = delivery_session(settings.delivery_connections)
        app.state.worker = DeliveryWorker(app.state.pool, settings, http)
        try:
            yield
        finally:
            await http.close()

    app = create_kit_app(settings, title="municloud platform hub", routers=[router],
                         migrations=[(MIGRATIONS, HUB_UNIT)], resources=resources,
                         background=[delivery], hot=hot_files.HOT_FILES)
    app.state.signing_key = settings.signing_key()
    app.state.registry = settings.key_registry()
    app.state.routes = settings.routing_table()
    install_contract(app, bearer=False)  # the error answers in the OpenAPI: municloud/service/contract.py
    return app
