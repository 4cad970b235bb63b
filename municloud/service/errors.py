"""JSON errors: every 4xx is {"error": {"code", "field", "message"}} naming the field.

Messages never echo the submitted value (it may be a 個人番号)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from municloud.rules import named_field
from municloud.service.logging import mask_my_numbers

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field
        self.message = message
        self.headers = headers


def not_found(what: str, field: str | None = None) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found", field)


def error_body(code: str, message: str, field: str | None) -> dict:
    return {"error": {"code": code, "field": field, "message": mask_my_numbers(message)}}


def _field_of(loc: tuple, body: object) -> str | None:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    # A discriminated union adds its tag (e.g. "move_in") to the location: not a field.
    if parts and isinstance(body, dict) and parts[0] == body.get("kind"):
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.field), exc.status,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = _field_of(tuple(first.get("loc", ())), getattr(exc, "body", None))
        # pydantic prefixes "Value error, " for ValueError raised in validators.
        reason = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        # Model-level validators name their field as "field: reason".
        named, rest = named_field(reason)
        if named is not None:
            field, reason = (f"{field}.{named}" if field else named), rest
        return JSONResponse(
            error_body("invalid", f"{field or 'request'}: {reason}", field), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail), None), exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s", type(exc).__name__)
        return JSONResponse(error_body("internal", "internal error", None), 500)
