"""The OpenAPI of every service matches what it does: bearer scheme, the real error body for
every error status, fiscal-year ranges; and the token is checked before the body is parsed.

The real app factories, no lifespan (nothing here reaches a database)."""

from __future__ import annotations

import importlib

import pytest
from fastapi.testclient import TestClient

from municloud.auth import generate_key_pair, issue_token
from municloud.service.contract import ERRORS, needs_bearer
from municloud.service.settings import ServiceSettings

pytestmark = pytest.mark.unit

PRIVATE, PUBLIC = generate_key_pair()
SERVICES = ["residents_registry", "tax", "nhi"]
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _app(svc: str):
    settings = ServiceSettings(environment="development", service_name=svc, lgcode="053031", token_public_key=PUBLIC)
    return importlib.import_module(f"services.{svc}.main").create_app(settings)


@pytest.fixture(scope="module", params=SERVICES)
def spec(request):
    return request.param, _app(request.param).openapi()


def _operations(spec_doc):
    for path, item in spec_doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_bearer_scheme_and_every_error_status_with_the_real_error_body(spec):
    svc, doc = spec
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    api = [(p, m, op) for p, m, op in _operations(doc) if p.startswith("/api/v1/")]
    assert len(api) >= 5, svc
    for path, method, op in api:
        expected = set(ERRORS) if needs_bearer(path) else set(ERRORS) - {401, 403}
        for status in expected:
            body = op["responses"][str(status)]["content"]["application/json"]["schema"]
            assert body == ERROR_REF, (svc, method, path, status)
        if needs_bearer(path):
            assert op["security"] == [{"bearer": []}], (method, path)
            assert not [p for p in op.get("parameters", []) if p["name"].lower() == "authorization"]


def test_twin_the_platform_inbox_is_not_bearer_protected(spec):
    _svc, doc = spec
    inbox = doc["paths"]["/api/v1/platform/inbox"]["post"]
    assert "security" not in inbox and "401" not in inbox["responses"]


@pytest.mark.parametrize("svc,path", [("tax", "/api/v1/assessments/{fiscal_year}"),
                                      ("nhi", "/api/v1/premiums/{household_number}/{fiscal_year}")])
def test_fiscal_years_are_ranged_in_the_contract(svc, path):
    op = _app(svc).openapi()["paths"][path]["post"]
    year = next(p for p in op["parameters"] if p["name"] == "fiscal_year")["schema"]
    assert year["minimum"] == 2024 and year["maximum"] in (2025, 2026)


def _token(svc: str, purpose: str = "tax_assessment") -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(PRIVATE, "053031", "staff01", purpose, svc, 300)}


@pytest.fixture(scope="module")
def tax():
    return TestClient(_app("tax"))  # no `with`: no lifespan, no database


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}], ids=["none", "garbage"])
def test_the_token_is_checked_before_the_body_is_parsed(tax, headers):
    r = tax.post("/api/v1/assessments/-713", content=b"{not json", headers={"Content-Type": "application/json",
                                                                          **headers})
    assert r.status_code == 401 and r.json()["error"]["field"] == "authorization", r.text


def test_twin_with_a_valid_token_the_same_body_is_a_422(tax):
    r = tax.post("/api/v1/assessments/2025", content=b"{not json",
                 headers={"Content-Type": "application/json", **_token("tax")})
    assert r.status_code == 422, r.text


def test_identifiers_carry_their_pattern_in_the_contract():
    doc = _app("tax").openapi()
    atena = next(p for p in doc["paths"]["/api/v1/assessments/{atena_number}/{fiscal_year}"]["get"]["parameters"]
                 if p["name"] == "atena_number")["schema"]
    assert atena["pattern"] == "^[0-9]{15}$"
