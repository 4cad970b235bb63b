"""Hostile JSON, identifiers and free text against a running residents_registry (own token, so
only the input is hostile): each is a clear 4xx naming the field, within bounded time and
memory, never echoing a 個人番号, and nothing is stored (rows counted before and after)."""

from __future__ import annotations

import json

import pytest

from municloud import ids
from security_support import bounded
from tenant_target import move_in_body

pytestmark = [pytest.mark.security, pytest.mark.integration]

SERIAL = 500  # residents created here use serials from 500 up, away from the fixture's
MY_NUMBER = ids.my_number_for_serial("053031", SERIAL)


def _post(tenants, content: bytes, content_type: str = "application/json"):
    a, _, client = tenants
    before = a.counts()
    with bounded(max_seconds=5.0, max_peak_bytes=256 * 1024 * 1024):
        response = client.post(f"{a.url}/api/v1/movements", content=content,
                               headers={**a.headers(), "content-type": content_type})
    assert a.counts() == before, "hostile input changed the tables"
    assert MY_NUMBER not in response.text, "a 個人番号 was echoed in the error"
    return response


def _body(serial: int = SERIAL, **person_over) -> dict:
    """A valid 転入 body whose person is changed by `person_over`; each case its own serial so
    that one accepted case cannot make the others fail as duplicates."""
    body = move_in_body("053031", serial)
    body["members"][0].update(person_over)
    return body


def _with(**over) -> bytes:
    body = move_in_body("053031", SERIAL + 1)
    body.update(over)
    return json.dumps(body).encode()


JSON_CASES = {
    "deep-nesting-array": b"[" * 100_000 + b"]" * 100_000,
    "deep-nesting-in-field": _with(members=json.loads("[" * 500 + "]" * 500)),
    "oversized-12MiB-field": _with(address="あ" * (4 << 20)),
    "not-json": b"kind=move_in&members=1",
    "trailing-comma": b'{"kind": "move_in",}',
    "nan-literal": _with()[:-1] + b', "x": NaN}',
    "invalid-utf8": json.dumps(move_in_body("053031", SERIAL + 4), ensure_ascii=False).encode()
                        .replace("秋田".encode(), b"\xff\xfe", 1),
    "null-body": b"null",
    "array-body": b"[]",
    "number-body": b"1e999999",
    "unknown-kind": _with(kind="grant_admin"),
    "members-as-string": _with(members="everyone"),
    "members-empty": _with(members=[]),
    "members-too-many": _with(members=[move_in_body("053031", SERIAL)["members"][0]] * 31),
    "event-date-as-int": _with(event_date=20260401),
    "event-date-impossible": _with(event_date="2026-02-30"),
    "extra-field": _with(is_admin=True),
    "sex-out-of-range": json.dumps(_body(SERIAL + 2, sex="3")).encode(),
    "kana-with-latin": json.dumps(_body(SERIAL + 3, family_name_kana="akita")).encode(),
}


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("case", list(JSON_CASES))
def test_hostile_json_is_refused(tenants, case):
    response = _post(tenants, JSON_CASES[case])
    assert response.status_code in (400, 413, 422), response.text[:300]
    assert response.json()["error"]["message"]


IDENTIFIER_CASES = {
    "my-number-bad-check-digit": {"individual_number": MY_NUMBER[:11] + str((int(MY_NUMBER[11]) + 1) % 10)},
    "my-number-full-width": {"individual_number": MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))},
    "my-number-11-digits": {"individual_number": MY_NUMBER[:11]},
    "my-number-13-digits": {"individual_number": MY_NUMBER + "0"},
    "my-number-hyphenated": {"individual_number": f"{MY_NUMBER[:4]}-{MY_NUMBER[4:8]}-{MY_NUMBER[8:]}"},
    "my-number-as-int": {"individual_number": int(MY_NUMBER)},
    "my-number-arabic-indic": {"individual_number": MY_NUMBER.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))},
    "resident-code-10-digits": {"resident_record_code": "1234567890"},
    "atena-number-foreign-prefix": {"atena_number": "999999000000001"},
    "atena-number-other-tenant": {"atena_number": ids.new_atena_number("053279", 77)},
}


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("case", list(IDENTIFIER_CASES))  # other-tenant prefix: security finding H-3
def test_bad_identifier_is_refused_naming_the_field(tenants, case):
    over = IDENTIFIER_CASES[case]
    serial = SERIAL + 10 + list(IDENTIFIER_CASES).index(case)
    response = _post(tenants, json.dumps(_body(serial, **over)).encode())
    assert response.status_code == 422, response.text[:300]
    assert next(iter(over)) in (response.json()["error"]["field"] or ""), response.text[:300]


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("path", [
    "053031500000001' OR '1'='1", "０５３０３１５０００００００１", "05303150000000", "0530315000000011",
    "..%2F..%2Fadmin", "053031500000001;DROP TABLE residents",
])
def test_bad_atena_number_in_path_is_refused(tenants, path):
    a, _, client = tenants
    before = a.counts()
    with bounded(max_seconds=3.0):
        response = client.get(f"{a.url}/api/v1/residents/{path}", headers=a.headers())
    assert response.status_code in (404, 422), response.text[:300]
    assert a.counts() == before


CONTROL_TEXT = {
    "escape-sequence": "秋\x1b[31m田", "nul": "秋\x00田", "newline": "秋\n田",
    "bidi-override": "秋\u202e田", "bell": "秋\x07田", "zero-width-joiner-only": "\u200d",
}


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("case", list(CONTROL_TEXT))  # security finding H-2
def test_control_characters_in_free_text_are_refused(tenants, case):
    serial = SERIAL + 30 + list(CONTROL_TEXT).index(case)
    response = _post(tenants, json.dumps(_body(serial, family_name=CONTROL_TEXT[case])).encode())
    assert response.status_code == 422, response.text[:300]
    assert "family_name" in (response.json()["error"]["field"] or "")


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("term", ["%", "_", "%' OR '1'='1", "\\", "' UNION SELECT individual_number FROM residents --"])
def test_sql_like_search_terms_match_nothing(tenants, term):
    """Wildcards and quotes are data: they match no resident instead of every resident."""
    a, _, client = tenants
    response = client.get(f"{a.url}/api/v1/residents", params={"family_name": term}, headers=a.headers())
    assert response.status_code in (200, 422), response.text[:300]
    if response.status_code == 200:
        assert response.json() == []


@pytest.mark.twin("hostile input")
@pytest.mark.parametrize("name", ["'; DROP TABLE residents; --", "$(reboot)", "`id`", "髙橋", "ｱｷﾀ"])
def test_twin_sql_and_shell_like_names_are_stored_verbatim(tenants, name):
    """Free text is inert data: stored and read back exactly, and the tables are still there."""
    a, _, client = tenants
    serial = 600 + sum(map(ord, name)) % 300
    response = client.post(f"{a.url}/api/v1/movements", headers=a.headers(),
                           json=_body(serial, family_name=name))
    assert response.status_code == 201, response.text[:300]
    atena = response.json()["movements"][0]["atena_number"]
    got = client.get(f"{a.url}/api/v1/residents/{atena}", headers=a.headers())
    assert got.json()["family_name"] == name
    assert int(a.sql("SELECT count(*) FROM residents")) >= 2


@pytest.mark.twin("hostile input")
def test_twin_valid_move_in_is_stored(tenants):
    a, _, client = tenants
    before = a.counts()
    response = client.post(f"{a.url}/api/v1/movements", json=move_in_body("053031", 950), headers=a.headers())
    assert response.status_code == 201, response.text[:300]
    assert a.counts()[0] == before[0] + 1
