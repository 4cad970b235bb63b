"""The OpenAPI of every service matches what it does: bearer scheme, the real error body for
every error status, fiscal-year ranges; and the token is checked before the body is parsed.

The real app factories, no lifespan (nothing here reaches a database)."""

from __future__ import annotations

import importlib

import pytest
from fastapi.testclient import TestClient

from municloud.auth import generate_key_pair, issue_token
from municloud.service.contract import ERRORS, needs_bearer
from municloud.service.types import DATE_NOT_AFTER_TODAY, IDENTIFIER_FORMATS
from municloud.service.settings import ServiceSettings

pytestmark = pytest.mark.unit

PRIVATE, PUBLIC = generate_key_pair()
SERVICES = ["residents_registry", "tax", "nhi"]
ERROR_REF = {"$ref": "#/components/schemas/Error"}
INBOX = "/api/v1/platform/inbox"


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
        if path == INBOX:  # signed XML Faults; its only JSON error is the 503
            expected = {503}
        for status in expected:
            body = op["responses"][str(status)]["content"]["application/json"]["schema"]
            assert body == ERROR_REF, (svc, method, path, status)
        if needs_bearer(path):
            assert op["security"] == [{"bearer": []}], (method, path)
            assert not [p for p in op.get("parameters", []) if p["name"].lower() == "authorization"]


def test_twin_the_platform_inbox_is_not_bearer_protected(spec):
    _svc, doc = spec
    inbox = doc["paths"][INBOX]["post"]
    assert "security" not in inbox and "401" not in inbox["responses"]


def test_the_inbox_documents_its_signed_xml(spec):
    _svc, doc = spec
    inbox = doc["paths"][INBOX]["post"]
    assert list(inbox["requestBody"]["content"]) == ["application/xml"] and inbox["requestBody"]["required"]
    for status in ("200", "400", "403", "409", "413"):
        assert list(inbox["responses"][status]["content"]) == ["application/xml"], status
    assert inbox["responses"]["503"]["content"]["application/json"]["schema"] == ERROR_REF
    assert "x-json-errors" not in inbox


def _schemas(node):
    """Every schema-like dict in a document."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


def test_identifiers_have_a_named_format_and_numbers_are_integers(spec):
    svc, doc = spec
    formats = {s["format"] for s in _schemas(doc) if isinstance(s.get("format"), str)}
    assert "atena-number" in formats and formats & set(IDENTIFIER_FORMATS), (svc, formats)
    for schema in _schemas(doc):
        if isinstance(schema.get("pattern"), str) and schema["pattern"].startswith("^[0-9]{"):
            assert schema.get("format") in IDENTIFIER_FORMATS, (svc, schema)
        assert schema.get("type") != "number", (svc, schema)  # every number is an integer literal
    assert "460.0" in doc["info"]["description"] and "atena-number" in doc["info"]["description"]


def test_open_data_dates_are_bounded_by_today():
    op = _app("residents_registry").openapi()["paths"]["/api/v1/opendata/ckan.json"]["get"]
    as_of = next(p for p in op["parameters"] if p["name"] == "as_of")["schema"]
    assert as_of["format"] == DATE_NOT_AFTER_TODAY


@pytest.mark.parametrize("svc,model,field", [("tax", "DeclarationCreate", "fiscal_year"),
                                             ("tax", "IncomeInquiryIn", "fiscal_year")])
def test_fiscal_years_in_bodies_are_ranged(svc, model, field):
    schema = _app(svc).openapi()["components"]["schemas"][model]["properties"][field]
    assert schema["type"] == "integer" and schema["minimum"] == 2024 and schema["maximum"] >= 2025


def test_an_inbox_without_platform_keys_answers_the_documented_json_503():
    client = TestClient(_app("tax"))  # no lifespan: no platform keys loaded
    r = client.post(INBOX, content=b"<Envelope/>", headers={"Content-Type": "application/xml"})
    assert r.status_code == 503 and r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == "platform_keys_missing"


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
