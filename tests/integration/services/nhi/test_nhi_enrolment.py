"""nhi: staff enrolment / withdrawal with history; bad input names the field and stores nothing;
資格確認書 read path."""

import pytest

pytestmark = pytest.mark.integration

SERVICE = "nhi"
TABLES = ("enrolments", "enrolment_events")


@pytest.fixture
def seeded(harness):
    with harness.client(SERVICE) as c:
        r = c.post("/api/v1/admin/seed", json={"population": 120, "seed": 2},
                   headers=harness.token(SERVICE, "system_operation"))
        assert r.status_code == 201
        insured = harness.query(SERVICE, "SELECT atena_number FROM enrolments WHERE insured"
                                         " ORDER BY 1 LIMIT 1")[0]["atena_number"]
        outside = harness.query(SERVICE, "SELECT atena_number FROM persons p WHERE NOT EXISTS"
                                         " (SELECT 1 FROM enrolments e WHERE e.atena_number ="
                                         " p.atena_number) ORDER BY 1 LIMIT 1")[0]["atena_number"]
        yield c, insured, outside


def counts(harness):
    return {t: harness.count(SERVICE, t) for t in TABLES}


@pytest.mark.parametrize("patch,field,status", [
    ({"event_date": "令和7年2月30日"}, "event_date", 422),
    ({"reason": "bored"}, "reason", 422),
    ({"atena_number": "05303100000000X"}, "atena_number", 422),
    ({"atena_number": "053031000999999"}, "atena_number", 404),
    ({"extra": 1}, "extra", 422),
])
def test_bad_withdrawal_names_field_and_stores_nothing(harness, seeded, patch, field, status):
    c, insured, _ = seeded
    h = harness.token(SERVICE, "nhi_administration")
    before = counts(harness)
    body = {"atena_number": insured, "event_date": "2025-06-01", "reason": "employee_insurance", **patch}
    r = c.post("/api/v1/insured/withdrawals", json=body, headers=h)
    assert r.status_code == status and r.json()["error"]["field"] == field, r.text
    assert counts(harness) == before
    # twin: the valid withdrawal is recorded, with history
    ok = c.post("/api/v1/insured/withdrawals", headers=h, json={
        "atena_number": insured, "event_date": "令和7年6月1日", "reason": "employee_insurance"})
    assert ok.status_code == 201 and ok.json()["insured"] is False
    assert ok.json()["lost_on"] == "2025-06-01"
    assert counts(harness)["enrolment_events"] == before["enrolment_events"] + 1


def test_enrol_then_certificate(harness, seeded):
    c, _, outside = seeded
    h = harness.token(SERVICE, "nhi_administration")
    assert c.get(f"/api/v1/insured/{outside}/certificate", headers=h).status_code == 404
    r = c.post("/api/v1/insured/enrolments", headers=h, json={
        "atena_number": outside, "event_date": "2025-07-01", "reason": "application"})
    assert r.status_code == 201 and r.json()["insured"] is True
    twice = c.post("/api/v1/insured/enrolments", headers=h, json={
        "atena_number": outside, "event_date": "2025-07-01", "reason": "application"})
    assert twice.status_code == 409
    cert = c.get(f"/api/v1/insured/{outside}/certificate",
                 headers=harness.token(SERVICE, "certificate_issuance")).json()
    assert cert["valid"] is True and cert["acquired_on"] == "令和7年7月1日"
    assert cert["acquired_on_iso"] == "2025-07-01" and cert["insured_number"] == outside
    refused = c.get(f"/api/v1/insured/{outside}/certificate",
                    headers=harness.token(SERVICE, "tax_assessment"))
    assert refused.status_code == 403
    events = harness.query(SERVICE, "SELECT event, reason, staff_id FROM enrolment_events"
                                    " WHERE atena_number = $1", outside)
    assert [(e["event"], e["reason"], e["staff_id"]) for e in events] == [
        ("acquire", "application", "staff01")]


def test_premium_of_unknown_household_and_unsupported_year(harness, seeded):
    c, insured, _ = seeded
    h = harness.token(SERVICE, "nhi_administration")
    r = c.post("/api/v1/premiums/053031000999999/2025", headers=h)
    assert r.status_code == 404 and r.json()["error"]["field"] == "household_number"
    household = harness.query(SERVICE, "SELECT household_number FROM persons WHERE atena_number = $1",
                              insured)[0]["household_number"]
    r = c.post(f"/api/v1/premiums/{household}/2025", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "income_missing"
    assert harness.count(SERVICE, "premiums") == 0
