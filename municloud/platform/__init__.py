"""Regional information platform (地域情報プラットフォーム) messages: format, signing, safe parsing,
publishing to the hub and exactly-once consumption. See docs/platform.md for the service API.

The envelope is our design (the APPLIC standard's envelope is OPEN), schema version 1.
"""

from municloud.platform.client import PlatformClient
from municloud.platform.consumer import INBOX_DDL, consume_once, ensure_inbox
from municloud.platform.envelope import (
    build_message,
    check_freshness,
    encode_message,
    parse_message,
    receive_message,
    sign_message,
)
from municloud.platform.errors import (
    AddressError,
    FaultError,
    IndividualNumberError,
    InvalidMessageError,
    MalformedMessageError,
    OversizeMessageError,
    PlatformError,
    ReplayError,
    SignatureError,
    StaleMessageError,
    UnsafeMessageError,
)
from municloud.platform.models import (
    Ack,
    AckStatus,
    BusinessUnit,
    Fault,
    Header,
    IncomeInquiry,
    IncomeInquiryResponse,
    IncomeInquirySubject,
    IncomeRecord,
    Message,
    MoveKind,
    MoveOutCertificate,
    Person,
    ResidentMove,
    ResidentMoveNotice,
    Sex,
)
from municloud.platform.replies import make_ack, make_fault
from municloud.platform.signing import KeyRegistry, SigningKey, WatchedKeyRegistry

__all__ = [
    "INBOX_DDL", "Ack", "AckStatus", "AddressError", "BusinessUnit", "Fault", "FaultError", "Header",
    "IncomeInquiry", "IncomeInquiryResponse", "IncomeInquirySubject", "IncomeRecord",
    "IndividualNumberError", "InvalidMessageError", "KeyRegistry", "OversizeMessageError", "ReplayError", "StaleMessageError",
    "check_freshness", "WatchedKeyRegistry", "MalformedMessageError", "Message", "MoveKind",
    "MoveOutCertificate", "Person", "PlatformClient", "PlatformError", "ResidentMove",
    "ResidentMoveNotice", "Sex", "SignatureError", "SigningKey", "UnsafeMessageError",
    "build_message", "consume_once", "encode_message", "ensure_inbox", "make_ack", "make_fault",
    "parse_message", "receive_message", "sign_message",
]
