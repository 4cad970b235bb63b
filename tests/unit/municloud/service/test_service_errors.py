"""JSON errors name the field and never echo the value."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from municloud.service.errors import install_error_handlers
from municloud.service.types import FlexibleDate, MyNumber

pytestmark = pytest.mark.unit


class Body(BaseModel):
    individual_number: MyNumber
    birth_date: FlexibleDate


@pytest.fixture(scope="module")
def client():
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/x")
    async def x(body: Body) -> dict:
        return {"birth_date": body.birth_date.isoformat()}

    return TestClient(app)


def test_bad_my_number_names_field_without_value(client):
    r = client.post("/x", json={"individual_number": "123456789019", "birth_date": "2000-01-01"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["field"] == "individual_number" and error["code"] == "invalid"
    assert "check digit" in error["message"]
    assert "123456789019" not in r.text


@pytest.mark.parametrize("value", ["１２３４５６７８９０１８", "1234-5678-9018", "12345678901"])
def test_malformed_my_number_refused(client, value):
    r = client.post("/x", json={"individual_number": value, "birth_date": "2000-01-01"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "individual_number"


@pytest.mark.parametrize("value,iso", [("2024-01-02", "2024-01-02"), ("令和6年1月2日", "2024-01-02"),
                                       ("R6.01.02", "2024-01-02"), ("平成31年4月30日", "2019-04-30")])
def test_dates_in_both_calendars_accepted(client, value, iso):
    r = client.post("/x", json={"individual_number": "123456789018", "birth_date": value})
    assert r.status_code == 200 and r.json() == {"birth_date": iso}


@pytest.mark.parametrize("value", ["平成31年5月1日", "2024-02-30", "yesterday"])
def test_bad_dates_refused(client, value):
    r = client.post("/x", json={"individual_number": "123456789018", "birth_date": value})
    assert r.status_code == 422 and r.json()["error"]["field"] == "birth_date"


@pytest.mark.parametrize("text", ["秋\x1b[31m田", "秋\x00田", "秋\n田", "秋\u202e田", "秋\x07田",
                                  "\u200d", "　", "秋\ufeff田", "秋\u2066田"])
def test_free_text_refuses_control_and_invisible_text(text):
    from municloud.service.types import check_free_text

    with pytest.raises(ValueError):
        check_free_text(text)


@pytest.mark.parametrize("text", ["佐藤", "'; DROP TABLE residents; --", "髙橋", "ｱｷﾀ", "秋田県 小坂町　1番地"])
def test_free_text_twin_keeps_ordinary_text(text):
    from municloud.service.types import check_free_text

    assert check_free_text(text) == text


_REFUSED = ["秋\x1b[31m田", "秋\x00田", "秋\n田", "秋\u202e田", "秋\x07田", "\u200d", "　", "秋\ufeff田",
            "秋\u2066田", "a\n", " \xa0\u2003\u2060", "秋\u2028田", "\x85"]
_KEPT = ["佐藤", "'; DROP TABLE residents; --", "髙橋", "ｱｷﾀ", "秋田県 小坂町　1番地", " a ", "\u3000田"]


@pytest.mark.parametrize("text", _REFUSED + _KEPT)
def test_the_documented_free_text_pattern_is_the_check(text):
    """The OpenAPI's pattern for free text (FREE_TEXT_PATTERN, read as a JSON Schema validator
    reads it) refuses what check_free_text refuses and keeps what it keeps (twins: both lists)."""
    import jsonschema_rs

    from municloud.service.types import FREE_TEXT_PATTERN, check_free_text

    try:
        check_free_text(text)
        kept = True
    except ValueError:
        kept = False
    assert kept == (text in _KEPT)
    assert jsonschema_rs.validator_for({"type": "string", "pattern": FREE_TEXT_PATTERN}).is_valid(text) == kept
