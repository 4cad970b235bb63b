"""Hostile input is refused as unsafe before it is parsed; each refusal has an allowed twin."""

import pytest

from municloud.platform import (
    InvalidMessageError, MalformedMessageError, UnsafeMessageError, build_message, encode_message, parse_message,
)
from municloud.platform.safe_xml import parse_xml
from municloud.platform.samples import sample_move_notice

pytestmark = pytest.mark.unit


@pytest.fixture
def good():
    return encode_message(build_message(sample_move_notice("053031"), sender_unit="residents_registry",
                                        sender_lgcode="053031", receiver_unit="platform_hub", receiver_lgcode="053031"))


def test_allowed_twin_parses(good):
    assert parse_message(good).header.sender_lgcode == "053031"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Envelope xmlns="urn:municloud:platform:v1">&lol2;</Envelope>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Envelope xmlns="urn:municloud:platform:v1">&xxe;</Envelope>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">
<Envelope xmlns="urn:municloud:platform:v1"/>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, BILLION_LAUGHS.replace(b"DOCTYPE", b"doctype")],
                         ids=["billion-laughs", "xxe", "external-dtd", "lowercase-doctype"])
def test_dtds_and_entities_are_unsafe(data):
    with pytest.raises(UnsafeMessageError, match="DTD"):
        parse_message(data)


def test_size_limit(good):
    with pytest.raises(UnsafeMessageError, match="limit"):
        parse_message(good, max_bytes=len(good) - 1)
    assert parse_message(good, max_bytes=len(good))


def test_depth_limit():
    deep = b"<a>" * 40 + b"</a>" * 40
    with pytest.raises(UnsafeMessageError, match="deeper"):
        parse_xml(deep)
    assert parse_xml(b"<a>" * 10 + b"</a>" * 10) is not None


def test_utf16_is_unsafe(good):
    text = good.decode("utf-8").replace("UTF-8", "UTF-16")
    with pytest.raises(UnsafeMessageError, match="UTF-8"):
        parse_message(text.encode("utf-16"))


def test_declared_shift_jis_is_unsafe(good):
    with pytest.raises(UnsafeMessageError, match="Shift_JIS"):
        parse_message(good.replace(b"UTF-8", b"Shift_JIS", 1))


def test_invalid_utf8_bytes_are_unsafe(good):
    with pytest.raises(UnsafeMessageError, match="offset"):
        parse_message(good.replace("試験".encode(), "試験".encode("cp932")))


def test_not_well_formed_is_malformed(good):
    with pytest.raises(MalformedMessageError):
        parse_message(good[:-20])


def test_processing_instruction_is_unsafe(good):
    with pytest.raises(UnsafeMessageError):
        parse_message(good.replace(b"<Header>", b"<?evil x?><Header>", 1))


def test_wrong_root_is_invalid_not_unsafe():
    with pytest.raises(InvalidMessageError):
        parse_message(b"<Envelope/>")
