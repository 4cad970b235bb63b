"""Message format: every body round-trips through XML and the v1 XSD; envelope rules hold."""

import uuid

import pytest
from lxml import etree

from municloud.platform import (
    Ack, AckStatus, Fault, InvalidMessageError, build_message, encode_message, parse_message,
)
from municloud.platform.envelope import to_element
from municloud.platform.samples import (
    sample_income_inquiry, sample_income_response, sample_move_notice, sample_move_out_certificate,
)
import datetime as dt

pytestmark = pytest.mark.unit

BODIES = {
    "ResidentMoveNotice": (sample_move_notice("053031"), "residents_registry", "platform_hub"),
    "IncomeInquiry": (sample_income_inquiry("053031"), "nhi", "tax"),
    "IncomeInquiryResponse": (sample_income_response("053031"), "tax", "nhi"),
    "MoveOutCertificate": (sample_move_out_certificate("053031"), "residents_registry", "residents_registry"),
    "Ack": (Ack(acknowledged_message_id=uuid.uuid4(), status=AckStatus.PROCESSED,
                received_at=dt.datetime(2026, 4, 1, 9, tzinfo=dt.timezone.utc)), "tax", "residents_registry"),
    "Fault": (Fault(code="schema-invalid", reason="bad", path="/Envelope/Body"), "platform_hub", "nhi"),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_body_round_trips_through_xml_and_schema(name):
    body, sender, receiver = BODIES[name]
    message = build_message(body, sender_unit=sender, sender_lgcode="053031",
                            receiver_unit=receiver, receiver_lgcode="053031")
    decoded = parse_message(encode_message(message))
    assert decoded.header == message.header
    assert decoded.body == message.body
    assert decoded.header.message_type == name
    assert decoded.header.record_count == body.record_count()


def _tamper(message, xpath, text):
    root = to_element(message)
    node = root.xpath(xpath, namespaces={"p": "urn:municloud:platform:v1"})[0]
    node.text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def notice():
    return build_message(sample_move_notice("053031"), sender_unit="residents_registry", sender_lgcode="053031",
                         receiver_unit="platform_hub", receiver_lgcode="053031")


def test_schema_violation_names_the_path(notice):
    data = _tamper(notice, "//p:BirthDate", "1980-13-45")
    with pytest.raises(InvalidMessageError) as err:
        parse_message(data)
    assert err.value.path.endswith("Move/Person/BirthDate")
    assert "1980-13-45" not in str(err.value)


def test_bad_individual_number_check_digit_is_refused_without_echoing_it(notice):
    original = notice.body.moves[0].person.individual_number
    wrong = original[:11] + str((int(original[11]) + 1) % 10)
    with pytest.raises(InvalidMessageError) as err:
        parse_message(_tamper(notice, "//p:IndividualNumber", wrong))
    assert err.value.path == "/Envelope/Body/ResidentMoveNotice/Move[1]/Person/IndividualNumber"
    assert wrong not in str(err.value) and original not in str(err.value)


def test_individual_number_with_wrong_length_is_not_echoed_by_the_schema_error(notice):
    with pytest.raises(InvalidMessageError) as err:
        parse_message(_tamper(notice, "//p:IndividualNumber", "12345678901"))
    assert "12345678901" not in str(err.value)
    assert "IndividualNumber" in err.value.path


def test_bad_lgcode_check_digit_is_refused(notice):
    with pytest.raises(InvalidMessageError) as err:
        parse_message(_tamper(notice, "//p:SenderLgcode", "053032"))
    assert err.value.path == "/Envelope/Header/SenderLgcode"


def test_message_type_must_match_body(notice):
    with pytest.raises(InvalidMessageError) as err:
        parse_message(_tamper(notice, "//p:MessageType", "IncomeInquiry"))
    assert err.value.path == "/Envelope/Header/MessageType"


def test_record_count_must_match_body(notice):
    with pytest.raises(InvalidMessageError) as err:
        parse_message(_tamper(notice, "//p:RecordCount", "2"))
    assert err.value.path == "/Envelope/Header/RecordCount"


def test_individual_number_is_optional_and_detected(notice):
    assert notice.carries_individual_number()
    without = build_message(sample_move_notice("053031", with_individual_number=False),
                            sender_unit="residents_registry", sender_lgcode="053031",
                            receiver_unit="platform_hub", receiver_lgcode="053031")
    assert not parse_message(encode_message(without)).carries_individual_number()


def test_xsd_files_are_versioned_in_the_package():
    from municloud.platform.schema import XSD_DIR

    names = {p.name for p in (XSD_DIR / "v1").glob("*.xsd")}
    assert {"envelope.xsd", "common.xsd", "resident_move_notice.xsd", "income_inquiry.xsd",
            "move_out_certificate.xsd", "ack.xsd", "fault.xsd"} <= names
