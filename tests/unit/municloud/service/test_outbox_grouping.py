"""Outbox relay grouping, generic over the platform body types: consecutive bodies of a batch
type (Body.batch_field) to one receiver travel as one message; any other body type travels
alone; other receivers, correlations or differing fields break the run (order kept)."""

import datetime as dt
import json
import uuid

import pytest

from municloud.platform.models import (BODY_TYPES, Ack, AckStatus, Fault, IncomeInquiry,
                                       IncomeInquiryResponse, MoveOutCertificate, ResidentMoveNotice)
from municloud.service.outbox import _body, _groups, batch_limit, body_type, enqueue

pytestmark = pytest.mark.unit

PERSON = {"atena_number": "053031000000001", "household_number": "053031000000001",
          "family_name": "佐藤", "given_name": "太郎", "birth_date": "1975-05-05", "sex": "1",
          "relationship_to_head": "世帯主", "address": "秋田県"}
INQUIRY_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


def person(n: int) -> dict:
    return dict(PERSON, atena_number=f"053031{n:09d}")


#: one valid payload per platform body type, numbered so merged records can be told apart
SAMPLES = {
    "ResidentMoveNotice": lambda n: {"moves": [{"kind": "move_in", "event_date": "2025-04-01",
                                                "notification_date": "2025-04-01", "person": person(n)}]},
    "IncomeInquiry": lambda n: {"fiscal_year": 2025, "purpose": "国民健康保険税の賦課",
                                "subjects": [{"atena_number": person(n)["atena_number"]}]},
    "IncomeInquiryResponse": lambda n: {"fiscal_year": 2025, "records": [
        {"atena_number": person(n)["atena_number"], "found": True, "total_income": 1000 * n}]},
    "MoveOutCertificate": lambda n: {"certificate_number": f"C-{n}", "issued_date": "2025-04-01",
                                     "planned_move_date": "2025-04-10", "new_address": "秋田県大館市",
                                     "members": [person(n)]},
    "Ack": lambda n: {"acknowledged_message_id": str(uuid.UUID(int=n)), "status": "accepted",
                      "received_at": "2025-04-01T00:00:00+00:00"},
    "Fault": lambda n: {"code": "invalid-message", "reason": f"reason {n}"},
}
BATCH_TYPES = sorted(t for t, cls in BODY_TYPES.items() if cls.batch_field)
SINGLE_TYPES = sorted(t for t, cls in BODY_TYPES.items() if not cls.batch_field)


def row(i, message_type="ResidentMoveNotice", lgcode="053031", payload=None, correlation_id=None):
    return {"id": i, "message_type": message_type, "receiver_unit": "tax", "receiver_lgcode": lgcode,
            "correlation_id": correlation_id,
            "payload": json.dumps(payload if payload is not None else SAMPLES[message_type](i))}


def ids(groups):
    return [[r["id"] for r in g] for g in groups]


def test_every_platform_body_type_has_a_sample_here():
    assert set(SAMPLES) == set(BODY_TYPES)
    assert BATCH_TYPES == ["ResidentMoveNotice"] and len(SINGLE_TYPES) == 5


@pytest.mark.parametrize("message_type", sorted(BODY_TYPES))
def test_a_queued_row_of_any_body_type_becomes_that_body(message_type):
    body = _body([row(7, message_type)])
    assert type(body) is BODY_TYPES[message_type]
    assert json.loads(body.model_dump_json()) == json.loads(
        BODY_TYPES[message_type].model_validate(SAMPLES[message_type](7)).model_dump_json())


@pytest.mark.parametrize("message_type", BATCH_TYPES)
def test_consecutive_bodies_of_a_batch_type_merge_in_order(message_type):
    groups = _groups([row(1, message_type), row(2, message_type), row(3, message_type)])
    assert ids(groups) == [[1, 2, 3]]
    body = _body(groups[0])
    records = getattr(body, body.batch_field)
    assert [r.person.atena_number[-1] for r in records] == ["1", "2", "3"]
    assert body.record_count() == 3


@pytest.mark.parametrize("message_type", SINGLE_TYPES)
def test_twin_consecutive_bodies_of_any_other_type_travel_alone(message_type):
    rows = [row(1, message_type), row(2, message_type), row(3, message_type)]
    groups = _groups(rows)
    assert ids(groups) == [[1], [2], [3]]
    assert [type(_body(g)) for g in groups] == [BODY_TYPES[message_type]] * 3


def test_other_receiver_correlation_or_type_breaks_the_run():
    rows = [row(1), row(2, lgcode="053279"), row(3), row(4, "IncomeInquiry"), row(5),
            row(6, correlation_id=INQUIRY_ID), row(7)]
    assert ids(_groups(rows)) == [[1], [2], [3], [4], [5], [6], [7]]


def test_twin_same_receiver_and_correlation_merge():
    rows = [row(1, correlation_id=INQUIRY_ID), row(2, correlation_id=INQUIRY_ID), row(3, lgcode="053279")]
    assert ids(_groups(rows)) == [[1, 2], [3]]


def test_a_batch_stops_at_its_types_record_limit():
    limit = batch_limit(ResidentMoveNotice)
    assert limit == 1000
    many = lambda start, count: {"moves": [SAMPLES["ResidentMoveNotice"](n)["moves"][0]  # noqa: E731
                                           for n in range(start, start + count)]}
    full = [row(1, payload=many(0, limit - 1)), row(2, payload=many(limit, 1))]
    assert ids(_groups(full)) == [[1, 2]]  # twin: exactly at the limit still merges
    over = [row(1, payload=many(0, limit - 1)), row(2, payload=many(limit, 2))]
    assert ids(_groups(over)) == [[1], [2]]


def test_an_unknown_message_type_is_named():
    with pytest.raises(ValueError, match="'Gossip' is not a platform body type"):
        body_type("Gossip")
    assert body_type("Fault") is Fault  # twin


class _Conn:
    """Records the INSERT a queued body becomes (the SQL itself runs in the integration tests)."""

    def __init__(self):
        self.args = None

    async def fetchval(self, sql, *args):
        self.args = args
        return 1


@pytest.mark.parametrize("body", [
    ResidentMoveNotice.model_validate(SAMPLES["ResidentMoveNotice"](1)),
    IncomeInquiry.model_validate(SAMPLES["IncomeInquiry"](1)),
    IncomeInquiryResponse.model_validate(SAMPLES["IncomeInquiryResponse"](1)),
    MoveOutCertificate.model_validate(SAMPLES["MoveOutCertificate"](1)),
    Ack(acknowledged_message_id=INQUIRY_ID, status=AckStatus.PROCESSED,
        received_at=dt.datetime(2025, 4, 1, tzinfo=dt.timezone.utc)),
    Fault(code="invalid-message", reason="x"),
], ids=lambda b: type(b).message_type)
async def test_enqueue_takes_any_platform_body_and_the_relay_rebuilds_it(body):
    conn = _Conn()
    await enqueue(conn, body, receiver_unit="tax", receiver_lgcode="053031")
    message_type, _unit, _lgcode, _corr, _ref, payload = conn.args
    assert message_type == type(body).message_type
    assert _body([{"message_type": message_type, "payload": payload}]) == body


async def test_twin_enqueue_refuses_what_is_not_a_platform_body():
    class Gossip(ResidentMoveNotice):
        message_type = "Gossip"

    for bad in ({"moves": []}, Gossip.model_validate(SAMPLES["ResidentMoveNotice"](1))):
        with pytest.raises(TypeError, match="is not a platform body type"):
            await enqueue(_Conn(), bad, receiver_unit="tax", receiver_lgcode="053031")
