"""The OpenAPI every service publishes says what the API does (one place, for every service).

- ``bearer``: every operation under ``/api/v1/`` but the platform inbox (signed messages, not
  tokens) requires a staff token; the ``Authorization`` header is a security scheme, not a
  parameter.
- Every error status an operation can answer is documented with the body actually sent,
  ``{"error": {"code", "field", "message"}}`` (municloud/service/errors.py), replacing FastAPI's
  own 422 schema, which the services never send.
- ``AuthenticateFirst``: the token is checked before anything of the request (path, query, body)
  is parsed, so an unauthenticated caller learns nothing from validation errors and cannot make
  the service parse a body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from municloud.rules import CHECK_KINDS, EXTENSION, MARKER
from municloud.service.deps import authenticate
from municloud.service.errors import ApiError, error_body

API_PREFIX = "/api/v1/"
#: paths under the API prefix without a bearer token: platform messages authenticate by their
#: signature; open data (指針7) is public by design, aggregated and small-cell suppressed
#: (docs/opendata.md), and the gateway serves it on the public listener for GET only
UNAUTHENTICATED_PREFIXES = ("/api/v1/platform/", "/api/v1/opendata/")
ERROR_SCHEMA = {
    "title": "Error", "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "field", "message"], "additionalProperties": False,
        "properties": {"code": {"type": "string", "description": "stable reason code"},
                       "field": {"anyOf": [{"type": "string"}, {"type": "null"}],
                                 "description": "the field (or header) that is wrong, if any"},
                       "message": {"type": "string", "description": "what is wrong; never echoes the value"}}}},
}
ERRORS = {400: "malformed request", 401: "missing, expired or invalid bearer token",
          403: "the token's purpose (利用目的) does not allow this", 404: "not found",
          409: "conflicts with the stored state", 422: "a field is invalid (named in `field`)",
          503: "the service cannot answer now (database, parameters, access log or platform keys unavailable)"}
#: What JSON Schema cannot say, said once in every document (docs/services.md, "The contract").
CONVENTIONS = (
    "Numbers are JSON integer literals: every number of this API is `type: integer` and is written "
    "`460`, never `460.0` (strict input, docs/calc.md; `460.0` is a 422 naming the field). "
    "Named string formats: `my-number`, `lgcode`, `atena-number`, `household-number`, "
    "`resident-record-code` (check digits and municipality prefixes as municloud.ids checks them) and "
    "`date-not-after-today` (ISO date, not after today in JST). "
    "Cross-field rules are stated in JSON Schema where it can (an `allOf` entry marked "
    f"`{MARKER}: <id>`) and otherwise in the `{EXTENSION}` extension of the schema or operation "
    "(`{\"id\", \"field\", \"rule\", \"kind\", ...}`; kinds: "
    + "; ".join(f"`{kind}`: {what}" for kind, what in CHECK_KINDS.items())
    + "). A request breaking one is a 422 whose message ends `(rule <id>)`.")
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def needs_bearer(path: str) -> bool:
    return path.startswith(API_PREFIX) and not path.startswith(UNAUTHENTICATED_PREFIXES)


class AuthenticateFirst:
    """Pure ASGI: 401 for an API request without a valid token, before routing reads anything."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and needs_bearer(scope["path"]):
            raw = next((v for k, v in scope["headers"] if k == b"authorization"), None)
            try:
                authenticate(scope["app"], raw.decode("latin-1") if raw is not None else None)
            except ApiError as exc:
                response = JSONResponse(error_body(exc.code, exc.message, exc.field), exc.status,
                                        headers=exc.headers)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def document(schema: dict[str, Any], *, bearer: bool = True) -> dict[str, Any]:
    """Add the bearer scheme (``bearer=False``: an app without one, the platform hub) and the error
    answers to an OpenAPI document (in place, returned)."""
    info = schema.setdefault("info", {})
    info["description"] = "\n\n".join(filter(None, (info.get("description"), CONVENTIONS)))
    components = schema.setdefault("components", {})
    if bearer:
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT (EdDSA), signed with the municipality's key"}
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            # an operation that names its JSON errors (x-json-errors) answers only those in JSON
            named = op.pop("x-json-errors", None)
            statuses = set(named) if named is not None else set(ERRORS) - (
                {401, 403} if not (bearer and needs_bearer(path)) else set())
            if bearer and needs_bearer(path):
                op["security"] = [{"bearer": []}]
                op["parameters"] = [p for p in op.get("parameters", [])
                                    if not (p.get("in") == "header" and p.get("name", "").lower() == "authorization")]
                if not op["parameters"]:
                    del op["parameters"]
            for status in sorted(statuses):
                answer = op["responses"].setdefault(str(status), {"description": ERRORS[status]})
                answer["content"] = ref
            for status, answer in op["responses"].items():
                if status.startswith(("4", "5")) and "content" not in answer:
                    answer["content"] = ref
    schemas = components["schemas"]
    text = repr(schema["paths"])
    for name in _VALIDATION_SCHEMAS:
        if name in schemas and f"#/components/schemas/{name}" not in text:
            del schemas[name]
    return schema


def install_contract(app: FastAPI, *, bearer: bool = True) -> None:
    """Authenticate first and publish the documented OpenAPI (cached after the first build).
    ``bearer=False``: an app whose API takes no staff token (the platform hub: signed messages,
    internal listener only), documented with the same error answers."""
    if bearer:
        app.add_middleware(AuthenticateFirst)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(get_openapi(title=app.title, version=app.version, routes=app.routes,
                                                      description=app.description), bearer=bearer)
        return app.openapi_schema

    app.openapi = openapi
