"""DR probe (municloud.service.dr_probe_api): every service has it, operators only, numbered
writes stored once and read back, bad input refused with the field named and nothing stored."""

import pytest

pytestmark = pytest.mark.integration

URL = "/api/v1/dr-probe"


@pytest.mark.parametrize("service", ["residents_registry", "tax", "nhi"])
def test_operator_writes_and_reads_back_numbered_probes(harness, service):
    operator = harness.token(service, "system_operation")
    with harness.client(service, site="dr") as c:
        for n in (1, 2, 2, 3):  # a retried number is acknowledged again and stored once
            r = c.post(URL, json={"run_id": "run-1", "n": n}, headers=operator)
            assert r.status_code == 201 and r.json() == {"run_id": "run-1", "n": n, "site": "dr"}
        read = c.get(f"{URL}/run-1", headers=operator).json()
        other = c.get(f"{URL}/run-2", headers=operator).json()
    assert read == {"run_id": "run-1", "site": "dr", "count": 3, "numbers": [1, 2, 3]}
    assert other["numbers"] == [] and other["count"] == 0
    assert harness.count(service, "dr_probe") == 3


def test_a_staff_token_is_refused_and_nothing_stored(harness):
    staff = harness.token("residents_registry", "resident_record")
    with harness.client("residents_registry") as c:
        r = c.post(URL, json={"run_id": "run-1", "n": 1}, headers=staff)
        read = c.get(f"{URL}/run-1", headers=staff)
        unauthenticated = c.post(URL, json={"run_id": "run-1", "n": 1})
    assert r.status_code == 403 and r.json()["error"]["code"] == "purpose_not_allowed"
    assert read.status_code == 403 and unauthenticated.status_code == 401
    assert harness.count("residents_registry", "dr_probe") == 0


@pytest.mark.parametrize("body,field", [
    ({"run_id": "run-1", "n": "7"}, "n"),
    ({"run_id": "run-1", "n": 1.5}, "n"),
    ({"run_id": "run-1", "n": 0}, "n"),
    ({"run_id": "run-1", "n": 1_000_001}, "n"),
    ({"n": 1}, "run_id"),
    ({"run_id": "", "n": 1}, "run_id"),
    ({"run_id": "x" * 65, "n": 1}, "run_id"),
    ({"run_id": "run 1; drop", "n": 1}, "run_id"),
    ({"run_id": "run-1", "n": 1, "extra": "x"}, "extra"),
])
def test_bad_input_is_refused_with_the_field_named_and_nothing_stored(harness, body, field):
    operator = harness.token("residents_registry", "system_operation")
    with harness.client("residents_registry") as c:
        r = c.post(URL, json=body, headers=operator)
        assert c.get(f"{URL}/{'x' * 65}", headers=operator).status_code == 422
    assert r.status_code == 422 and r.json()["error"]["field"] == field, r.json()
    assert harness.count("residents_registry", "dr_probe") == 0


def test_site_is_null_when_the_container_does_not_say(harness):
    with harness.client("tax") as c:
        r = c.post(URL, json={"run_id": "r", "n": 1}, headers=harness.token("tax", "system_operation"))
    assert r.status_code == 201 and r.json()["site"] is None
