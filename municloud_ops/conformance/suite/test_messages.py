"""MSG-xxx: platform messages in and out — Ack and Fault formats, duplicates, every refusal
(docs/platform.md "Inbox contract")."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from lxml import etree

from municloud_ops.conformance.context import KitContext
from municloud_ops.conformance.expect import expect_fault, got, reply_of
from municloud.platform import SigningKey, build_message
from municloud.platform.codec import NS

_DEV_LGCODES = ("053031", "053279", "053465")
# docs/platform.md "Fault Path format": element local names from the root, [n] (1-based) only
# where siblings share a name, an attribute as a last /@name step.
PATH_FORMAT = re.compile(r"^/Envelope(/[A-Za-z][A-Za-z0-9]*(\[[1-9][0-9]*\])?)*(/@[A-Za-z]+)?$")
MAX_BYTES, MAX_DEPTH = 1024 * 1024, 16


def _expect_ack(kit: KitContext, response, message):
    assert response.status_code == 200, f"expected HTTP 200 with an Ack, got {got(response)}"
    reply = reply_of(kit, response)
    header = reply.header
    assert header.message_type == "Ack", f"expected an Ack, got {got(response)}"
    assert reply.body.acknowledged_message_id == message.header.message_id, (
        "Ack acknowledges another message id")
    assert header.correlation_id == message.header.message_id, (
        "Ack correlation id is not the message id")
    assert (header.receiver_unit, header.receiver_lgcode) == (
        message.header.sender_unit, message.header.sender_lgcode), "Ack not addressed to the sender"
    assert (header.sender_unit.value, header.sender_lgcode) == (kit.options.unit, kit.lgcode), (
        "Ack not sent by the unit of this municipality")
    return reply


def _other_lgcode(kit: KitContext) -> str:
    return next(c for c in _DEV_LGCODES if c not in (kit.lgcode, kit.sender_lgcode))


@pytest.mark.check("MSG-001")
def test_valid_message_is_acknowledged(kit: KitContext) -> None:
    message = kit.inbound_message()
    reply = _expect_ack(kit, kit.post_inbox(kit.sign(message), applied=True), message)
    assert reply.body.status.value == "processed", (
        f"Ack Status is {reply.body.status.value!r}; a receiving unit answers 'processed'")


@pytest.mark.check("MSG-002")
def test_duplicate_message_id_is_handled_once(kit: KitContext) -> None:
    message = kit.inbound_message()
    signed = kit.sign(message)
    _expect_ack(kit, kit.post_inbox(signed, applied=True), message)
    _expect_ack(kit, kit.post_inbox(signed, applied=True), message)


@pytest.mark.check("MSG-003")
def test_schema_invalid_message_is_refused(kit: KitContext) -> None:
    root = kit.envelope(kit.inbound_message())
    body = root.find(NS + "Body")[0]
    etree.SubElement(body, NS + "NotInTheSchema").text = "x"
    fault = expect_fault(kit, kit.post_inbox(kit.sign_element(root)), 400, "schema-invalid")
    path = fault.body.path or ""
    assert PATH_FORMAT.match(path), (
        f"Fault Path {path!r} is not in the documented form (/Envelope/Body/...)")
    assert path.startswith(f"/Envelope/Body/{etree.QName(body).localname}"), (
        f"Fault Path {path!r} does not name the offending element")


@pytest.mark.check("MSG-004")
def test_unsafe_xml_is_refused(kit: KitContext) -> None:
    entities = "".join(f'<!ENTITY e{i} "{"&e%d;" % (i - 1) * 10 if i else "lol" * 10}">'
                       for i in range(6))
    data = (f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE Envelope [{entities}]>'
            f'<Envelope xmlns="urn:municloud:platform:v1">&e5;</Envelope>').encode()
    expect_fault(kit, kit.post_inbox(data), 400, "unsafe")


@pytest.mark.check("MSG-005")
def test_malformed_xml_is_refused(kit: KitContext) -> None:
    data = b'<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="urn:municloud:platform:v1">'
    expect_fault(kit, kit.post_inbox(data + b"<Header><MessageId>"), 400, "malformed")


@pytest.mark.check("MSG-006")
def test_forged_signature_is_refused(kit: KitContext) -> None:
    forger = SigningKey.generate(kit.key.key_id)  # same key id, different private key
    expect_fault(kit, kit.post_inbox(kit.sign(kit.inbound_message(), forger)), 403,
                 "signature-invalid")


@pytest.mark.check("MSG-007")
def test_message_for_another_municipality_is_refused(kit: KitContext) -> None:
    message = kit.inbound_message(receiver_lgcode=_other_lgcode(kit))
    expect_fault(kit, kit.post_inbox(kit.sign(message)), 400, "wrong-addressee")


@pytest.mark.check("MSG-008")
def test_hub_delivery_shape_is_accepted(kit: KitContext) -> None:
    message = kit.inbound_message()
    _expect_ack(kit, kit.post_as_hub(kit.sign(message)), message)


@pytest.mark.check("MSG-009")
def test_unsigned_message_is_refused(kit: KitContext) -> None:
    data = etree.tostring(kit.envelope(kit.inbound_message()), xml_declaration=True,
                          encoding="UTF-8")
    expect_fault(kit, kit.post_inbox(data), 403, "signature-invalid")


@pytest.mark.check("MSG-010")
def test_key_of_another_municipality_is_refused(kit: KitContext) -> None:
    # The kit's key is registered for (sender lgcode, sender unit); the header claims another
    # municipality of the consortium.
    message = kit.inbound_message(sender_lgcode=_other_lgcode(kit))
    expect_fault(kit, kit.post_inbox(kit.sign(message)), 403, "signature-invalid")


@pytest.mark.check("MSG-011")
def test_key_of_another_unit_is_refused(kit: KitContext) -> None:
    other = next(u for u in ("tax", "nhi") if u != kit.profile.sender_unit)
    message = kit.inbound_message(sender_unit=other)
    expect_fault(kit, kit.post_inbox(kit.sign(message)), 403, "signature-invalid")


@pytest.mark.check("MSG-012")
def test_replayed_id_with_an_altered_body_is_refused(kit: KitContext) -> None:
    original = kit.inbound_message()
    _expect_ack(kit, kit.post_inbox(kit.sign(original), applied=True), original)
    altered = kit.inbound_message().model_copy(update={"header": original.header})
    assert altered.body != original.body
    expect_fault(kit, kit.post_inbox(kit.sign(altered)), 409, "duplicate-message-id")


@pytest.mark.check("MSG-013")
def test_stale_or_future_timestamp_is_refused(kit: KitContext) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    for label, when in (("25 h old", now - dt.timedelta(hours=25)),
                        ("1 h ahead", now + dt.timedelta(hours=1))):
        response = kit.post_inbox(kit.sign(kit.inbound_message(timestamp=when)))
        assert response.status_code == 400, f"{label}: expected HTTP 400, got {got(response)}"
        expect_fault(kit, response, 400, "stale-message")


@pytest.mark.check("MSG-014")
def test_oversized_message_is_refused(kit: KitContext) -> None:
    signed = kit.sign(kit.inbound_message())
    padding = b"<!--" + b"x" * (MAX_BYTES - len(signed)) + b"-->"
    assert len(signed) + len(padding) > MAX_BYTES
    expect_fault(kit, kit.post_inbox(signed + padding), 413, "unsafe")


@pytest.mark.check("MSG-015")
def test_deeply_nested_document_is_refused(kit: KitContext) -> None:
    root = kit.envelope(kit.inbound_message())
    node = root.find(NS + "Body")[0]
    for _ in range(MAX_DEPTH):
        node = etree.SubElement(node, NS + "Nested")
    expect_fault(kit, kit.post_inbox(kit.sign_element(root)), 400, "unsafe")


@pytest.mark.check("MSG-016")
def test_fault_answers_the_sender_of_a_readable_message(kit: KitContext) -> None:
    # Several refusals whose header is readable; whether each is refused at all is the business
    # of its own check (MSG-006, MSG-007, MSG-013): here every Fault must be correlated.
    now = dt.datetime.now(dt.timezone.utc)
    forger = SigningKey.generate(kit.key.key_id)
    attempts = {
        "wrong addressee": (kit.inbound_message(receiver_lgcode=_other_lgcode(kit)), kit.key),
        "forged signature": (kit.inbound_message(), forger),
        "stale": (kit.inbound_message(timestamp=now - dt.timedelta(hours=25)), kit.key),
    }
    faults = 0
    for label, (message, key) in attempts.items():
        reply = reply_of(kit, kit.post_inbox(kit.sign(message, key)))
        if reply.header.message_type != "Fault":
            continue
        faults += 1
        assert reply.body.faulted_message_id == message.header.message_id, (
            f"{label}: Fault's FaultedMessageId is not the refused message's id")
        assert reply.header.correlation_id == message.header.message_id, (
            f"{label}: Fault's CorrelationId is not the refused message's id")
        assert (reply.header.receiver_unit, reply.header.receiver_lgcode) == (
            message.header.sender_unit, message.header.sender_lgcode), (
            f"{label}: Fault not addressed to the refused message's sender")
    assert faults, "none of the refused messages was answered with a Fault"


@pytest.mark.check("MSG-017")
def test_individual_number_on_a_route_without_it_is_refused(kit: KitContext) -> None:
    sender = kit.profile.no_number_sender
    if sender is None:
        pytest.skip(f"not applicable: every route to {kit.options.unit} may carry a 個人番号")
    if kit.options.responder_key is None:
        pytest.skip(f"not run: needs --responder-key (a key registered as {sender})")
    key = SigningKey.load(kit.options.responder_key)
    message = build_message(kit.profile.no_number_body(kit.lgcode, kit.rng), sender_unit=sender,
                            sender_lgcode=kit.lgcode, receiver_unit=kit.options.unit,
                            receiver_lgcode=kit.lgcode)
    assert message.carries_individual_number()
    expect_fault(kit, kit.post_inbox(kit.sign(message, key)), 403,
                 "individual-number-not-allowed")
