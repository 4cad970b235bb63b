"""Attacks on the platform hub over HTTP (the real app, a real PostgreSQL): messages from A to B
outside the one authorised route, forged senders, replayed message ids, and hostile XML.

Every refusal is a 4xx Fault within bounded time and memory, and the hub's tables (messages,
deliveries, message_log) hold exactly as many rows after it as before."""

from __future__ import annotations

import uuid

import pytest

from hub_target import hub_target
from municloud import ids
from municloud.platform import encode_message, sign_message
from security_support import (
    ORDERED_PAIRS, bounded, hostile_xml_cases, income_inquiry, move_notice, move_out_certificate,
)

pytestmark = [pytest.mark.security, pytest.mark.integration]


@pytest.fixture(scope="module")
def hub():
    with hub_target() as target:
        yield target


def _refused(hub, data: bytes, status: int | tuple[int, ...], code: str | tuple[str, ...]) -> None:
    before = hub.counts()
    with bounded(max_seconds=3.0):
        response = hub.post(data)
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text[:300]
    codes = code if isinstance(code, tuple) else (code,)
    assert any(f"<Code>{c}</Code>" in response.text for c in codes), response.text[:600]
    assert hub.counts() == before, "a refused message changed the hub's tables"


def _accepted(hub, data: bytes) -> None:
    before = hub.counts()
    response = hub.post(data)
    assert response.status_code == 202, response.text[:300]
    assert "<Status>accepted</Status>" in response.text
    assert hub.counts()[0] == before[0] + 1


# --- cross-tenant routes ------------------------------------------------------------------------

@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_move_notice_of_a_addressed_to_b_is_refused(hub, a, b):
    """住民異動通知 (with 個人番号) stays within a municipality: A's tax/nhi only."""
    data = sign_message(move_notice(a, receiver_lgcode=b), hub.key(a, "residents_registry"))
    _refused(hub, data, 403, "wrong-municipality")


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_income_inquiry_of_a_to_tax_of_b_is_refused(hub, a, b):
    """所得照会: A's nhi may ask only A's tax."""
    data = sign_message(income_inquiry(a, receiver_lgcode=b), hub.key(a, "nhi"))
    _refused(hub, data, 403, "wrong-municipality")


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_a_signing_as_b_is_refused(hub, a, b):
    """A's key on a message claiming sender B: the key's owner is not the header's sender."""
    data = sign_message(move_out_certificate(b, a), hub.key(a, "residents_registry"))
    _refused(hub, data, 403, "signature-invalid")


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_replay_of_b_message_id_with_other_content_is_refused(hub, a, b):
    """B's message is stored; A reuses B's message id for its own message: 409, nothing stored."""
    original = move_out_certificate(b, a)
    _accepted(hub, sign_message(original, hub.key(b, "residents_registry")))
    forged = move_out_certificate(a, b, message_id=original.header.message_id)
    _refused(hub, sign_message(forged, hub.key(a, "residents_registry")), 409, "duplicate-message-id")


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_identical_replay_of_b_message_has_no_effect(hub, a, b):
    """A captured B's signed bytes and sends them again: re-acknowledged, nothing new stored
    or delivered (at-least-once is absorbed by the message id)."""
    data = sign_message(move_out_certificate(b, a), hub.key(b, "residents_registry"))
    _accepted(hub, data)
    before = hub.counts()
    response = hub.post(data)
    assert response.status_code == 202
    assert hub.counts() == before


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("unit", ["tax", "nhi"])
def test_move_out_certificate_from_a_non_registry_unit_is_refused(hub, unit):
    """The cross-municipality route is for residents_registry only."""
    data = sign_message(move_out_certificate("053031", "053279", sender_unit=unit), hub.key("053031", unit))
    _refused(hub, data, 403, "route-unauthorised")


@pytest.mark.attack("cross-tenant")
def test_message_to_a_municipality_outside_the_consortium_is_refused(hub):
    outsider = "05201" + str(ids.lgcode_check_digit("05201"))  # 秋田市, not in the dev consortium
    data = sign_message(move_out_certificate("053031", outsider), hub.key("053031", "residents_registry"))
    _refused(hub, data, 403, "wrong-municipality")


@pytest.mark.twin("cross-tenant")
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_twin_move_out_certificate_a_to_b_is_accepted(hub, a, b):
    """転出証明書情報: the one authorised cross-tenant route."""
    _accepted(hub, sign_message(move_out_certificate(a, b), hub.key(a, "residents_registry")))


@pytest.mark.twin("cross-tenant")
def test_twin_same_municipality_notice_and_inquiry_are_accepted(hub):
    _accepted(hub, sign_message(move_notice("053031"), hub.key("053031", "residents_registry")))
    _accepted(hub, sign_message(income_inquiry("053031"), hub.key("053031", "nhi")))


@pytest.mark.attack("auth")
def test_unsigned_message_is_refused(hub):
    _refused(hub, encode_message(move_notice("053031")), 403, "signature-invalid")


@pytest.mark.attack("auth")
def test_message_signed_by_an_unregistered_key_is_refused(hub):
    from municloud.platform import SigningKey

    rogue = SigningKey.generate("residents_registry-053031")  # right key id, wrong key
    _refused(hub, sign_message(move_notice("053031"), rogue), 403, "signature-invalid")


# --- hostile XML ---------------------------------------------------------------------------------

def _valid_bytes(hub) -> bytes:
    return sign_message(move_notice("053031"), hub.key("053031", "residents_registry"))


def _hostile(hub, case: str) -> bytes:
    return hostile_xml_cases(_valid_bytes(hub))[case]


HOSTILE = {  # case: (statuses, fault code)
    "billion-laughs": ((400,), "unsafe"), "xxe-file": ((400,), "unsafe"),
    "xxe-network": ((400,), "unsafe"), "parameter-entity": ((400,), "unsafe"),
    "external-dtd": ((400,), "unsafe"), "doctype-lowercase-trick": ((400,), "unsafe"),
    "deep-nesting": ((400,), ("unsafe", "malformed")), "huge-attribute": ((400,), "schema-invalid"),
    "oversized-body-2MiB": ((413,), "unsafe"), "utf16-bom": ((400,), "unsafe"),
    "declared-shift-jis": ((400,), "unsafe"), "invalid-utf8": ((400,), "unsafe"),
    "processing-instruction-prolog": ((400,), "unsafe"),
    "processing-instruction-inside": ((400,), "unsafe"), "not-well-formed": ((400,), "malformed"),
    "wrong-root": ((400,), "schema-invalid"), "bad-check-digit": ((400,), "schema-invalid"),
    "empty": ((400,), "malformed"), "json-instead-of-xml": ((400,), "malformed"),
}


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_xml_is_refused_and_nothing_stored(hub, case):
    statuses, code = HOSTILE[case]
    _refused(hub, _hostile(hub, case), statuses, code)


@pytest.mark.twin("hostile input")
def test_twin_well_formed_signed_message_is_accepted(hub):
    _accepted(hub, _valid_bytes(hub))
