"""Freshness window, replay digest and Fault correlation (docs/platform.md "Inbox contract"):
each refusal with its allowed twin."""

import datetime as dt

import pytest

from municloud.platform import (
    KeyRegistry,
    MalformedMessageError,
    SignatureError,
    SigningKey,
    StaleMessageError,
    build_message,
    check_freshness,
    encode_message,
    make_fault,
    parse_message,
    receive_message,
    sign_message,
)
from municloud.platform.samples import sample_move_notice

pytestmark = pytest.mark.unit
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)


def _message(serial: int = 1, timestamp: dt.datetime | None = None):
    return build_message(sample_move_notice("053031", serial), sender_unit="residents_registry",
                         sender_lgcode="053031", receiver_unit="platform_hub",
                         receiver_lgcode="053031", timestamp=timestamp)


@pytest.mark.parametrize(("offset", "fresh"), [
    (dt.timedelta(hours=-23, minutes=-59), True), (dt.timedelta(hours=-24, minutes=-1), False),
    (dt.timedelta(minutes=4), True), (dt.timedelta(minutes=6), False)])
def test_freshness_window(offset: dt.timedelta, fresh: bool) -> None:
    header = _message(timestamp=NOW + offset).header
    if fresh:
        check_freshness(header, now=NOW)
    else:
        with pytest.raises(StaleMessageError) as refused:
            check_freshness(header, now=NOW)
        assert refused.value.code == "stale-message" and refused.value.header == header


def test_inbox_refuses_a_stale_message_and_keeps_its_header_for_the_fault() -> None:
    key = SigningKey.generate("053031-residents_registry-1")
    registry = KeyRegistry()
    registry.add_signing_key(key, lgcode="053031", unit="residents_registry")
    stale = _message(timestamp=NOW - dt.timedelta(days=2))
    with pytest.raises(StaleMessageError) as refused:
        receive_message(sign_message(stale, key), registry, lgcode="053031", unit="tax", now=NOW)
    fault = parse_message(make_fault("stale-message", "old", key=key, unit="tax",
                                     lgcode="053031", in_reply_to=refused.value.header))
    assert fault.body.faulted_message_id == stale.header.message_id
    assert fault.header.correlation_id == stale.header.message_id
    assert fault.header.receiver_unit.value == "residents_registry"
    fresh = _message(timestamp=NOW)  # the twin
    received = receive_message(sign_message(fresh, key), registry, lgcode="053031", unit="tax",
                               now=NOW)
    assert received.header.message_id == fresh.header.message_id


def test_content_digest_tells_a_replay_from_a_duplicate() -> None:
    key = SigningKey.generate("053031-residents_registry-1")
    original = _message(1)
    altered = _message(2).model_copy(update={"header": original.header})
    first = parse_message(sign_message(original, key)).content_sha256
    assert parse_message(sign_message(original, key)).content_sha256 == first
    assert parse_message(encode_message(original)).content_sha256 == first  # signature excluded
    assert parse_message(sign_message(altered, key)).content_sha256 != first


def test_signature_refusal_carries_the_header_a_malformed_one_does_not() -> None:
    registry = KeyRegistry()
    registry.add_signing_key(SigningKey.generate("k"), lgcode="053279", unit="residents_registry")
    message = _message()
    with pytest.raises(SignatureError) as refused:
        parse_message(sign_message(message, SigningKey.generate("k")), registry=registry)
    assert refused.value.header.message_id == message.header.message_id
    with pytest.raises(MalformedMessageError) as broken:
        parse_message(b"<Envelope")
    assert broken.value.header is None
    uncorrelated = parse_message(make_fault("malformed", "x", key=SigningKey.generate("h"),
                                            unit="tax", lgcode="053031"))
    assert uncorrelated.header.correlation_id is None
    assert (uncorrelated.header.receiver_unit.value, uncorrelated.header.receiver_lgcode) == (
        "tax", "053031")
