"""Open data on the live stack: each member's files through the frontdoor without a token, valid
against the definition with no suppressed cell recoverable; the same token-less caller is refused
by the personal endpoints of every service (twin)."""

from __future__ import annotations

import random
from datetime import date

import pytest
from e2e_support import SUMMARY, A, B, C

from municloud.opendata import definition
from municloud_ops.opendata.audit import published_table
from municloud_ops.opendata.publish import Frontdoor, publish

pytestmark = [pytest.mark.live, pytest.mark.e2e]


def _move_in(area: str, members: list[tuple[str, str, str]]) -> dict:
    rng = random.Random()
    return {"kind": "move_in", "event_date": "2025-04-01", "notification_date": "2025-04-03",
            "address": f"秋田県鹿角郡小坂町{area}{rng.randint(1, 250)}番地",
            "previous_address": "東京都千代田区千代田1番1号", "new_household": {},
            "members": [{"resident_record_code": f"{rng.randrange(10**10, 10**11)}", "family_name": "佐藤",
                         "given_name": "一", "family_name_kana": "サトウ", "given_name_kana": "ハジメ",
                         "birth_date": birth, "sex": sex, "relationship_to_head": rel}
                        for birth, sex, rel in members]}


@pytest.fixture(scope="module")
def tiny_town(frontdoor):
    """A few residents of A in two 地域 of their own (cells of 1 and 2), registered by 転入."""
    for body in (_move_in("字開示テスト上", [("1950-01-01", "1", "世帯主"), ("1951-02-01", "2", "妻")]),
                 _move_in("字開示テスト下", [("1990-05-05", "2", "世帯主")])):
        r = frontdoor.post(A, "residents_registry", "/api/v1/movements", json=body, purpose="resident_record")
        assert r.status_code == 201, r.text


@pytest.mark.parametrize("lgcode", [A, B, C])
def test_open_data_through_the_frontdoor_without_a_token(e2e_stack, tiny_town, tmp_path, lgcode):
    sentences = publish(Frontdoor(e2e_stack.frontdoor_url, e2e_stack.ca_file), lgcode, date.today(),
                        tmp_path)
    assert any("population_by_area_age.csv: valid" in s for s in sentences), sentences
    assert any("households_by_area.csv: valid" in s for s in sentences), sentences
    if lgcode == A:  # the tiny town's 地域 are there, every cell of theirs suppressed
        pop = definition.load("population_by_area_age")
        table = published_table(pop, (tmp_path / pop.file_name).read_bytes())
        rows = [r for r, (_, name) in enumerate(table.areas) if name.startswith("字開示テスト")]
        assert len(rows) == 2
        for r in rows:
            assert {c for c in pop.count_columns if table.values[r][c]} == set(), "a small count was published"
            assert any((r, c) in table.suppressed for c in pop.count_columns)
    SUMMARY.append(f"open data {lgcode}: " + "; ".join(s for s in sentences if "valid" in s))


@pytest.mark.parametrize("service,path", [
    ("residents_registry", "/api/v1/residents?family_name=佐藤"),
    ("residents_registry", "/api/v1/households/053031000000001"),
    ("residents_registry", "/api/v1/layout/export"),
    ("tax", "/api/v1/taxpayers/053031000000001"),
    ("nhi", "/api/v1/insured/053031000000001"),
])
def test_twin_personal_endpoints_refuse_the_token_less_caller(frontdoor, service, path):
    r = frontdoor.client.get(f"/{A}/{service}{path}")
    assert r.status_code == 401, (service, path, r.status_code, r.text[:200])
    assert r.json()["error"]["code"] == "missing_token"
