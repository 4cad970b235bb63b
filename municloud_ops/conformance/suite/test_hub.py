"""HUB-xxx: the kit as a sender against a hub's POST /api/v1/messages (docs/platform.md "Hub")."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from municloud_ops.conformance.context import KitContext
from municloud_ops.conformance.expect import expect_fault, got, reply_of
from municloud.platform import SigningKey, build_message

_DEV_LGCODES = ("053031", "053279", "053465")


def _expect_accepted(kit: KitContext, response, message) -> None:
    assert response.status_code == 202, f"expected HTTP 202 with an Ack, got {got(response)}"
    reply = reply_of(kit, response)
    assert reply.header.message_type == "Ack", f"expected an Ack, got {got(response)}"
    assert reply.body.acknowledged_message_id == message.header.message_id, (
        "Ack acknowledges another message id")
    assert reply.header.correlation_id == message.header.message_id, "Ack not correlated"
    assert (reply.header.receiver_unit, reply.header.receiver_lgcode) == (
        message.header.sender_unit, message.header.sender_lgcode), "Ack not addressed to the sender"


@pytest.mark.check("HUB-001")
def test_routable_message_is_accepted(kit: KitContext) -> None:
    message = kit.inbound_message()
    response = kit.publish(kit.sign(message), applied=True)
    _expect_accepted(kit, response, message)
    status = reply_of(kit, response).body.status.value
    assert status == "accepted", f"the hub's Ack Status is {status!r}, expected 'accepted'"


@pytest.mark.check("HUB-002")
def test_unsigned_message_is_refused(kit: KitContext) -> None:
    data = etree.tostring(kit.envelope(kit.inbound_message()), xml_declaration=True,
                          encoding="UTF-8")
    expect_fault(kit, kit.publish(data), 403, "signature-invalid")


@pytest.mark.check("HUB-003")
def test_key_of_another_municipality_is_refused(kit: KitContext) -> None:
    other = next(c for c in _DEV_LGCODES if c != kit.lgcode)
    message = kit.inbound_message(sender_lgcode=other, receiver_lgcode=other)
    expect_fault(kit, kit.publish(kit.sign(message)), 403, "signature-invalid")


@pytest.mark.check("HUB-004")
def test_same_id_with_other_bytes_is_refused(kit: KitContext) -> None:
    original = kit.inbound_message()
    signed = kit.sign(original)
    _expect_accepted(kit, kit.publish(signed, applied=True), original)
    _expect_accepted(kit, kit.publish(signed, applied=True), original)  # identical: accepted again
    altered = kit.inbound_message().model_copy(update={"header": original.header})
    expect_fault(kit, kit.publish(kit.sign(altered)), 409, "duplicate-message-id")


@pytest.mark.check("HUB-005")
def test_stale_message_is_refused(kit: KitContext) -> None:
    stale = kit.inbound_message(timestamp=dt.datetime.now(dt.timezone.utc)
                                - dt.timedelta(hours=25))
    expect_fault(kit, kit.publish(kit.sign(stale)), 400, "stale-message")


@pytest.mark.check("HUB-006")
def test_message_on_no_route_is_refused(kit: KitContext) -> None:
    body = kit.profile.sample_body(kit.lgcode, kit.rng)
    message = build_message(body, sender_unit=kit.profile.sender_unit, sender_lgcode=kit.lgcode,
                            receiver_unit="tax", receiver_lgcode=kit.lgcode)
    expect_fault(kit, kit.publish(kit.sign(message)), 403, "route-unauthorised")


@pytest.mark.check("HUB-007")
def test_individual_number_on_a_route_without_it_is_refused(kit: KitContext) -> None:
    if kit.options.responder_key is None:
        pytest.skip("not run: needs --responder-key (a key registered at the hub as tax)")
    key = SigningKey.load(kit.options.responder_key)
    message = build_message(kit.profile.no_number_body(kit.lgcode, kit.rng), sender_unit="tax",
                            sender_lgcode=kit.lgcode, receiver_unit="nhi",
                            receiver_lgcode=kit.lgcode)
    expect_fault(kit, kit.publish(kit.sign(message, key)), 403, "individual-number-not-allowed")
