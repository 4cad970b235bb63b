"""RCV-xxx: the kit as receiving units (tax and nhi of --lgcode) registered behind a hub. Each
check publishes its own messages through the hub's POST /api/v1/messages and judges what the hub
delivers to the kit's inboxes (docs/platform.md "Authentication of deliveries", "Hub" →
"Delivery"). Waits are bounded: --wait for a delivery the hub owes, --quiet for one that must not
come."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from lxml import etree

from municloud_ops.conformance.context import KitContext
from municloud_ops.conformance.expect import got
from municloud_ops.conformance.receiver import FAULT, UNAVAILABLE_ONCE, Delivery, KitReceiver
from municloud.platform import KeyRegistry, PlatformError, SigningKey, build_message, parse_message
from municloud.platform.client import CONTENT_TYPE

# Headers any HTTP client may add; everything else beyond the documented shape is refused
# (a credential above all: deliveries are authenticated by the message signature alone).
TRANSPORT = {"host", "content-length", "connection", "user-agent", "accept", "accept-encoding"}
SHAPE = {"content-type", "x-municloud-delivery-attempt"}


@pytest.fixture
def receiver(kit: KitContext) -> KitReceiver:
    assert kit.receiver is not None, "the RCV checks run under `municloud conformance receive`"
    return kit.receiver


def _publish(kit: KitContext, data: bytes) -> uuid.UUID:
    """Publish a message the hub must accept; its id."""
    message = parse_message(data, require_signature=False)
    response = kit.publish(data, applied=True)
    assert response.status_code == 202, (
        f"the hub did not accept the kit's message {message.header.message_id}: {got(response)}")
    return message.header.message_id


def _first_delivery(kit: KitContext, receiver: KitReceiver, message_id: uuid.UUID) -> None:
    if not receiver.wait_for(lambda: bool(receiver.of(message_id)), kit.options.wait_s):
        pytest.fail(f"message {message_id} was not delivered to any kit inbox within "
                    f"{kit.options.wait_s:.0f} s (registered: {receiver.addresses()})")


def _settled(kit: KitContext, message_id: uuid.UUID) -> list[dict]:
    """The hub's delivery rows once none is pending (bounded by --wait)."""
    deadline = time.monotonic() + kit.options.wait_s
    while True:
        rows = kit.hub_deliveries(message_id)
        if all(r["status"] != "pending" for r in rows):
            return rows
        if time.monotonic() > deadline:
            pytest.fail(f"the hub still shows {message_id} pending after {kit.options.wait_s:.0f}"
                        f" s: {rows}")
        time.sleep(0.2)


def _units(deliveries: list[Delivery]) -> dict[str | None, list[Delivery]]:
    by_unit: dict[str | None, list[Delivery]] = {}
    for delivery in deliveries:
        by_unit.setdefault(delivery.unit, []).append(delivery)
    return by_unit


def _quiet(kit: KitContext) -> None:
    time.sleep(kit.options.quiet_s)


def _sender_keys(kit: KitContext) -> KeyRegistry:
    """The public halves of the kit's own sender keys: what a receiver's registry holds."""
    registry = KeyRegistry()
    registry.add_signing_key(kit.key, lgcode=kit.lgcode, unit=kit.profile.sender_unit)
    if kit.options.responder_key is not None:
        registry.add_signing_key(SigningKey.load(kit.options.responder_key), lgcode=kit.lgcode,
                                 unit="tax")
    return registry


@pytest.mark.check("RCV-001")
def test_delivery_has_the_documented_shape(kit: KitContext, receiver: KitReceiver) -> None:
    message_id = _publish(kit, kit.sign(kit.inbound_message()))
    _first_delivery(kit, receiver, message_id)
    deliveries = receiver.of(message_id)
    for delivery in deliveries:
        assert delivery.unit is not None, (
            f"delivered to {delivery.path}, which is no registered inbox address")
        names = {name for name, _ in delivery.headers}
        extra = names - SHAPE - TRANSPORT
        assert not extra, (f"delivery to {delivery.unit} carries headers beyond the documented "
                           f"shape: {sorted(extra)}")
        content_type = (delivery.header("content-type") or "").split(";")[0].strip()
        assert content_type == CONTENT_TYPE, (
            f"delivery to {delivery.unit} has Content-Type {content_type!r}, not {CONTENT_TYPE}")
        assert (delivery.attempt or "").isdigit() and int(delivery.attempt) >= 1, (
            f"delivery to {delivery.unit} has X-Municloud-Delivery-Attempt {delivery.attempt!r}")
    for unit, own in _units(deliveries).items():
        assert own[0].attempt == "1", (
            f"the first delivery to {unit} says X-Municloud-Delivery-Attempt {own[0].attempt!r}")


