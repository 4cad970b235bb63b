"""residents_registry's open data against a real PostgreSQL: a tiny town registered through 転入,
the public files served without a token, valid against the definition, the small cells suppressed
and none recoverable; the personal endpoints still refuse the same token-less caller (twin)."""

from __future__ import annotations

from datetime import date

import pytest

from municloud.opendata import definition
from municloud_ops.opendata.validate import validate

pytestmark = pytest.mark.integration

SERVICE = "residents_registry"
#: one reference date for the whole module (asked and validated against the same day, also when a
#: run crosses midnight between collection and the test)
TODAY = date.today().isoformat()


def household(n: int, area: str, members: list[tuple[str, str, str]]) -> dict:
    people = []
    for i, (birth, sex, rel) in enumerate(members):
        people.append({"resident_record_code": f"{n:05d}{i:06d}", "family_name": "佐藤",
                       "given_name": "一", "family_name_kana": "サトウ", "given_name_kana": "ハジメ",
                       "birth_date": birth, "sex": sex, "relationship_to_head": rel})
    return {"kind": "move_in", "event_date": "2025-04-01", "notification_date": "2025-04-03",
            "address": f"秋田県鹿角郡小坂町{area}{n}番地", "previous_address": "東京都千代田区千代田1番1号",
            "new_household": {}, "members": people}


TOWN = [  # 字上町: 5 residents in 2 households, 字下町: 1 resident
    household(1, "字上町", [("1950-01-01", "1", "世帯主"), ("1951-02-01", "2", "妻"), ("1980-03-01", "1", "子")]),
    household(2, "字上町", [("1952-01-01", "1", "世帯主"), ("1953-02-01", "2", "妻")]),
    household(3, "字下町", [("1990-05-05", "2", "世帯主")]),
]


@pytest.fixture
def tiny_town(harness):
    with harness.client(SERVICE) as c:
        for body in TOWN:
            r = c.post("/api/v1/movements", json=body, headers=harness.token(SERVICE, "resident_record"))
            assert r.status_code == 201, r.text
    return harness


def test_open_data_is_public_valid_and_protects_small_cells(tiny_town):
    with tiny_town.client(SERVICE) as c:
        files = {}
        for d in map(definition.load, definition.DATASETS):
            r = c.get(f"/api/v1/opendata/{d.file_name}", params={"as_of": TODAY})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith("text/csv")
            report = validate(d, r.content, lgcode="053031", as_of=date.fromisoformat(TODAY))
            assert report.ok, report.problems
            files[d.id] = r.content.decode("utf-8-sig")
        catalog = c.get("/api/v1/opendata/catalog.jsonld", params={"as_of": TODAY},
                        headers={"X-Forwarded-Proto": "https"})
        ckan = c.get("/api/v1/opendata/ckan.json", params={"as_of": TODAY})
    lines = files["population_by_area_age"].splitlines()
    assert [line.split(",")[5] for line in lines[1:]] == sorted(
        ["字上町", "字下町"], key=lambda n: __import__("municloud.opendata.table", fromlist=["x"]).area_code(n)) + ["全域"]
    assert ",1," not in lines[1] + lines[2] and ",2," not in lines[1] + lines[2]  # no small count shown
    assert "佐藤" not in files["population_by_area_age"] and "佐藤" not in files["households_by_area"]
    assert catalog.status_code == 200 and catalog.headers["content-type"] == "application/ld+json"
    dist = catalog.json()["dcat:dataset"][0]["dcat:distribution"][0]
    assert dist["dcat:downloadURL"]["@id"].startswith("https://")
    assert "/053031/opendata/population_by_area_age.csv" in dist["dcat:downloadURL"]["@id"]
    assert ckan.status_code == 200 and len(ckan.json()) == 2


# Not behind a staff token by design: open data, liveness, and the platform inbox (its messages are
# signed by the sending unit instead: docs/platform.md).
PUBLIC = ("/api/v1/opendata/", "/healthz", "/readyz", "/api/v1/platform/inbox")
SAMPLE = {"atena_number": "053031500000001", "household_number": "053031500000001",
          "run_id": "00000000-0000-0000-0000-000000000000", "certificate_number": "053031000000001"}


def test_twin_every_personal_endpoint_still_refuses_the_token_less_caller(tiny_town):
    with tiny_town.client(SERVICE) as c:
        paths = c.get("/openapi.json").json()["paths"]
        checked = []
        for path, ops in paths.items():
            if path.startswith(PUBLIC):
                continue
            for method in ops:
                r = c.request(method.upper(), path.format(**SAMPLE), json={})
                assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
                assert r.json()["error"]["code"] == "missing_token"
                checked.append(path)
    assert "/api/v1/residents/{atena_number}" in checked and len(checked) >= 12


@pytest.mark.parametrize("params,status,code", [
    ({"as_of": "2999-01-01"}, 422, "as_of_in_future"),
    ({"as_of": "yesterday"}, 422, None),
    ({}, 422, None),
])
def test_bad_dates_are_named(tiny_town, params, status, code):
    with tiny_town.client(SERVICE) as c:
        r = c.get("/api/v1/opendata/population_by_area_age.csv", params=params)
        missing = c.get("/api/v1/opendata/nope.csv", params={"as_of": TODAY})
    assert r.status_code == status
    assert r.json()["error"]["field"] == "as_of" or "as_of" in r.text
    if code:
        assert r.json()["error"]["code"] == code
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_dataset"
