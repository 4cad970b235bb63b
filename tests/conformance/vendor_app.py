"""A tiny vendor residents_registry endpoint for testing the conformance kit.

`make_vendor_app(mistakes=set())` behaves as the contract says (the kit must pass it);
each name in MISTAKES makes it get one thing wrong on purpose (the kit must catch it).
It keeps its data in memory and is only ever served on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path


from fastapi import FastAPI, Query, Request
from support.asgi import serve as serve_app
from fastapi.responses import JSONResponse, Response

from municloud import ids
from municloud.layout import encode, load_layout, validate
from municloud.layout.codec import LayoutIssue
from municloud.platform import (
    AddressError,
    IndividualNumberError,
    KeyRegistry,
    MalformedMessageError,
    Message,
    OversizeMessageError,
    PlatformError,
    ReplayError,
    SigningKey,
    SignatureError,
    UnsafeMessageError,
    check_freshness,
    make_ack,
    make_fault,
    parse_message,
)
from municloud.platform.safe_xml import parse_xml
from municloud.platform.signing import canonical_bytes

UNIT = "residents_registry"
# Message types whose route may carry a 個人番号 to the unit (docs/platform.md routing table).
NUMBER_ALLOWED = {"residents_registry": {"MoveOutCertificate"}, "nhi": {"ResidentMoveNotice"}}

# Mutant framework: each mutant breaks exactly one requirement; the value is the one check id
# that must catch it (tests/conformance/test_mutants.py proves it is caught by that check and
# by no other). MISTAKES is the same table.
MUTANTS: dict[str, str] = {
    "openapi-version-2": "API-001",
    "inbox-not-in-openapi": "API-002",
    "readyz-breaks-its-schema": "API-003",
    "error-body-nonstandard": "API-004",
    "ack-status-accepted": "MSG-001",
    "duplicate-faulted": "MSG-002",
    "schema-invalid-wrong-fault": "MSG-003",
    "fault-path-raw-libxml": "MSG-003",
    "unsafe-reported-as-malformed": "MSG-004",
    "malformed-answered-500": "MSG-005",
    "signature-value-not-verified": "MSG-006",
    "addressee-not-checked": "MSG-007",
    "inbox-demands-bearer": "MSG-008",
    "unsigned-accepted": "MSG-009",
    "signer-municipality-not-checked": "MSG-010",
    "signer-unit-not-checked": "MSG-011",
    "replay-acknowledged": "MSG-012",
    "timestamp-not-checked": "MSG-013",
    "no-size-limit": "MSG-014",
    "no-depth-limit": "MSG-015",
    "fault-not-correlated": "MSG-016",
    "utf8-export-with-bom": "LAY-001",
    "cp932-is-really-utf8": "LAY-002",
    "export-order-random": "LAY-003",
    "no-type-check": "LAY-004",
    "import-drops-previous-address": "LAY-005",
    "import-overwrites": "LAY-006",
    "row-count-header-off-by-one": "LAY-007",
    "row-count-header-ignored": "LAY-008",
    "no-check-digit-check": "LAY-009",
    "no-length-check": "LAY-010",
    "no-code-table-check": "LAY-011",
    "no-wareki-date-check": "LAY-012",
    "no-required-check": "LAY-013",
    "no-encoding-check": "LAY-014",
    "individual-number-accepted": "MSG-017",
    # a vendor hub (make_vendor_hub): the kit as a sender against POST /api/v1/messages
    "hub-ack-status-processed": "HUB-001",
    "hub-unsigned-accepted": "HUB-002",
    "hub-signer-municipality-not-checked": "HUB-003",
    "hub-replay-accepted": "HUB-004",
    "hub-timestamp-not-checked": "HUB-005",
    "hub-route-not-checked": "HUB-006",
    "hub-individual-number-not-checked": "HUB-007",
}
# The unit a mutant's vendor plays (residents_registry unless named): MSG-017 applies to nhi only.
MUTANT_UNITS: dict[str, str] = {"individual-number-accepted": "nhi",
                                **{m: "platform_hub" for m in MUTANTS if m.startswith("hub-")}}
# The vendor hub's routing table: (sender unit, message type, receiver unit) -> may carry 個人番号.
HUB_ROUTES = {("residents_registry", "ResidentMoveNotice", "platform_hub"): True,
              ("nhi", "IncomeInquiry", "tax"): True, ("tax", "IncomeInquiryResponse", "nhi"): False}
MISTAKES: dict[str, tuple[str, ...]] = {name: (check,) for name, check in MUTANTS.items()}
# A byte-identical round trip (LAY-005) presupposes a deterministic export (LAY-003): the mutant
# that breaks LAY-003 runs without an import target, so LAY-005 is "not run" for it.
NEEDS_NO_IMPORT_TARGET = frozenset({"export-order-random"})

# Layout rules a lax vendor skips: mutant -> the reason fragment of the issue it ignores.
_SKIPPED_RULES = {
    "no-type-check": "must be ASCII digits",
    "no-check-digit-check": "check digit",
    "no-length-check": "characters, at most",
    "no-code-table-check": "not a code of table",
    "no-wareki-date-check": "和暦 date",
    "no-required-check": "required item is empty",
}


def sample_rows(lgcode: str, count: int, unit: str = UNIT) -> list[dict[str, object]]:
    """Rows of the unit's layout: residents_registry's, or for nhi the same persons with no
    qualification, income or premium (those item groups empty)."""
    rows = _resident_rows(lgcode, count)
    if unit == UNIT:
        return rows
    layout = load_layout(unit)
    return [{i.key: row.get(i.key) for i in layout.items} for row in rows]


def _resident_rows(lgcode: str, count: int) -> list[dict[str, object]]:
    rng = random.Random(count)
    rows = []
    for serial in range(1, count + 1):
        head = serial % 3 == 1
        rows.append({
            "atena_number": ids.new_atena_number(lgcode, serial),
            "household_number": ids.new_household_number(lgcode, (serial + 2) // 3),
            "resident_record_code": ids.resident_record_code_for_serial(lgcode, serial),
            "my_number": ids.generate_my_number(rng) if serial % 4 else None,
            "family_name": "高橋", "given_name": ("一郎", "花子", "=SUM(A1)")[serial % 3],
            "family_name_kana": "タカハシ", "given_name_kana": "イチロウ",
            "birth_date": dt.date(1930 + serial, 1 + serial % 12, 1 + serial % 28),
            "sex": "1" if serial % 2 else "2", "relationship": "世帯主" if head else "子",
            "status": "1", "status_date": None, "next_address": None, "next_lgcode": None,
            "resident_since": dt.date(1989, 1, 8), "address": "秋田県鹿角郡小坂町小坂１番地",
            "address_since": dt.date(2019, 5, 1), "notified_on": dt.date(2019, 5, 7),
            "previous_address": None if serial % 2 else "青森県弘前市－１", "move_reason": "01",
            "moved_on": dt.date(2019, 5, 1),
        })
    return rows


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "field": None, "message": message}}, status)


def make_vendor_app(*, lgcode: str, token: str, key: SigningKey, registry: KeyRegistry,
                    rows: list[dict[str, object]], mistakes: frozenset[str] = frozenset(),
                    unit: str = UNIT) -> FastAPI:
    unknown = mistakes - MISTAKES.keys()
    if unknown:
        raise ValueError(f"unknown mistakes {sorted(unknown)}")
    layout = load_layout(unit)
    app = FastAPI(title=f"vendor {unit}", version="0.0.1")
    if "openapi-version-2" in mistakes:
        app.openapi_version = "2.0"
    state: dict = {"rows": list(rows), "seen": {}}

    def authorised(request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") == f"Bearer {token}":
            return None
        if "error-body-nonstandard" in mistakes:
            return JSONResponse({"detail": "Not authenticated"}, 401)
        return _error(401, "unauthorized", "missing or invalid bearer token")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", responses={200: {"content": {"application/json": {"schema": {
        "type": "object", "required": ["status"],
        "properties": {"status": {"type": "string"}}}}}}})
    def readyz() -> JSONResponse:
        body = {"ready": True} if "readyz-breaks-its-schema" in mistakes else {"status": "ok"}
        return JSONResponse(body)

    def fault(exc: PlatformError, status: int, code: str | None = None) -> Response:
        header = None if "fault-not-correlated" in mistakes else exc.header
        path = exc.path
        if "fault-path-raw-libxml" in mistakes and path:
            path = "/" + "/".join("*" for _ in path.strip("/").split("/"))  # libxml's '/*/*/*'
        data = make_fault(code or exc.code, exc.reason, key=key, unit=unit, lgcode=lgcode,
                          path=path, in_reply_to=header)
        return Response(data, status, media_type="application/xml")

    def verify(data: bytes) -> Message:
        """parse + signature rules, each of which a mutant may skip."""
        limits = {"max_bytes": 1 << 26} if "no-size-limit" in mistakes else {}
        if "no-depth-limit" in mistakes:
            limits["max_depth"] = 1000
        message = parse_message(data, require_signature=False, **limits)
        header = message.header
        try:
            if message.signature is None:
                if "unsigned-accepted" in mistakes:
                    return message
                raise SignatureError("message is not signed", path="/Envelope/Signature")
            owner = registry._keys.get(message.key_id)
            lg = owner.lgcode if owner and "signer-municipality-not-checked" in mistakes else None
            un = owner.unit if owner and "signer-unit-not-checked" in mistakes else None
            signed = canonical_bytes(parse_xml(data, **limits))
            if "signature-value-not-verified" in mistakes and owner:
                signed = None
            if signed is None:
                if (owner.lgcode, owner.unit) != (header.sender_lgcode, header.sender_unit.value):
                    raise SignatureError("key of someone else", path="/Envelope/Signature/@keyId")
                return message
            registry.verify(message.key_id, message.signature, signed,
                            lgcode=lg or header.sender_lgcode, unit=un or header.sender_unit.value)
        except PlatformError as exc:
            exc.header = header
            raise
        return message

    @app.post("/api/v1/platform/inbox",
              include_in_schema="inbox-not-in-openapi" not in mistakes)
    async def inbox(request: Request) -> Response:
        if "inbox-demands-bearer" in mistakes and (
                request.headers.get("authorization") != f"Bearer {token}"):
            return _error(401, "unauthorized", "missing or invalid bearer token")
        data = await request.body()
        try:
            message = verify(data)
            if "timestamp-not-checked" not in mistakes:
                check_freshness(message.header)
            if ("addressee-not-checked" not in mistakes
                    and message.header.receiver_lgcode != lgcode):
                raise AddressError("not for this municipality",
                                   path="/Envelope/Header/ReceiverLgcode", header=message.header)
        except SignatureError as exc:
            return fault(exc, 403)
        except UnsafeMessageError as exc:
            wrong = "unsafe-reported-as-malformed" in mistakes and "DTD" in exc.reason
            return fault(exc, 413 if isinstance(exc, OversizeMessageError) else 400,
                         "malformed" if wrong else None)
        except MalformedMessageError as exc:
            if "malformed-answered-500" in mistakes:
                return fault(exc, 500, "internal")
            return fault(exc, 400)
        except PlatformError as exc:
            if exc.code == "schema-invalid" and "schema-invalid-wrong-fault" in mistakes:
                return fault(exc, 500, "internal")
            return fault(exc, 400)
        if (message.carries_individual_number() and "individual-number-accepted" not in mistakes
                and message.header.message_type not in NUMBER_ALLOWED[unit]):
            return fault(IndividualNumberError("route may not carry a 個人番号",
                                               header=message.header), 403)
        message_id = message.header.message_id
        seen = state["seen"].get(message_id)
        if seen == message.content_sha256 and "duplicate-faulted" in mistakes:
            return fault(PlatformError("duplicate message id"), 409, "duplicate")
        if (seen is not None and seen != message.content_sha256
                and "replay-acknowledged" not in mistakes):
            return fault(ReplayError("message id already received with other content",
                                     path="/Envelope/Header/MessageId", header=message.header), 409)
        state["seen"].setdefault(message_id, message.content_sha256)
        status = "accepted" if "ack-status-accepted" in mistakes else "processed"
        return Response(make_ack(message, key, unit=unit, lgcode=lgcode, status=status),
                        media_type="application/xml")

    @app.post("/_reset", include_in_schema=False)
    def reset() -> dict[str, int]:
        """Test hook of this fake vendor: empty the municipality (--import-reset-command)."""
        state["rows"] = []
        return {"rows": 0}

    @app.get("/api/v1/layout/export", response_class=Response,
             responses={200: {"content": {"text/csv": {}}}})
    def export(request: Request, encoding: str = Query("utf-8")) -> Response:
        if denied := authorised(request):
            return denied
        rows = list(state["rows"])
        if "export-order-random" in mistakes:
            random.shuffle(rows)
        wire = "utf-8" if "cp932-is-really-utf8" in mistakes else encoding
        data = encode(layout, rows, encoding=wire,
                      bom=encoding == "utf-8" and "utf8-export-with-bom" in mistakes)
        count = len(rows) + (1 if "row-count-header-off-by-one" in mistakes else 0)
        return Response(data, media_type=f"text/csv; charset={encoding}",
                        headers={"X-Layout-Rows": str(count)})

    @app.post("/api/v1/layout/import")
    async def import_(request: Request, encoding: str = Query("utf-8")) -> JSONResponse:
        if denied := authorised(request):
            return denied
        data = await request.body()
        if "cp932-is-really-utf8" in mistakes:
            encoding = "utf-8"
        if "no-encoding-check" in mistakes:
            data = data.decode(encoding, errors="replace").encode(encoding, errors="replace")
        report, good = validate(layout, data, encoding=encoding)
        report.issues = [i for i in report.issues if not any(
            mutant in mistakes and fragment in i.reason
            for mutant, fragment in _SKIPPED_RULES.items())]
        declared = request.headers.get("x-layout-rows")
        if (declared is not None and declared != str(report.rows)
                and "row-count-header-ignored" not in mistakes):
            report.issues.append(LayoutIssue(0, None, "X-Layout-Rows differs from the rows"))
        if not report.valid:
            body = {"error": {"code": "layout-invalid", "field": None,
                              "message": report.summary()}, "report": report.to_dict()}
            return JSONResponse(body, 422)
        if state["rows"] and "import-overwrites" not in mistakes:
            return _error(409, "not_empty", "municipality already holds residents")
        rows = good
        if "import-drops-previous-address" in mistakes:
            rows = [{**r, "previous_address": None} for r in rows]
        state["rows"] = rows
        return JSONResponse({"area": layout.area, "rows": len(rows),
                             "message": f"imported {len(rows)} rows"})

    return app


def serve(app: FastAPI):
    """Serve `app` in this process on a free 127.0.0.1 port (the one harness, support.asgi)."""
    return serve_app(app, name="vendor-fixture", startup_timeout_s=10, log_level="error")


def make_vendor_hub(*, key: SigningKey, registry: KeyRegistry,
                    mistakes: frozenset[str] = frozenset()) -> FastAPI:
    """A tiny vendor hub: verify, check freshness and route, remember ids, answer 202 + Ack
    accepted; each hub-* mutant skips one of those (the kit must catch it)."""
    app = FastAPI(title="vendor platform_hub", version="0.0.1")
    seen: dict = {}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def fault(exc: PlatformError, status: int) -> Response:
        header = exc.header
        lgcode = header.receiver_lgcode if header else "053031"
        return Response(make_fault(exc.code, exc.reason, key=key, unit="platform_hub",
                                   lgcode=lgcode, path=exc.path, in_reply_to=header),
                        status, media_type="application/xml")

    @app.post("/api/v1/messages")
    async def messages(request: Request) -> Response:
        data = await request.body()
        try:
            message = parse_message(data, require_signature=False)
            h = message.header
            try:
                if message.signature is None and "hub-unsigned-accepted" not in mistakes:
                    raise SignatureError("message is not signed", path="/Envelope/Signature")
                if message.signature is not None:
                    owner = registry._keys.get(message.key_id)
                    lg = (owner.lgcode if owner and "hub-signer-municipality-not-checked"
                          in mistakes else h.sender_lgcode)
                    registry.verify(message.key_id, message.signature,
                                    canonical_bytes(parse_xml(data)), lgcode=lg,
                                    unit=h.sender_unit.value)
            except PlatformError as exc:
                exc.header = h
                raise
            if "hub-timestamp-not-checked" not in mistakes:
                check_freshness(h)
            route = (h.sender_unit.value, h.message_type, h.receiver_unit.value)
            if route not in HUB_ROUTES and "hub-route-not-checked" not in mistakes:
                refusal = PlatformError("no such route", path="/Envelope/Header/MessageType",
                                        header=h)
                refusal.code = "route-unauthorised"
                return fault(refusal, 403)
            if (message.carries_individual_number() and not HUB_ROUTES.get(route, True)
                    and "hub-individual-number-not-checked" not in mistakes):
                return fault(IndividualNumberError("route may not carry a 個人番号", header=h), 403)
        except SignatureError as exc:
            return fault(exc, 403)
        except PlatformError as exc:
            return fault(exc, 400)
        stored = seen.setdefault(h.message_id, data)
        if stored != data and "hub-replay-accepted" not in mistakes:
            return fault(ReplayError("other bytes under this id", header=h,
                                     path="/Envelope/Header/MessageId"), 409)
        status = "processed" if "hub-ack-status-processed" in mistakes else "accepted"
        return Response(make_ack(message, key, unit="platform_hub", lgcode=h.receiver_lgcode,
                                 status=status), 202, media_type="application/xml")

    return app


def vendor_keys(folder: Path, lgcode: str, peer: str, unit: str = UNIT) -> dict[str, object]:
    """The kit's sender key registered at the vendor (residents_registry: as residents_registry
    of `peer`; nhi: as residents_registry of `lgcode`, plus a tax key for --responder-key) and the
    vendor's own key (given to the kit as --unit-keys)."""
    sender_lgcode = peer if unit == UNIT else lgcode
    own_lgcode = "*" if unit == "platform_hub" else lgcode  # the hub's key is registered for all
    kit_key = SigningKey.generate(f"kit-{sender_lgcode}-{UNIT}")
    (folder / f"{kit_key.key_id}.key").write_bytes(kit_key.private_pem())
    responder = SigningKey.generate(f"kit-{lgcode}-tax")
    (folder / f"{responder.key_id}.key").write_bytes(responder.private_pem())
    vendor_key = SigningKey.generate(f"vendor-{lgcode}-{unit}")
    trusted = KeyRegistry()
    trusted.add_signing_key(kit_key, lgcode=sender_lgcode, unit=UNIT)
    trusted.add_signing_key(responder, lgcode=lgcode, unit="tax")
    unit_keys = KeyRegistry()
    unit_keys.add_signing_key(vendor_key, lgcode=own_lgcode, unit=unit)
    (folder / "unit_keys.yaml").write_text(unit_keys.to_yaml())
    return {"folder": folder, "kit_key_file": folder / f"{kit_key.key_id}.key",
            "responder_key_file": folder / f"{responder.key_id}.key",
            "vendor_key": vendor_key, "trusted": trusted}
