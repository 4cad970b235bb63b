"""A tiny vendor residents_registry endpoint for testing the conformance kit.

`make_vendor_app(mistakes=set())` behaves as the contract says (the kit must pass it);
each name in MISTAKES makes it get one thing wrong on purpose (the kit must catch it).
It keeps its data in memory and is only ever served on 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import random

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from municloud import ids
from municloud.layout import decode, encode, load_layout, validate
from municloud.platform import (
    AddressError,
    KeyRegistry,
    PlatformError,
    SigningKey,
    SignatureError,
    UnsafeMessageError,
    make_ack,
    make_fault,
    parse_message,
    receive_message,
)

UNIT = "residents_registry"
LAYOUT = load_layout("住民基本台帳")

# mistake → the checks that must catch it
MISTAKES: dict[str, tuple[str, ...]] = {
    "inbox-not-in-openapi": ("API-002",),
    "readyz-breaks-its-schema": ("API-003",),
    "error-body-nonstandard": ("API-004",),
    "duplicate-faulted": ("MSG-002",),
    "schema-invalid-wrong-fault": ("MSG-003",),
    "unsafe-reported-as-malformed": ("MSG-004",),
    "signature-not-checked": ("MSG-006",),
    "addressee-not-checked": ("MSG-007",),
    # the round trip imports the cp932 export, so it breaks too
    "cp932-export-with-bom": ("LAY-002", "LAY-005"),
    "import-keeps-good-rows": ("LAY-004",),
    "import-drops-notified-on": ("LAY-005",),
}


def sample_rows(lgcode: str, count: int) -> list[dict[str, object]]:
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
                    rows: list[dict[str, object]], mistakes: frozenset[str] = frozenset()
                    ) -> FastAPI:
    unknown = mistakes - MISTAKES.keys()
    if unknown:
        raise ValueError(f"unknown mistakes {sorted(unknown)}")
    app = FastAPI(title=f"vendor {UNIT}", version="0.0.1")
    state = {"rows": list(rows), "seen": set()}

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
        data = make_fault(code or exc.code, exc.reason, key=key, unit=UNIT, lgcode=lgcode,
                          path=exc.path)
        return Response(data, status, media_type="application/xml")

    @app.post("/api/v1/platform/inbox",
              include_in_schema="inbox-not-in-openapi" not in mistakes)
    async def inbox(request: Request) -> Response:
        data = await request.body()
        try:
            if mistakes & {"signature-not-checked", "addressee-not-checked"}:
                trusted = None if "signature-not-checked" in mistakes else registry
                message = parse_message(data, registry=trusted)
                if ("addressee-not-checked" not in mistakes
                        and message.header.receiver_lgcode != lgcode):
                    raise AddressError("not for this municipality",
                                       path="/Envelope/Header/ReceiverLgcode")
            else:
                message = receive_message(data, registry, lgcode=lgcode, unit=UNIT)
        except SignatureError as exc:
            return fault(exc, 403)
        except UnsafeMessageError as exc:
            wrong = "unsafe-reported-as-malformed" in mistakes
            return fault(exc, 400, "malformed" if wrong else None)
        except AddressError as exc:
            return fault(exc, 400)
        except PlatformError as exc:
            if exc.code == "schema-invalid" and "schema-invalid-wrong-fault" in mistakes:
                return fault(exc, 500, "internal")
            return fault(exc, 400)
        message_id = message.header.message_id
        if message_id in state["seen"] and "duplicate-faulted" in mistakes:
            return fault(PlatformError("duplicate message id"), 409, "duplicate")
        state["seen"].add(message_id)
        return Response(make_ack(message, key, unit=UNIT, lgcode=lgcode),
                        media_type="application/xml")

    @app.get("/api/v1/layout/export", response_class=Response,
             responses={200: {"content": {"text/csv": {}}}})
    def export(request: Request, encoding: str = Query("utf-8")) -> Response:
        if denied := authorised(request):
            return denied
        data = encode(LAYOUT, state["rows"], encoding=encoding)
        if encoding == "cp932" and "cp932-export-with-bom" in mistakes:
            data = b"\xef\xbb\xbf" + data
        return Response(data, media_type=f"text/csv; charset={encoding}")

    @app.post("/api/v1/layout/import")
    async def import_(request: Request, encoding: str = Query("utf-8")) -> JSONResponse:
        if denied := authorised(request):
            return denied
        data = await request.body()
        report, good = validate(LAYOUT, data, encoding=encoding)
        if not report.valid:
            if "import-keeps-good-rows" in mistakes:
                state["rows"] += [r for r in good if len(r) == len(LAYOUT.items)]
                return JSONResponse({"area": LAYOUT.area, "rows": len(good), "message": "ok"})
            body = {"error": {"code": "layout-invalid", "field": None,
                              "message": report.summary()}, "report": report.to_dict()}
            return JSONResponse(body, 422)
        if state["rows"]:
            return _error(409, "not-empty", "municipality already holds residents")
        rows = decode(LAYOUT, data, encoding=encoding)
        if "import-drops-notified-on" in mistakes:
            rows = [{**r, "notified_on": None} for r in rows]
        state["rows"] = rows
        return JSONResponse({"area": LAYOUT.area, "rows": len(rows),
                             "message": f"imported {len(rows)} rows"})

    return app
