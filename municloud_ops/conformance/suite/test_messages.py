"""MSG-xxx: platform messages in and out — Ack and Fault formats, duplicates, refusals."""

from __future__ import annotations

import pytest
from lxml import etree

from municloud_ops.conformance.context import KitContext
from municloud_ops.conformance.expect import expect_fault, reply_of
from municloud.platform import SigningKey
from municloud.platform.codec import NS

_DEV_LGCODES = ("053031", "053279", "053465")


def _expect_ack(kit: KitContext, response, message) -> None:
    assert response.status_code == 200, (
        f"expected HTTP 200 with an Ack, got HTTP {response.status_code}")
    reply = reply_of(kit, response)
    header = reply.header
    assert header.message_type == "Ack", f"expected an Ack, got {header.message_type}"
    assert reply.body.acknowledged_message_id == message.header.message_id, (
        "Ack acknowledges another message id")
    assert header.correlation_id == message.header.message_id, (
        "Ack correlation id is not the message id")
    assert (header.receiver_unit, header.receiver_lgcode) == (
        message.header.sender_unit, message.header.sender_lgcode), "Ack not addressed to the sender"
    assert (header.sender_unit.value, header.sender_lgcode) == (kit.options.unit, kit.lgcode), (
        "Ack not sent by the unit of this municipality")


@pytest.mark.check("MSG-001")
def test_valid_message_is_acknowledged(kit: KitContext) -> None:
    message = kit.inbound_message()
    _expect_ack(kit, kit.post_inbox(kit.sign(message)), message)


@pytest.mark.check("MSG-002")
def test_duplicate_message_id_is_handled_once(kit: KitContext) -> None:
    message = kit.inbound_message()
    signed = kit.sign(message)
    _expect_ack(kit, kit.post_inbox(signed), message)
    _expect_ack(kit, kit.post_inbox(signed), message)


@pytest.mark.check("MSG-003")
def test_schema_invalid_message_is_refused(kit: KitContext) -> None:
    root = kit.envelope(kit.inbound_message())
    body = root.find(NS + "Body")[0]
    etree.SubElement(body, NS + "NotInTheSchema").text = "x"
    fault = expect_fault(kit, kit.post_inbox(kit.sign_element(root)), 400, "schema-invalid")
    assert fault.body.path, "Fault does not name the offending path"


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
    other = next(c for c in _DEV_LGCODES if c not in (kit.lgcode, kit.sender_lgcode))
    message = kit.inbound_message(receiver_lgcode=other)
    expect_fault(kit, kit.post_inbox(kit.sign(message)), 400, "wrong-addressee")
