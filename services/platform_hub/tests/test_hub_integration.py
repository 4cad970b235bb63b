"""The hub against a real PostgreSQL container: delivery, refusals (each with an allowed twin),
dead-lettering and the tamper-evident log. The hub runs as its own process."""

import time

import httpx
import pytest

from municloud.platform import Ack, Fault, SigningKey, build_message, parse_message, sign_message
from municloud.platform.samples import sample_income_response, sample_move_notice, sample_move_out_certificate
from hub_harness import hub_world

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world():
    with hub_world() as w:
        yield w


def post(world, data: bytes) -> tuple[int, object]:
    response = httpx.post(f"{world.hub.url}/api/v1/messages", content=data,
                          headers={"Content-Type": "application/xml"}, timeout=10)
    reply = parse_message(response.content, registry=world.registry)  # the hub's reply is signed too
    return response.status_code, reply


def notice(lgcode="053031", serial=1, sender="residents_registry", receiver_lgcode=None, **kw):
    return build_message(sample_move_notice(lgcode, serial, **kw), sender_unit=sender, sender_lgcode=lgcode,
                         receiver_unit="platform_hub", receiver_lgcode=receiver_lgcode or lgcode)


def test_move_notice_is_acked_then_applied_once_by_tax_and_nhi(world):
    message = notice(serial=101)
    status, reply = post(world, sign_message(message, world.key("053031", "residents_registry")))
    assert status == 202 and isinstance(reply.body, Ack) and reply.body.status.value == "accepted"
    assert reply.body.acknowledged_message_id == message.header.message_id
    world.wait_delivered([message.header.message_id])
    mid = str(message.header.message_id)
    assert world.applied("tax", [mid]) == {mid: 1}
    assert world.applied("nhi", [mid]) == {mid: 1}
    assert world.applied("residents_registry", [mid]) == {}
    # the same bytes again (a sender retry) are acknowledged, not stored or delivered twice
    status, reply = post(world, sign_message(message, world.key("053031", "residents_registry")))
    assert status == 202 and world.hub_counts(mid) == (1, 2)


def test_move_out_certificate_crosses_to_the_named_municipality_only(world):
    cert = build_message(sample_move_out_certificate("053031", 102), sender_unit="residents_registry",
                         sender_lgcode="053031", receiver_unit="residents_registry", receiver_lgcode="053465")
    status, _ = post(world, sign_message(cert, world.key("053031", "residents_registry")))
    assert status == 202
    world.wait_delivered([cert.header.message_id])
    mid = str(cert.header.message_id)
    assert world.sql(f"SELECT lgcode FROM applied WHERE message_id='{mid}'", "residents_registry") == "053465"


def _refused(world, data, code, message):
    status, reply = post(world, data)
    assert status in (400, 403) and isinstance(reply.body, Fault), (status, reply)
    assert reply.body.code == code
    time.sleep(0.5)  # give a wrongly stored message the chance to be delivered
    mid = str(message.header.message_id)
    assert world.hub_counts(mid) == (0, 0)
    for unit in ("residents_registry", "tax", "nhi"):
        assert world.applied(unit, [mid]) == {}
    return reply.body


def _accepted(world, data, message):
    status, reply = post(world, data)
    assert status == 202 and isinstance(reply.body, Ack)
    world.wait_delivered([message.header.message_id])


def test_unauthorised_route_refused_and_twin_accepted(world):
    bad = notice(serial=103, sender="tax")
    _refused(world, sign_message(bad, world.key("053031", "tax")), "route-unauthorised", bad)
    good = notice(serial=103)
    _accepted(world, sign_message(good, world.key("053031", "residents_registry")), good)


def test_forged_signature_refused_and_twin_accepted(world):
    message = notice(serial=104)
    forger = SigningKey.generate(world.key("053031", "residents_registry").key_id)
    _refused(world, sign_message(message, forger), "signature-invalid", message)
    _accepted(world, sign_message(message, world.key("053031", "residents_registry")), message)


def test_wrong_municipality_refused_and_twin_accepted(world):
    bad = notice(serial=105, receiver_lgcode="053279")  # 053031's notice addressed to 053279's units
    fault = _refused(world, sign_message(bad, world.key("053031", "residents_registry")), "wrong-municipality", bad)
    assert fault.path == "/Envelope/Header/ReceiverLgcode"
    good = notice(serial=105)
    _accepted(world, sign_message(good, world.key("053031", "residents_registry")), good)


