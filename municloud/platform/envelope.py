"""Build, sign, encode and parse platform message envelopes.

`parse_message` is the one entry for untrusted bytes: safe parse -> XSD -> typed models ->
envelope rules (message type matches body, record count matches) -> optional signature check.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid

from lxml import etree

from municloud.platform import codec
from municloud.platform.codec import NS
from municloud.platform.errors import (
    AddressError,
    InvalidMessageError,
    PlatformError,
    SignatureError,
    StaleMessageError,
)
from municloud.platform.models import BODY_TYPES, NAMESPACE, SCHEMA_VERSION, Body, Header, Message
from municloud.platform.safe_xml import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_xml
from municloud.platform.schema import validate_envelope
from municloud.platform.signing import ALGORITHM, KeyRegistry, SigningKey, canonical_bytes


def build_message(
    body: Body,
    *,
    sender_unit: str,
    sender_lgcode: str,
    receiver_unit: str,
    receiver_lgcode: str,
    correlation_id: uuid.UUID | str | None = None,
    message_id: uuid.UUID | str | None = None,
    timestamp: dt.datetime | None = None,
) -> Message:
    """A new unsigned message around `body`; header fields derived from the body."""
    header = Header(
        message_id=message_id or uuid.uuid4(),
        correlation_id=correlation_id,
        message_type=body.message_type,
        sender_unit=sender_unit,
        sender_lgcode=sender_lgcode,
        receiver_unit=receiver_unit,
        receiver_lgcode=receiver_lgcode,
        timestamp=timestamp or dt.datetime.now(dt.timezone.utc),
        schema_version=SCHEMA_VERSION,
        record_count=body.record_count(),
    )
    return Message(header=header, body=body)


def to_element(message: Message) -> etree._Element:
    """The envelope element, without a signature."""
    root = etree.Element(NS + "Envelope", nsmap={None: NAMESPACE})
    codec.encode_into(etree.SubElement(root, NS + "Header"), message.header)
    body = etree.SubElement(root, NS + "Body")
    codec.encode_into(etree.SubElement(body, NS + message.body.message_type), message.body)
    return root


def encode_message(message: Message) -> bytes:
    """Unsigned UTF-8 XML (for tests and tooling; the hub accepts signed messages only)."""
    return etree.tostring(to_element(message), xml_declaration=True, encoding="UTF-8")


def sign_message(message: Message, key: SigningKey) -> bytes:
    """Signed UTF-8 XML bytes, ready to POST."""
    root = to_element(message)
    signature = key.sign(canonical_bytes(root))
    element = etree.SubElement(root, NS + "Signature", keyId=key.key_id, algorithm=ALGORITHM)
    element.text = base64.b64encode(signature).decode("ascii")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def parse_message(
    data: bytes,
    *,
    registry: KeyRegistry | None = None,
    require_signature: bool | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Message:
    """Decode untrusted bytes. With a `registry`, the signature is required and verified."""
    root = parse_xml(data, max_bytes=max_bytes, max_depth=max_depth)
    if root.tag != NS + "Envelope":
        raise InvalidMessageError(f"root element must be Envelope in namespace {NAMESPACE}", path="/")
    validate_envelope(root)
    header_el = root.find(NS + "Header")
    header = codec.build_model(Header, codec.decode_fields(header_el, Header), "/Envelope/Header")
    try:
        return _parse_rest(root, header, registry, require_signature)
    except PlatformError as exc:
        exc.header = exc.header or header  # the header was read: the Fault can answer its sender
        raise


def _parse_rest(root: etree._Element, header: Header, registry: KeyRegistry | None,
                require_signature: bool | None) -> Message:
    body_el = root.find(NS + "Body")[0]
    body_name = etree.QName(body_el).localname
    if header.message_type != body_name:
        raise InvalidMessageError(
            f"header says {header.message_type} but the body is {body_name}", path="/Envelope/Header/MessageType"
        )
    body_cls = BODY_TYPES[body_name]
    body = codec.build_model(body_cls, codec.decode_fields(body_el, body_cls), f"/Envelope/Body/{body_name}")
    if header.record_count != body.record_count():
        raise InvalidMessageError(
            f"record count {header.record_count} does not match the body's {body.record_count()} records",
            path="/Envelope/Header/RecordCount",
        )
    signature_el = root.find(NS + "Signature")
    signed_form = canonical_bytes(root)
    key_id = signature = None
    if signature_el is not None:
        key_id = signature_el.get("keyId")
        signature = base64.b64decode(signature_el.text or "")
    must_sign = registry is not None if require_signature is None else require_signature
    if must_sign and signature_el is None:
        raise SignatureError("message is not signed", path="/Envelope/Signature")
    if registry is not None and signature_el is not None:
        registry.verify(
            key_id, signature, signed_form,
            lgcode=header.sender_lgcode, unit=header.sender_unit.value,
        )
    return Message(header=header, body=body, key_id=key_id, signature=signature,
                   content_sha256=hashlib.sha256(signed_form).digest())


# Freshness window (docs/platform.md, "Freshness and replay"): a message whose Timestamp is more
# than MAX_AGE in the past or more than MAX_SKEW in the future is refused as stale. A day covers
# the hub's whole retry schedule (8 attempts, backoff capped at 60 s) and a receiver down for
# hours; the skew allows for unsynchronised clocks.
MAX_AGE = dt.timedelta(hours=24)
MAX_SKEW = dt.timedelta(minutes=5)


def check_freshness(header: Header, *, now: dt.datetime | None = None) -> None:
    """Refuse a header whose Timestamp is outside [now - MAX_AGE, now + MAX_SKEW]."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if header.timestamp < now - MAX_AGE:
        raise StaleMessageError(f"message timestamp is older than {MAX_AGE.total_seconds() / 3600:g} h",
                                path="/Envelope/Header/Timestamp", header=header)
    if header.timestamp > now + MAX_SKEW:
        raise StaleMessageError(f"message timestamp is more than {MAX_SKEW.total_seconds() / 60:g} min "
                                f"in the future", path="/Envelope/Header/Timestamp", header=header)


def receive_message(data: bytes, registry: KeyRegistry, *, lgcode: str, unit: str,
                    now: dt.datetime | None = None) -> Message:
    """Inbox side: parse, verify the sender's signature, check the message is fresh and for us.

    A message addressed to the hub (a fan-out such as 住民異動通知) is for every subscriber of
    the route in the same municipality; otherwise the receiver unit must be `unit`.
    """
    message = parse_message(data, registry=registry)
    header = message.header
    check_freshness(header, now=now)
    if header.receiver_lgcode != lgcode:
        raise AddressError(
            f"message is for municipality {header.receiver_lgcode}, this is {lgcode}",
            path="/Envelope/Header/ReceiverLgcode", header=header,
        )
    if header.receiver_unit.value not in (unit, "platform_hub"):
        raise AddressError(
            f"message is for unit {header.receiver_unit.value}, this is {unit}", path="/Envelope/Header/ReceiverUnit",
            header=header,
        )
    return message
