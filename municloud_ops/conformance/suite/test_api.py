"""API-xxx: the unit's OpenAPI contract and the standard error body."""

from __future__ import annotations

import httpx
import pytest

from municloud_ops.conformance.context import KitContext
from municloud_ops.conformance.profiles import COMMON_OPERATIONS

PROBES = (("get", "/healthz"), ("get", "/readyz"), ("get", "/api/v1/layout/export"))


@pytest.mark.check("API-001")
def test_openapi_document_served(openapi: dict) -> None:
    version = str(openapi.get("openapi", ""))
    assert version.startswith("3."), f"openapi version is {version!r}, expected 3.x"
    assert isinstance(openapi.get("paths"), dict), "OpenAPI document has no paths"


@pytest.mark.check("API-002")
def test_required_operations_present(openapi: dict) -> None:
    paths = openapi.get("paths", {})
    missing = [f"{m.upper()} {p}" for m, p in COMMON_OPERATIONS if m not in paths.get(p, {})]
    assert not missing, f"operations missing from /openapi.json: {', '.join(missing)}"


def _declared(operation: dict, status: int) -> dict | None:
    responses = operation.get("responses", {})
    return (responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
            or responses.get("default"))


def _schema_errors(openapi: dict, declared: dict, response: httpx.Response) -> list[str]:
    import jsonschema

    media = response.headers.get("content-type", "").split(";")[0].strip()
    schema = declared.get("content", {}).get(media, {}).get("schema")
    if media != "application/json" or not schema:
        return []
    root = {**schema, "components": openapi.get("components", {})}
    validator = jsonschema.Draft202012Validator(root)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:120]}"
            for e in validator.iter_errors(response.json())]


@pytest.mark.check("API-003")
def test_successful_responses_match_the_contract(kit: KitContext, openapi: dict) -> None:
    problems = []
    for method, path in PROBES:
        operation = openapi.get("paths", {}).get(path, {}).get(method)
        response = kit.client.request(method.upper(), path)
        if operation is None:
            problems.append(f"{method.upper()} {path} is not documented")
            continue
        if not 200 <= response.status_code < 300:
            problems.append(f"{method.upper()} {path} answered HTTP {response.status_code}")
            continue
        declared = _declared(operation, response.status_code)
        if declared is None:
            problems.append(f"{method.upper()} {path}: HTTP {response.status_code} not declared")
            continue
        problems += [f"{method.upper()} {path}: {e}"
                     for e in _schema_errors(openapi, declared, response)]
    assert not problems, "; ".join(problems)


def _error_body_problem(response: httpx.Response) -> str | None:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return "body is not a JSON object"
    if not isinstance(error, dict) or not error.get("code") or not error.get("message"):
        return 'body lacks {"error": {"code", "message"}}'
    return None


@pytest.mark.check("API-004")
def test_unauthenticated_requests_refused_with_standard_error(kit: KitContext) -> None:
    path = "/api/v1/layout/export"
    url = kit.options.base_url.rstrip("/") + path
    attempts = {
        "no token": httpx.get(url, verify=kit.options.verify, timeout=kit.options.timeout),
        "garbage token": kit.client.get(path, headers={"Authorization": "Bearer not.a.token"}),
    }
    problems = []
    for label, response in attempts.items():
        if response.status_code != 401:
            problems.append(f"{label}: expected HTTP 401, got {response.status_code}")
        elif problem := _error_body_problem(response):
            problems.append(f"{label}: {problem}")
    twin = kit.client.get(path)
    if twin.status_code != 200:
        problems.append(f"with the token: expected HTTP 200, got {twin.status_code}")
    assert not problems, "; ".join(problems)
