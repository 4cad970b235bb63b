"""FastAPI router factory for a service's layout endpoints (export / import, 中間標準レイアウト).

A service supplies three functions over its own tables (`LayoutStore`); this module does the
HTTP contract of municloud.layout.transfer: token, size limit, encoding, validation of EVERY
row before anything is written (422 + report), refusal of a non-empty municipality (409),
one DB transaction for the whole import, and an access-log entry per resident touched.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from municloud.audit import AccessEntry, append_entries
from municloud.layout.codec import (
    ENCODINGS,
    MAX_FILE_BYTES,
    LayoutError,
    LayoutIssue,
    LayoutReport,
    encode,
    validate,
)
from municloud.layout.definition import LayoutDef
from municloud.service.deps import ConnDep, PrincipalDep, require_purpose
from municloud.service.errors import ApiError, error_body

Row = dict[str, object]
# 利用目的 allowed to move whole registers (files carry 個人番号): data migration only.
LAYOUT_PURPOSES = frozenset({"data_migration"})


class LayoutImported(BaseModel):
    """Answer of a successful import."""

    area: str
    rows: int
    message: str


class RowIssues(Exception):
    """Raised by a store when rows break a service rule; the import is rolled back and
    answered 422 with these issues. Row i of the file is on line i + 2."""

    def __init__(self, issues: list[LayoutIssue]) -> None:
        super().__init__(f"{len(issues)} issues")
        self.issues = issues


@dataclass(frozen=True)
class ImportContext:
    principal: Any
    params: Any  # the municipality's MunicipalityParams (None when not configured)


@dataclass(frozen=True)
class LayoutStore:
    """The service-specific part: rows out of, and into, the service's tables."""

    export_rows: Callable[[asyncpg.Connection], Awaitable[list[Row]]]
    is_empty: Callable[[asyncpg.Connection], Awaitable[bool]]
    # Called inside the import transaction with validated rows; returns residents touched;
    # may raise RowIssues.
    import_rows: Callable[[asyncpg.Connection, list[Row], ImportContext], Awaitable[list[str]]]
    resident_key: str = "atena_number"


EncodingQuery = Annotated[str, Query(pattern="^(utf-8|cp932)$",
                                     description=f"File encoding: {', '.join(ENCODINGS)}")]


def make_layout_router(layout: LayoutDef, store: LayoutStore) -> APIRouter:
    """Routes /layout/export and /layout/import (the service kit mounts them under /api/v1)."""
    router = APIRouter(prefix="/layout", tags=["layout"])

    @router.get("/export", response_class=Response,
                responses={200: {"content": {"text/csv": {}},
                                 "description": f"{layout.area} layout file"}})
    async def export_layout(conn: ConnDep, principal: PrincipalDep,
                            encoding: EncodingQuery = "utf-8") -> Response:
        """Export this municipality's data of the area as a layout file."""
        require_purpose(principal, LAYOUT_PURPOSES)
        # One consistent snapshot even when the store reads several tables.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await store.export_rows(conn)
        try:
            data = encode(layout, rows, encoding=encoding)
        except LayoutError as exc:
            # Stored data that the layout cannot carry (e.g. a character outside cp932).
            first = exc.report.issues[0]
            raise ApiError(409, "layout_unrepresentable",
                           f"{len(exc.report.issues)} cells cannot be exported in {encoding}; "
                           f"first: row {first.line - 1}, item {first.item}: {first.reason}",
                           "encoding") from None
        await _log(conn, principal, rows, store.resident_key, "layout_export")
        return Response(data, media_type=f"text/csv; charset={encoding}",
                        headers={"X-Layout-Rows": str(len(rows))})

    @router.post("/import", response_model=LayoutImported,
                 openapi_extra={"requestBody": {"required": True,
                                                "content": {"text/csv": {}}}},
                 responses={422: {"description": "file breaks the layout; report lists "
                                                 "every issue; nothing stored"},
                            409: {"description": "municipality not empty"}})
    async def import_layout(request: Request, conn: ConnDep, principal: PrincipalDep,
                            encoding: EncodingQuery = "utf-8") -> LayoutImported | JSONResponse:
        """Import a layout file into an empty municipality: every row or none."""
        require_purpose(principal, LAYOUT_PURPOSES)
        started = time.perf_counter()
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_FILE_BYTES:
            raise ApiError(413, "file_too_large", f"file exceeds {MAX_FILE_BYTES} bytes", "body")
        data = await _read_bounded(request)
        report, rows = validate(layout, data, encoding=encoding)
        if problem := _row_count_problem(request.headers.get("x-layout-rows"), report.rows):
            report.issues.append(LayoutIssue(0, None, problem))
        if not report.valid:
            return _invalid(report)
        context = ImportContext(principal, getattr(request.app.state, "params", None))
        try:
            async with conn.transaction():
                # Serialise concurrent imports; then the emptiness check holds until commit.
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                                   f"layout-import:{layout.area}")
                if not await store.is_empty(conn):
                    raise ApiError(409, "not_empty",
                                   f"this municipality already holds {layout.area} data; "
                                   f"import needs an empty one")
                touched = await store.import_rows(conn, rows, context)
                await _log(conn, principal, [{store.resident_key: r} for r in touched],
                           store.resident_key, "layout_import")
        except RowIssues as exc:
            report.issues = exc.issues
            return _invalid(report)
        return LayoutImported(area=layout.area, rows=len(rows),
                              message=f"imported {len(rows)} {layout.area} rows in "
                                      f"{time.perf_counter() - started:.1f} s")

    return router


def _row_count_problem(declared: str | None, rows: int) -> str | None:
    """X-Layout-Rows, when the sender gives it, must equal the file's data rows (a truncated or
    padded transfer is refused; docs/layout.md "HTTP contract")."""
    if declared is None:
        return None
    if not declared.isdigit():
        return "X-Layout-Rows header is not a number"
    if int(declared) != rows:
        return f"X-Layout-Rows header says {int(declared)} data rows; the file has {rows}"
    return None


async def _read_bounded(request: Request) -> bytes:
    """The body, refused with 413 as soon as it passes the file limit (chunked uploads too)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise ApiError(413, "file_too_large", f"file exceeds {MAX_FILE_BYTES} bytes", "body")
        chunks.append(chunk)
    return b"".join(chunks)


def _invalid(report: LayoutReport) -> JSONResponse:
    body = error_body("layout_invalid", report.summary(), "body")
    body["report"] = report.to_dict()
    return JSONResponse(body, 422)


async def _log(conn: asyncpg.Connection, principal: Any, rows: list[Row], key: str,
               action: str) -> None:
    """One access-log entry per resident read or written (committed before the response)."""
    residents = sorted({str(r[key]) for r in rows if r.get(key)})
    entries = [AccessEntry(principal.staff_id, principal.lgcode, principal.purpose, resident,
                           action) for resident in residents]
    for start in range(0, len(entries), 5000):
        await append_entries(conn, entries[start:start + 5000])