@pytest.mark.check("RCV-002")
def test_delivered_bytes_are_the_senders_signed_message(kit: KitContext,
                                                        receiver: KitReceiver) -> None:
    signed = kit.sign(kit.inbound_message(individual_number=True))
    message_id = _publish(kit, signed)
    _first_delivery(kit, receiver, message_id)
    registry = _sender_keys(kit)
    for delivery in receiver.of(message_id):
        try:
            parse_message(delivery.body, registry=registry, require_signature=True)
        except PlatformError as exc:
            pytest.fail(f"the delivery to {delivery.unit} does not verify with the sender's "
                        f"registered key: {exc.code}: {exc.reason}")
        assert delivery.body == signed, (
            f"the delivery to {delivery.unit} is not byte-identical to the signed message the "
            f"sender published ({len(delivery.body)} bytes delivered, {len(signed)} sent)")


@pytest.mark.check("RCV-003")
def test_every_subscriber_gets_the_message(kit: KitContext, receiver: KitReceiver) -> None:
    message_id = _publish(kit, kit.sign(kit.inbound_message()))
    subscribers = ("tax", "nhi")  # docs/platform.md routing table: resident-move-notice
    arrived = receiver.wait_for(lambda: all(receiver.of(message_id, u) for u in subscribers),
                                kit.options.wait_s)
    by_unit = _units(receiver.of(message_id))
    assert arrived, (f"within {kit.options.wait_s:.0f} s the 住民異動通知 reached "
                     f"{sorted(u or '?' for u in by_unit) or 'no inbox'}; the route's "
                     f"subscribers are {', '.join(subscribers)}")
    assert set(by_unit) == set(subscribers), (
        f"delivered to paths that are no subscriber's inbox: "
        f"{[d.path for d in by_unit.get(None, [])]}")


def _ends_after_one_attempt(kit: KitContext, receiver: KitReceiver, how: str | None,
                           answered: str, status: str) -> None:
    """Publish, answer the first delivery `how` (the receiver's script; None: Ack), then: each
    subscriber got exactly one POST and the hub shows every delivery `status` after 1 attempt."""
    message = kit.inbound_message()
    if how is not None:
        receiver.script[message.header.message_id] = how
    message_id = _publish(kit, kit.sign(message))
    _first_delivery(kit, receiver, message_id)
    rows = _settled(kit, message_id)
    _quiet(kit)
    for unit, own in _units(receiver.of(message_id)).items():
        assert len(own) == 1, (f"{unit} answered the first delivery with {answered}, yet the hub "
                               f"delivered it {len(own)} times")
    wrong = [r for r in rows if (r["status"], r["attempts"]) != (status, 1)]
    assert not wrong, (f"after {answered} the hub shows {wrong}; expected {status} after 1 "
                       f"attempt")


@pytest.mark.check("RCV-004")
def test_an_ack_ends_the_delivery(kit: KitContext, receiver: KitReceiver) -> None:
    _ends_after_one_attempt(kit, receiver, None, "an Ack (HTTP 200)", "delivered")


@pytest.mark.check("RCV-005")
def test_a_503_is_retried_with_the_same_bytes(kit: KitContext, receiver: KitReceiver) -> None:
    message = kit.inbound_message()
    receiver.script[message.header.message_id] = UNAVAILABLE_ONCE
    message_id = _publish(kit, kit.sign(message))
    _first_delivery(kit, receiver, message_id)
    for unit in list(_units(receiver.of(message_id))):
        own = receiver.wait_deliveries(message_id, unit, 2, kit.options.wait_s)
        assert len(own) >= 2, (f"{unit} answered HTTP 503; the hub did not deliver again within "
                               f"{kit.options.wait_s:.0f} s")
        first, second = own[0], own[1]
        assert second.body == first.body, f"the retry to {unit} carries other bytes"
        assert (first.attempt, second.attempt) == ("1", "2"), (
            f"X-Municloud-Delivery-Attempt of the first two deliveries to {unit}: "
            f"{first.attempt!r}, {second.attempt!r}; expected '1', '2'")


