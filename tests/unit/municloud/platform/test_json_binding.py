"""REST/JSON binding: same checks and the same signature as the XML binding."""

import json

import pytest

from municloud.platform import (
    InvalidMessageError, MalformedMessageError, SignatureError, UnsafeMessageError, build_message, sign_message,
)
from municloud.platform.json_binding import parse_message_json, sign_message_json
from municloud.platform.samples import sample_move_notice

pytestmark = pytest.mark.unit


@pytest.fixture
def message():
    return build_message(sample_move_notice("053031"), sender_unit="residents_registry", sender_lgcode="053031",
                         receiver_unit="platform_hub", receiver_lgcode="053031")


def test_json_round_trip_gives_the_same_signed_xml(keys, message):
    residents, _, registry = keys
    decoded, xml = parse_message_json(sign_message_json(message, residents), registry=registry)
    assert decoded.header == message.header and decoded.body == message.body
    assert xml == sign_message(message, residents)


def test_tampered_json_fails_the_signature(keys, message):
    residents, _, registry = keys
    doc = json.loads(sign_message_json(message, residents))
    doc["body"]["ResidentMoveNotice"]["moves"][0]["person"]["given_name"] = "次郎"
    with pytest.raises(SignatureError):
        parse_message_json(json.dumps(doc).encode(), registry=registry)


def test_invalid_field_names_its_path_without_the_value(keys, message):
    residents, _, registry = keys
    doc = json.loads(sign_message_json(message, residents))
    number = doc["body"]["ResidentMoveNotice"]["moves"][0]["person"]["individual_number"]
    bad = number[:11] + str((int(number[11]) + 1) % 10)
    doc["body"]["ResidentMoveNotice"]["moves"][0]["person"]["individual_number"] = bad
    with pytest.raises(InvalidMessageError) as err:
        parse_message_json(json.dumps(doc).encode(), registry=registry)
    assert err.value.path == "/body/ResidentMoveNotice/moves/0/person/individual_number"
    assert bad not in str(err.value)


def test_hostile_json(keys, message):
    residents, _, registry = keys
    good = sign_message_json(message, residents)
    assert parse_message_json(good, registry=registry)  # allowed twin
    with pytest.raises(MalformedMessageError, match="duplicate"):
        parse_message_json(b'{"header": {}, "header": {}}')
    with pytest.raises(UnsafeMessageError, match="deeper"):
        parse_message_json(b'{"header": ' + b"[" * 40 + b"]" * 40 + b"}")
    with pytest.raises(UnsafeMessageError, match="UTF-8"):
        parse_message_json(good.replace("試験".encode(), "試験".encode("cp932")))
    with pytest.raises(UnsafeMessageError, match="limit"):
        parse_message_json(good, max_bytes=len(good) - 1)
    with pytest.raises(MalformedMessageError):
        parse_message_json(good[:-5])
    with pytest.raises(InvalidMessageError, match="exactly one"):
        parse_message_json(json.dumps({"header": {}, "body": {"Unknown": {}}}).encode())