def test_individual_number_on_a_route_that_may_not_carry_it_refused_and_twin_accepted(world):
    def response(with_number):
        return build_message(sample_income_response("053279", 106, with_individual_number=with_number),
                             sender_unit="tax", sender_lgcode="053279", receiver_unit="nhi", receiver_lgcode="053279")
    bad = response(True)
    data = sign_message(bad, world.key("053279", "tax"))
    fault = _refused(world, data, "individual-number-not-allowed", bad)
    assert bad.body.records[0].individual_number not in fault.reason
    assert bad.body.records[0].individual_number.encode() not in world.hub.log_path.read_bytes()
    good = response(False)
    _accepted(world, sign_message(good, world.key("053279", "tax")), good)


def test_unsafe_and_invalid_bodies_get_faults(world):
    status, reply = post(world, b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    assert status == 400 and reply.body.code == "unsafe"
    status, reply = post(world, b"<Envelope>")
    assert status == 400 and reply.body.code == "malformed"
    big = b"<a>" + b" " * (1024 * 1024) + b"</a>"
    status, reply = post(world, big)
    assert status == 413 and reply.body.code == "unsafe"


def test_refusing_receiver_dead_letters_at_once_and_others_still_get_it(world):
    world.receivers.refuse.add(("053465", "nhi"))
    try:
        message = notice("053465", 107)
        status, _ = post(world, sign_message(message, world.key("053465", "residents_registry")))
        assert status == 202
        deadline = time.monotonic() + 30
        mid = message.header.message_id
        while time.monotonic() < deadline:
            rows = httpx.get(f"{world.hub.url}/api/v1/messages/{mid}/deliveries").json()["deliveries"]
            if {r["subscriber_unit"]: r["status"] for r in rows} == {"tax": "delivered", "nhi": "dead"}:
                break
            time.sleep(0.2)
        by_unit = {r["subscriber_unit"]: r for r in rows}
        assert by_unit["nhi"]["status"] == "dead" and by_unit["nhi"]["attempts"] == 1
        assert by_unit["tax"]["status"] == "delivered"
    finally:
        world.receivers.refuse.discard(("053465", "nhi"))


def test_message_log_verifies_and_detects_a_tampered_row(world):
    message = notice(serial=108)
    _accepted(world, sign_message(message, world.key("053031", "residents_registry")), message)
    report = httpx.get(f"{world.hub.url}/api/v1/log/verify").json()
    assert report["ok"] and report["rows"] >= 3, report
    # append-only: the hub's own role cannot rewrite a row
    with pytest.raises(RuntimeError, match="append-only"):
        world.sql("UPDATE message_log SET event='x' WHERE seq=1")
    seq = int(world.sql(f"SELECT min(seq) FROM message_log WHERE message_id='{message.header.message_id}'"))
    original = world.sql(f"SELECT detail FROM message_log WHERE seq={seq}")
    # a DBA who disables the trigger can change a row, but not without breaking the chain
    world.sql("ALTER TABLE message_log DISABLE TRIGGER message_log_append_only")
    try:
        world.sql(f"UPDATE message_log SET detail = replace(detail, 'residents_registry', 'tax') WHERE seq={seq}")
        response = httpx.get(f"{world.hub.url}/api/v1/log/verify")
        assert response.status_code == 409
        assert response.json()["broken_at"] == seq and not response.json()["ok"]
    finally:
        world.sql(f"UPDATE message_log SET detail = $${original}$$ WHERE seq={seq}")
        world.sql("ALTER TABLE message_log ENABLE TRIGGER message_log_append_only")
    assert httpx.get(f"{world.hub.url}/api/v1/log/verify").json()["ok"]


def test_json_binding_is_accepted_and_delivered_as_signed_xml_and_forgery_refused(world):
    from municloud.platform.json_binding import parse_message_json, sign_message_json

    message = notice(serial=109)
    forger = SigningKey.generate(world.key("053031", "residents_registry").key_id)
    for key, expected in ((forger, 403), (world.key("053031", "residents_registry"), 202)):
        response = httpx.post(f"{world.hub.url}/api/v1/messages", content=sign_message_json(message, key),
                              headers={"Content-Type": "application/json"}, timeout=10)
        assert response.status_code == expected, response.text
        reply, _ = parse_message_json(response.content, registry=world.registry)
        assert isinstance(reply.body, Fault if expected == 403 else Ack)
    world.wait_delivered([message.header.message_id])
    mid = str(message.header.message_id)
    assert world.applied("tax", [mid]) == {mid: 1} and world.applied("nhi", [mid]) == {mid: 1}