@pytest.mark.check("RCV-006")
def test_a_fault_is_final(kit: KitContext, receiver: KitReceiver) -> None:
    _ends_after_one_attempt(kit, receiver, FAULT, "a Fault (HTTP 409)", "dead")


@pytest.mark.check("RCV-007")
def test_messages_the_hub_must_refuse_never_arrive(kit: KitContext,
                                                   receiver: KitReceiver) -> None:
    unsigned = etree.tostring(kit.envelope(kit.inbound_message()), xml_declaration=True,
                              encoding="UTF-8")
    stranger = SigningKey.generate(kit.key.key_id)  # same key id, a key nobody registered
    forged = kit.sign(kit.inbound_message(), stranger)
    stale = kit.sign(kit.inbound_message(
        timestamp=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=25)))
    refused = {"unsigned": unsigned, "signed with an unregistered key": forged,
               "outside the freshness window": stale}
    if kit.options.responder_key is not None:  # a registered key of another unit
        refused["signed with another unit's key"] = kit.sign(
            kit.inbound_message(), SigningKey.load(kit.options.responder_key))
    ids = {}
    for what, data in refused.items():
        kit.publish(data, applied=False)
        ids[what] = parse_message(data, require_signature=False).header.message_id
    twin = _publish(kit, kit.sign(kit.inbound_message()))  # published after: arrives after
    _first_delivery(kit, receiver, twin)
    _quiet(kit)
    arrived = {what: [d.unit for d in receiver.of(i)] for what, i in ids.items()
               if receiver.of(i)}
    assert not arrived, f"the hub delivered messages it must refuse: {arrived}"


@pytest.mark.check("RCV-008")
def test_individual_number_on_a_route_without_it_never_arrives(
        kit: KitContext, receiver: KitReceiver) -> None:
    if kit.options.responder_key is None:
        pytest.skip("not run: needs --responder-key (a key registered at the hub as tax)")
    key = SigningKey.load(kit.options.responder_key)

    def answer(with_number: bool) -> bytes:
        body = kit.profile.no_number_body(kit.lgcode, kit.rng, with_number=with_number)
        return kit.sign(build_message(body, sender_unit="tax", sender_lgcode=kit.lgcode,
                                      receiver_unit="nhi", receiver_lgcode=kit.lgcode), key)

    numbered = answer(True)
    kit.publish(numbered, applied=False)
    numbered_id = parse_message(numbered, require_signature=False).header.message_id
    twin = _publish(kit, answer(False))
    if not receiver.wait_for(lambda: bool(receiver.of(twin, "nhi")), kit.options.wait_s):
        pytest.fail(f"the 所得照会 answer without 個人番号 ({twin}) did not reach nhi within "
                    f"{kit.options.wait_s:.0f} s")
    _quiet(kit)
    arrived = [d.unit for d in receiver.of(numbered_id)]
    assert not arrived, (f"the hub delivered a 所得照会 answer carrying a 個人番号 to {arrived}; "
                         f"the route tax → nhi may not carry one")


@pytest.mark.check("RCV-009")
def test_a_duplicate_publish_starts_no_second_delivery(kit: KitContext,
                                                       receiver: KitReceiver) -> None:
    signed = kit.sign(kit.inbound_message())
    message_id = _publish(kit, signed)
    _first_delivery(kit, receiver, message_id)
    _settled(kit, message_id)
    _publish(kit, signed)  # a sender's retry: identical bytes, acknowledged again, nothing new
    _quiet(kit)
    for unit, own in _units(receiver.of(message_id)).items():
        firsts = [d for d in own if d.attempt == "1"]
        assert len(firsts) == 1, (
            f"{unit} got {len(firsts)} first attempts of one message published twice")
