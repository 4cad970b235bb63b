"""Outbox relay grouping: consecutive 住民異動通知 to one receiver travel as one message; other
bodies and other receivers break the run (order kept)."""

import json

import pytest

from municloud.service.outbox import _body, _groups

pytestmark = pytest.mark.unit

PERSON = {"atena_number": "053031000000001", "household_number": "053031000000001",
          "family_name": "佐藤", "given_name": "太郎", "birth_date": "1975-05-05", "sex": "1",
          "relationship_to_head": "世帯主", "address": "秋田県"}


def move(n: int) -> str:
    person = dict(PERSON, atena_number=f"053031{n:09d}")
    return json.dumps({"moves": [{"kind": "move_in", "event_date": "2025-04-01",
                                  "notification_date": "2025-04-01", "person": person}]})


def row(i, message_type="ResidentMoveNotice", lgcode="053031", payload=None):
    return {"id": i, "message_type": message_type, "receiver_unit": "platform_hub",
            "receiver_lgcode": lgcode, "payload": payload or move(i)}


def test_consecutive_notices_merge_in_order():
    groups = _groups([row(1), row(2), row(3)])
    assert [[r["id"] for r in g] for g in groups] == [[1, 2, 3]]
    body = _body(groups[0])
    assert [m.person.atena_number[-1] for m in body.moves] == ["1", "2", "3"]
    assert body.record_count() == 3


def test_other_receiver_or_type_breaks_the_run():
    inquiry = json.dumps({"fiscal_year": 2025, "purpose": "x",
                          "subjects": [{"atena_number": "053031000000001"}]})
    rows = [row(1), row(2, lgcode="053279"), row(3), row(4, "IncomeInquiry", payload=inquiry), row(5)]
    assert [[r["id"] for r in g] for g in _groups(rows)] == [[1], [2], [3], [4], [5]]
