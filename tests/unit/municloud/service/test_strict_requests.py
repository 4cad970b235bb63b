"""The services' request models and the strict-JSON middleware: hostile bodies get 422 naming the
field, each with an accepted twin. Runs the real request models (tax 申告, nhi 資格, residents 転入
person) behind the kit's error handlers and middleware, without a database."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from municloud.params import params_json_schema
from municloud.service.errors import install_error_handlers
from municloud.service.params_api import router as params_router
from municloud.service.strict_json import StrictJsonMiddleware
from services.nhi.models import EnrolmentChange
from services.residents_registry.models import PersonCreate
from services.tax.models import DeclarationCreate, IncomeInquiryIn

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(StrictJsonMiddleware)
    app.include_router(params_router)

    @app.post("/declarations")
    async def declarations(body: DeclarationCreate) -> dict:
        return {"salary_income": body.declaration.salary_income}

    @app.post("/income-inquiries")
    async def inquiries(body: IncomeInquiryIn) -> dict:
        return {"fiscal_year": body.fiscal_year}

    @app.post("/enrolments")
    async def enrolments(body: EnrolmentChange) -> dict:
        return {"event_date": body.event_date.isoformat()}

    @app.post("/persons")
    async def persons(body: PersonCreate) -> dict:
        return {"birth_date": body.birth_date.isoformat(), "sex": body.sex.value}

    return TestClient(app)


ATENA = "053031000000001"  # 宛名番号: lgcode 053031 + serial (municloud.ids)
DECLARATION = {"atena_number": ATENA, "fiscal_year": 2025,
               "declaration": {"age": 40, "salary_income": 4_370_000}}


def declaration(**changes: object) -> dict:
    body = json.loads(json.dumps(DECLARATION))
    for path, value in changes.items():
        target = body
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        target[leaf] = value
    return body


def post_text(client: TestClient, url: str, text: str):
    return client.post(url, content=text.encode("utf-8"),
                       headers={"content-type": "application/json"})


@pytest.mark.parametrize(("kind", "changes", "field"), [
    ("string amount", {"declaration__salary_income": "4370000"}, "declaration.salary_income"),
    ("float amount", {"declaration__salary_income": 4370000.0}, "declaration.salary_income"),
    ("boolean age", {"declaration__age": True}, "declaration.age"),
    ("string fiscal year", {"fiscal_year": "2025"}, "fiscal_year"),
    ("unsupported fiscal year", {"fiscal_year": 2027}, "fiscal_year"),
    ("negative amount", {"declaration__other_income": -1}, "declaration.other_income"),
    ("huge amount", {"declaration__other_income": 10**12}, "declaration.other_income"),
    ("unknown field", {"declaration__bonus": 1}, "declaration.bonus"),
    ("full-width digits", {"declaration__salary_income": "４３７００００"},
     "declaration.salary_income"),
])
def test_tax_declaration_refuses_hostile_values(client, kind, changes, field) -> None:
    refused = client.post("/declarations", json=declaration(**changes))
    assert refused.status_code == 422, (kind, refused.text)
    assert refused.json()["error"]["field"] == field
    if kind == "unsupported fiscal year":
        assert "supported: [2024, 2025, 2026]" in refused.json()["error"]["message"]
    accepted = client.post("/declarations", json=declaration())
    assert accepted.status_code == 200 and accepted.json() == {"salary_income": 4_370_000}


def test_duplicate_key_refused_with_its_path(client) -> None:
    good = json.dumps(declaration())
    hostile = good.replace('"salary_income": 4370000',
                           '"salary_income": 1, "salary_income": 4370000')
    refused = post_text(client, "/declarations", hostile)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "declaration.salary_income"
    assert "duplicate key" in refused.json()["error"]["message"]
    assert post_text(client, "/declarations", good).status_code == 200


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_refused(client, constant) -> None:
    good = json.dumps(declaration())
    refused = post_text(client, "/declarations",
                        good.replace('"salary_income": 4370000', f'"salary_income": {constant}'))
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "declaration.salary_income"
    assert post_text(client, "/declarations", good).status_code == 200


def test_income_inquiry_fiscal_year_strict(client) -> None:
    body = {"fiscal_year": 2025, "subjects": [{"atena_number": ATENA}]}
    assert client.post("/income-inquiries", json=body).status_code == 200
    refused = client.post("/income-inquiries", json=body | {"fiscal_year": 2025.0})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "fiscal_year"


def test_nhi_enrolment_date_strict_and_wareki(client) -> None:
    body = {"atena_number": ATENA, "event_date": "令和元年5月1日", "reason": "other"}
    accepted = client.post("/enrolments", json=body)
    assert accepted.status_code == 200 and accepted.json() == {"event_date": "2019-05-01"}
    refused = client.post("/enrolments", json=body | {"event_date": 20190501})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "event_date"
    refused = client.post("/enrolments", json=body | {"event_date": "令和元年4月30日"})
    assert refused.status_code == 422 and "令和元年4月30日" in refused.json()["error"]["message"]


PERSON = {"resident_record_code": "12345678901", "family_name": "秋田", "given_name": "花子",
          "family_name_kana": "アキタ", "given_name_kana": "ハナコ", "birth_date": "昭和55年5月1日",
          "sex": "2", "relationship_to_head": "世帯主"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"sex": 2}, "sex"),                                # a number is not the code "2"
    ({"resident_record_code": 12345678901}, "resident_record_code"),
    ({"birth_date": 19800501}, "birth_date"),
    ({"nickname": "x"}, "nickname"),
])
def test_residents_person_strict(client, changes, field) -> None:
    refused = client.post("/persons", json=PERSON | changes)
    assert refused.status_code == 422 and refused.json()["error"]["field"] == field
    accepted = client.post("/persons", json=PERSON)
    assert accepted.status_code == 200 and accepted.json() == {"birth_date": "1980-05-01",
                                                               "sex": "2"}


def test_params_schema_endpoint(client) -> None:
    r = client.get("/params/schema")
    assert r.status_code == 200 and r.json() == params_json_schema()
    assert r.json()["title"].startswith("MunicipalityParams ")
    # no parameters configured on this bare app: 503 naming why
    r = client.get("/params")
    assert r.status_code == 503 and "MUNICIPALITY_PARAMS_FILE" in r.json()["error"]["message"]
