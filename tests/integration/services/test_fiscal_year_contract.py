"""A fiscal year outside the implemented rules is refused at the edge of the API (422 naming
``fiscal_year``), and nothing is computed or stored; the twin within the range is served."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("year", [-713, 0, 2023, 2027, 99999])
def test_assessment_for_a_year_outside_the_rules_is_422_and_stores_nothing(harness, year):
    with harness.client("tax") as client:
        r = client.post(f"/api/v1/assessments/{year}", json={"atena_numbers": None},
                        headers=harness.token("tax", "tax_assessment"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "fiscal_year", r.text
    assert harness.count("tax", "assessments") == 0


def test_twin_assessment_for_a_supported_year_is_computed(harness):
    with harness.client("tax") as client:
        r = client.post("/api/v1/assessments/2025", json={"atena_numbers": None},
                        headers=harness.token("tax", "tax_assessment"))
    assert r.status_code == 201 and r.json()["fiscal_year"] == 2025, r.text


@pytest.mark.parametrize("year", [2023, 2027, 0])  # FY2026 (令和8年度) is implemented
def test_nhi_premium_for_a_year_outside_the_rules_is_422(harness, year):
    with harness.client("nhi") as client:
        r = client.post(f"/api/v1/premiums/053031000000001/{year}", headers=harness.token("nhi", "nhi_administration"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "fiscal_year", r.text
