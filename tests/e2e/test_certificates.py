"""Flow 4 — certificates through the frontdoor (the read paths Locust loads): 住民票の写し (JSON and
HTML), 課税証明書, 国保 資格確認書. Every read leaves an access-log row with staff, purpose and
time in the municipality's own database; a refused read leaves none."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from e2e_support import A, fresh_household, move_in, report, sql, wait_propagated

pytestmark = [pytest.mark.live, pytest.mark.e2e]

CLOCK_SLACK = timedelta(seconds=5)  # host clock vs the PostgreSQL container's clock


def _staff() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


def access_rows(stack, database: str, staff: str) -> list[dict]:
    return sql(stack, A, database,
               "SELECT staff_id, lgcode, purpose, resident_id, action, at FROM audit.access_log"
               f" WHERE staff_id = '{staff}' ORDER BY seq")


def assert_logged(rows, *, staff, purpose, atena, action, since, until, count):
    assert len(rows) == count, rows
    for row in rows:
        assert (row["staff_id"], row["lgcode"], row["purpose"], row["resident_id"], row["action"]) == (
            staff, A, purpose, atena, action)
        at = datetime.fromisoformat(row["at"])
        assert since - CLOCK_SLACK <= at <= until + CLOCK_SLACK, (at, since, until)


def timed_get(fd, service, path, **kwargs):
    t0 = time.perf_counter()
    r = fd.get(A, service, path, **kwargs)
    return r, (time.perf_counter() - t0) * 1000


def test_resident_certificate_json_and_html(frontdoor, e2e_stack):
    household = fresh_household(A)
    atena = move_in(frontdoor, household)["movements"][0]["atena_number"]
    head = household.members[0]
    staff, since = _staff(), datetime.now(UTC)
    path = f"/api/v1/residents/{atena}/certificate"
    r, ms_json = timed_get(frontdoor, "residents_registry", path, purpose="certificate_issuance",
                           staff_id=staff)
    assert r.status_code == 200, r.text
    cert = r.json()
    assert cert["title"] == "住民票の写し" and cert["lgcode"] == A
    assert cert["entries"][0]["name"] == f"{head['family_name']}　{head['given_name']}"
    assert cert["entries"][0]["birth_date"]["iso"] == head["birth_date"]
    assert (cert["issued_by_staff"], cert["purpose"]) == (staff, "certificate_issuance")
    assert cert["entries"][0]["individual_number"] is None
    html, ms_html = timed_get(frontdoor, "residents_registry", path + ".html",
                              purpose="certificate_issuance", staff_id=staff)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "住民票の写し" in html.text and head["family_name"] in html.text
    assert head["individual_number"] not in html.text
    until = datetime.now(UTC)
    assert_logged(access_rows(e2e_stack, "residents_registry", staff), staff=staff,
                  purpose="certificate_issuance", atena=atena, action="certificate",
                  since=since, until=until, count=2)
    report("4 証明書", f"住民票の写し JSON {ms_json:.0f} ms, HTML {ms_html:.0f} ms (one read each, "
                     "through the frontdoor); 2 access-log rows")

    # guarding twin: the 個人番号 asked for with a purpose that may not see it → 403, nothing logged
    refused_staff = _staff()
    r = frontdoor.get(A, "residents_registry", path, purpose="certificate_issuance",
                      staff_id=refused_staff, params={"include_my_number": "true"})
    assert r.status_code == 403 and head["individual_number"] not in r.text
    assert access_rows(e2e_stack, "residents_registry", refused_staff) == []


def test_tax_certificate(frontdoor, e2e_stack):
    household = fresh_household(A)
    atena = move_in(frontdoor, household)["movements"][0]["atena_number"]
    wait_propagated(frontdoor, A, [atena])
    r = frontdoor.post(A, "tax", "/api/v1/declarations", purpose="tax_assessment",
                       json={"atena_number": atena, "fiscal_year": 2025,
                             "declaration": {"age": 45, "salary_income": 4_200_000,
                                             "social_insurance_paid": 600_000}})
    assert r.status_code == 201, r.text
    r = frontdoor.post(A, "tax", "/api/v1/assessments/2025", purpose="tax_assessment",
                       json={"atena_numbers": [atena]})
    assert r.status_code == 201 and r.json()["computed"] == 1, r.text
    assessed = frontdoor.get(A, "tax", f"/api/v1/assessments/{atena}/2025",
                             purpose="tax_assessment").json()

    staff, since = _staff(), datetime.now(UTC)
    path = f"/api/v1/taxpayers/{atena}/certificate"
    r, ms_json = timed_get(frontdoor, "tax", path, purpose="certificate_issuance", staff_id=staff,
                           params={"fiscal_year": 2025})
    assert r.status_code == 200, r.text
    cert = r.json()
    assert (cert["fiscal_year"], cert["salary_income"], cert["total"], cert["issued_by_staff"]) == (
        2025, 4_200_000, assessed["total"], staff)
    assert cert["total"] > 0
    html, ms_html = timed_get(frontdoor, "tax", path + ".html", purpose="certificate_issuance",
                              staff_id=staff, params={"fiscal_year": 2025})
    assert html.status_code == 200 and f"{cert['total']:,}" in html.text, html.text[:500]
    assert_logged(access_rows(e2e_stack, "tax", staff), staff=staff,
                  purpose="certificate_issuance", atena=atena, action="tax_certificate",
                  since=since, until=datetime.now(UTC), count=2)
    report("4 証明書", f"課税証明書 JSON {ms_json:.0f} ms, HTML {ms_html:.0f} ms; 2 access-log rows")

    # guarding twin: a purpose the tax office does not serve → 403, nothing logged
    refused_staff = _staff()
    assert frontdoor.get(A, "tax", path, purpose="resident_record", staff_id=refused_staff,
                         params={"fiscal_year": 2025}).status_code == 403
    assert access_rows(e2e_stack, "tax", refused_staff) == []


def test_nhi_qualification_certificate(frontdoor, e2e_stack):
    household = fresh_household(A)
    atena = move_in(frontdoor, household)["movements"][0]["atena_number"]
    wait_propagated(frontdoor, A, [atena])
    staff, since = _staff(), datetime.now(UTC)
    path = f"/api/v1/insured/{atena}/certificate"
    r, ms_json = timed_get(frontdoor, "nhi", path, purpose="certificate_issuance", staff_id=staff)
    assert r.status_code == 200, r.text
    cert = r.json()
    assert (cert["insured_number"], cert["valid"], cert["acquired_on_iso"], cert["address"],
            cert["issued_by_staff"]) == (atena, True, "2025-04-01", household.address, staff)
    html, ms_html = timed_get(frontdoor, "nhi", path + ".html", purpose="certificate_issuance",
                              staff_id=staff)
    assert html.status_code == 200 and "国民健康保険 資格確認書" in html.text
    assert_logged(access_rows(e2e_stack, "nhi", staff), staff=staff,
                  purpose="certificate_issuance", atena=atena, action="qualification_certificate",
                  since=since, until=datetime.now(UTC), count=2)
    report("4 証明書", f"国保 資格確認書 JSON {ms_json:.0f} ms, HTML {ms_html:.0f} ms; "
                     "2 access-log rows")

    refused_staff = _staff()
    assert frontdoor.get(A, "nhi", path, purpose="tax_assessment",
                         staff_id=refused_staff).status_code == 403
    assert access_rows(e2e_stack, "nhi", refused_staff) == []
