"""tax end to end: seed → assessment with municloud.calc.resident_tax → 課税証明書, 所得照会."""

import pytest

from municloud.calc.resident_tax import compute
from municloud.params import default_municipality_params
from municloud.seed import generate

pytestmark = pytest.mark.integration

SERVICE = "tax"
POPULATION, SEED = 200, 11


@pytest.fixture
def seeded(harness):
    with harness.client(SERVICE) as c:
        r = c.post("/api/v1/admin/seed", json={"population": POPULATION, "seed": SEED},
                   headers=harness.token(SERVICE, "system_operation"))
        assert r.status_code == 201
        yield c, generate("053031", POPULATION, SEED)


def test_assessment_matches_the_shared_calculation(harness, seeded):
    c, data = seeded
    h = harness.token(SERVICE, "tax_assessment")
    r = c.post(f"/api/v1/assessments/{data.fiscal_year}", json={}, headers=h)
    assert r.status_code == 201, r.text
    params = default_municipality_params("053031").resident_tax
    earners = [p for p in data.residents if p.salary_income > 0][:5]
    expected_total = 0
    for person in data.residents:
        if person.birth_date.year < data.fiscal_year - 1:
            expected_total += compute(data.declaration_for(person.atena_number), params,
                                      data.fiscal_year).total
    assert r.json()["total_tax"] == expected_total and expected_total > 0
    for person in earners:
        expected = compute(data.declaration_for(person.atena_number), params, data.fiscal_year)
        got = c.get(f"/api/v1/assessments/{person.atena_number}/{data.fiscal_year}", headers=h).json()
        assert got["total"] == expected.total
        assert got["breakdown"] == expected.model_dump(mode="json")


def test_certificate_json_and_html(harness, seeded):
    c, data = seeded
    person = next(p for p in data.residents if p.salary_income > 2_000_000)
    c.post(f"/api/v1/assessments/{data.fiscal_year}", json={"atena_numbers": [person.atena_number]},
           headers=harness.token(SERVICE, "tax_assessment"))
    h = harness.token(SERVICE, "certificate_issuance")
    cert = c.get(f"/api/v1/taxpayers/{person.atena_number}/certificate",
                 params={"fiscal_year": data.fiscal_year}, headers=h).json()
    assert cert["title"] == "所得・課税証明書" and cert["fiscal_year_wareki"] == "令和7年度"
    assert cert["salary_income"] == person.salary_income
    assert cert["total"] == (cert["municipal_income_levy"] + cert["prefectural_income_levy"]
                             + cert["municipal_per_capita"] + cert["prefectural_per_capita"]
                             + cert["forest_environment_tax"])
    html = c.get(f"/api/v1/taxpayers/{person.atena_number}/certificate.html",
                 params={"fiscal_year": data.fiscal_year}, headers=h).text
    assert "所得・課税証明書" in html and f"{cert['total']:,} 円" in html
    missing = c.get(f"/api/v1/taxpayers/{person.atena_number}/certificate",
                    params={"fiscal_year": 2024}, headers=h)
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "fiscal_year"
    refused = c.get(f"/api/v1/taxpayers/{person.atena_number}/certificate",
                    params={"fiscal_year": data.fiscal_year},
                    headers=harness.token(SERVICE, "resident_record"))
    assert refused.status_code == 403


def test_bad_declaration_names_field_and_stores_nothing(harness, seeded):
    c, data = seeded
    h = harness.token(SERVICE, "tax_assessment")
    atena = data.residents[0].atena_number
    before = harness.count(SERVICE, "declarations")
    for body, field in [
        ({"atena_number": atena, "fiscal_year": 2025, "declaration": {"age": 40, "salary_income": -1}},
         "declaration.salary_income"),
        ({"atena_number": atena, "fiscal_year": 2023, "declaration": {"age": 40}}, "fiscal_year"),
        ({"atena_number": "053031999999999", "fiscal_year": 2025, "declaration": {"age": 40}},
         "atena_number"),
        ({"atena_number": "05303100000000１", "fiscal_year": 2025, "declaration": {"age": 40}},
         "atena_number"),
    ]:
        r = c.post("/api/v1/declarations", json=body, headers=h)
        assert r.status_code in (404, 422) and r.json()["error"]["field"] == field, r.text
    assert harness.count(SERVICE, "declarations") == before
    ok = c.post("/api/v1/declarations", headers=h, json={
        "atena_number": atena, "fiscal_year": 2025, "declaration": {"age": 40, "salary_income": 3_000_000}})
    assert ok.status_code == 201 and ok.json()["revision"] == 2


def test_income_inquiry_answers_in_order(harness, seeded):
    c, data = seeded
    person = next(p for p in data.residents if p.salary_income > 0)
    r = c.post("/api/v1/income-inquiries", headers=harness.token(SERVICE, "nhi_administration"),
               json={"fiscal_year": data.fiscal_year,
                     "subjects": [{"atena_number": "053031000999999"},
                                  {"atena_number": person.atena_number}]})
    assert r.status_code == 200
    unknown, known = r.json()["records"]
    assert unknown == {"atena_number": "053031000999999", "found": False, "total_income": None,
                       "salary_income": None, "pension_income": None, "is_earner": None,
                       "individual_number": None}
    params = default_municipality_params("053031").resident_tax
    assert known["total_income"] == compute(data.declaration_for(person.atena_number), params,
                                            data.fiscal_year).total_income
    assert known["is_earner"] is True
