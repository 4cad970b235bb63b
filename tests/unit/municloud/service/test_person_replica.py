"""The one person replica of tax and nhi: status after each move, the upsert it sends, the seed copy."""

from __future__ import annotations

import asyncio
from datetime import date
from types import SimpleNamespace

import pytest

from municloud.layout.person_copy import STATUS
from municloud.service.person_replica import COLUMNS, STATUSES, PersonReplica, status_after

pytestmark = pytest.mark.unit


class _Conn:
    def __init__(self):
        self.calls = []

    async def execute(self, sql, *args):
        self.calls.append((sql, args))

    async def copy_records_to_table(self, table, columns, records):
        self.calls.append((table, columns, records))


def _person(**over):
    base = dict(atena_number="0530310000001", household_number="H1", individual_number=None,
                family_name="秋田", given_name="太郎", family_name_kana="アキタ", given_name_kana="タロウ",
                birth_date=date(1980, 4, 1), sex=SimpleNamespace(value="1"), relationship_to_head="本人",
                address="秋田県鹿角郡小坂町")
    return SimpleNamespace(**{**base, **over})


@pytest.mark.parametrize("kind, status", [("move_out", "moved_out"), ("death", "deceased"),
                                          ("move_in", "active"), ("birth", "active"), ("move_within", "active")])
def test_status_after_each_kind_of_move(kind, status):
    assert status_after(kind) == status


def test_a_move_out_is_upserted_with_its_date_and_the_number_kept_when_absent():
    conn = _Conn()
    move = SimpleNamespace(kind=SimpleNamespace(value="move_out"), person=_person(), event_date=date(2026, 4, 1))
    status = asyncio.run(PersonReplica("persons").apply_move(conn, move, "m-1"))
    sql, args = conn.calls[0]
    assert status == "moved_out"
    assert sql.startswith("INSERT INTO persons (atena_number,")
    assert "individual_number = coalesce(EXCLUDED.individual_number, persons.individual_number)" in sql
    assert "birth_date = EXCLUDED" not in sql and "sex = EXCLUDED" not in sql  # a notice never rewrites them
    assert dict(zip(COLUMNS, args))["status_date"] == date(2026, 4, 1)
    assert args[-1] == "m-1"


def test_twin_a_move_within_stays_active_without_a_status_date():
    conn = _Conn()
    move = SimpleNamespace(kind=SimpleNamespace(value="move_within"), person=_person(), event_date=date(2026, 4, 1))
    assert asyncio.run(PersonReplica("taxpayers").apply_move(conn, move, "m-2")) == "active"
    values = dict(zip(COLUMNS, conn.calls[0][1]))
    assert values["status"] == "active" and values["status_date"] is None


def test_a_table_name_that_is_not_a_plain_identifier_is_refused_and_an_unknown_status_too():
    with pytest.raises(ValueError, match="plain identifier"):
        PersonReplica("persons; DROP TABLE persons")
    with pytest.raises(ValueError, match="unknown person status"):
        asyncio.run(PersonReplica("persons").upsert(_Conn(), _person(), "gone", None, None))


def test_seed_copies_the_registry_columns_with_the_sex_code():
    conn = _Conn()
    resident = SimpleNamespace(atena_number="A", household_number="H", my_number="123456789018", family_name="f",
                               given_name="g", family_name_kana="F", given_name_kana="G",
                               birth_date=date(1990, 1, 1), sex="female", relationship="本人", address="x")
    assert asyncio.run(PersonReplica("taxpayers").seed(conn, [resident])) == 1
    table, columns, records = conn.calls[0]
    assert table == "taxpayers" and columns[-1] == "address" and records[0][8] == "2"


def test_every_status_has_one_layout_code():
    assert set(STATUS) == set(STATUSES) and len(set(STATUS.values())) == len(STATUSES)
