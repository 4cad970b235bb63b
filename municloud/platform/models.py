"""Typed bodies and header of a platform message (our design; the APPLIC envelope is OPEN).

Field order here is element order in the XSDs of `xsd/v1/`; the codec (`codec.py`) maps each
field to an element named in CamelCase. Dates are ISO (`YYYY-MM-DD`), 和暦 is converted at the
edges, never here. 個人番号 (`individual_number`) is always optional and travels only where the
routing table allows it.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from municloud import ids
from municloud.calc.resident_tax import Yen

# Identifier checks live once, in municloud.ids; their errors never echo the value. The JSON
# Schema (a model that is also a JSON binding, e.g. nhi's POST /api/v1/income-records) names the
# format, as the services' own identifiers do.
LgCode = Annotated[str, AfterValidator(lambda v: ids.validate_lgcode(v, "lgcode")),
                   WithJsonSchema(ids.json_schema("lgcode"))]
AtenaNumber = Annotated[str, AfterValidator(lambda v: ids.validate_atena_number(v, "atena_number")),
                        WithJsonSchema(ids.json_schema("atena-number"))]
HouseholdNumber = Annotated[str, AfterValidator(lambda v: ids.validate_household_number(v, "household_number")),
                            WithJsonSchema(ids.json_schema("household-number"))]
ResidentCode = Annotated[str, AfterValidator(lambda v: ids.validate_resident_record_code(v, "resident_code")),
                         WithJsonSchema(ids.json_schema("resident-record-code"))]
IndividualNumber = Annotated[str, AfterValidator(lambda v: ids.validate_my_number(v, "individual_number")),
                             WithJsonSchema(ids.json_schema("my-number"))]

SCHEMA_VERSION = "1"
NAMESPACE = "urn:municloud:platform:v1"


class BusinessUnit(str, enum.Enum):
    """Business units that exchange messages (業務ユニット)."""

    RESIDENTS_REGISTRY = "residents_registry"
    TAX = "tax"
    NHI = "nhi"
    PLATFORM_HUB = "platform_hub"


class MoveKind(str, enum.Enum):
    """異動事由: 転入, 転居, 転出, 出生, 死亡, 世帯変更."""

    MOVE_IN = "move_in"
    MOVE_WITHIN = "move_within"
    MOVE_OUT = "move_out"
    BIRTH = "birth"
    DEATH = "death"
    HOUSEHOLD_CHANGE = "household_change"


class Sex(str, enum.Enum):
    MALE = "1"
    FEMALE = "2"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Person(_Model):
    """A resident as carried in messages (住民票 items)."""

    atena_number: AtenaNumber  # 宛名番号
    household_number: HouseholdNumber  # 世帯番号
    resident_code: ResidentCode | None = None  # 住民票コード
    individual_number: IndividualNumber | None = None  # 個人番号
    family_name: str = Field(min_length=1, max_length=60)
    given_name: str = Field(min_length=1, max_length=60)
    family_name_kana: str | None = Field(default=None, max_length=120)
    given_name_kana: str | None = Field(default=None, max_length=120)
    birth_date: dt.date
    sex: Sex
    relationship_to_head: str = Field(min_length=1, max_length=30)  # 世帯主との続柄
    address: str = Field(min_length=1, max_length=200)


class ResidentMove(_Model):
    """One 異動 record."""

    kind: MoveKind
    event_date: dt.date  # 異動日
    notification_date: dt.date  # 届出日
    person: Person
    previous_address: str | None = Field(default=None, max_length=200)
    previous_lgcode: LgCode | None = None
    next_address: str | None = Field(default=None, max_length=200)
    next_lgcode: LgCode | None = None


class Body(_Model):
    message_type: ClassVar[str]
    #: a batch body names its list of records: consecutive queued bodies of the type, to the same
    #: receiver, alike in every other field, may travel as one message (municloud/service/outbox.py)
    batch_field: ClassVar[str | None] = None

    def record_count(self) -> int:
        return 1


class ResidentMoveNotice(Body):
    """住民異動通知: residents_registry tells tax and nhi what changed."""

    message_type: ClassVar[str] = "ResidentMoveNotice"
    batch_field: ClassVar[str | None] = "moves"
    moves: list[ResidentMove] = Field(min_length=1, max_length=1000)

    def record_count(self) -> int:
        return len(self.moves)


class IncomeInquirySubject(_Model):
    atena_number: AtenaNumber
    individual_number: IndividualNumber | None = None


class IncomeInquiry(Body):
    """所得照会: nhi asks tax for the income of household members for a fiscal year."""

    message_type: ClassVar[str] = "IncomeInquiry"
    fiscal_year: int = Field(ge=2000, le=2100)
    purpose: str = Field(min_length=1, max_length=60)
    subjects: list[IncomeInquirySubject] = Field(min_length=1, max_length=100)

    def record_count(self) -> int:
        return len(self.subjects)


class IncomeRecord(_Model):
    atena_number: AtenaNumber
    found: bool
    # amounts within what the calculations take (municloud.calc: up to 10^11 yen), so a stored
    # record is one nhi can compute with (and fits its bigint columns)
    total_income: Yen | None = None  # 総所得金額等 (yen)
    salary_income: Yen | None = None  # 給与所得
    pension_income: Yen | None = None  # 公的年金等所得
    is_earner: bool | None = None  # salary or pension earner (軽減判定)
    individual_number: IndividualNumber | None = None


class IncomeInquiryResponse(Body):
    """所得照会 answer: one record per subject, in the inquiry's order."""

    message_type: ClassVar[str] = "IncomeInquiryResponse"
    fiscal_year: int = Field(ge=2000, le=2100)
    records: list[IncomeRecord] = Field(min_length=1, max_length=100)

    def record_count(self) -> int:
        return len(self.records)


class MoveOutCertificate(Body):
    """転出証明書情報: residents_registry of A tells residents_registry of B who is coming."""

    message_type: ClassVar[str] = "MoveOutCertificate"
    certificate_number: str = Field(pattern=r"^[0-9A-Za-z-]{1,30}$")
    issued_date: dt.date
    planned_move_date: dt.date  # 転出予定日
    new_address: str = Field(min_length=1, max_length=200)
    members: list[Person] = Field(min_length=1, max_length=50)

    def record_count(self) -> int:
        return len(self.members)


class AckStatus(str, enum.Enum):
    ACCEPTED = "accepted"  # hub stored it durably
    PROCESSED = "processed"  # receiver applied it (or had already)


class Ack(Body):
    """受領通知."""

    message_type: ClassVar[str] = "Ack"
    acknowledged_message_id: uuid.UUID
    status: AckStatus
    received_at: dt.datetime


class Fault(Body):
    """Refusal: a stable code, a reason, and where applicable the offending path."""

    message_type: ClassVar[str] = "Fault"
    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,40}$")
    reason: str = Field(min_length=1, max_length=1000)
    path: str | None = Field(default=None, max_length=300)
    faulted_message_id: uuid.UUID | None = None


BODY_TYPES: dict[str, type[Body]] = {
    cls.message_type: cls
    for cls in (ResidentMoveNotice, IncomeInquiry, IncomeInquiryResponse, MoveOutCertificate, Ack, Fault)
}


class Header(_Model):
    message_id: uuid.UUID
    correlation_id: uuid.UUID | None = None
    message_type: str
    sender_unit: BusinessUnit
    sender_lgcode: LgCode
    receiver_unit: BusinessUnit
    receiver_lgcode: LgCode
    timestamp: dt.datetime
    schema_version: str = SCHEMA_VERSION
    record_count: int = Field(ge=0)


class Message(_Model):
    """A decoded envelope. `signature`/`key_id` are set once it has been signed or parsed."""

    header: Header
    body: Body
    key_id: str | None = None
    signature: bytes | None = None
    # sha256 of the signed form (canonical bytes) once parsed: tells a replay (same id, other
    # content) from a duplicate delivery (same id, same content).
    content_sha256: bytes | None = None

    def carries_individual_number(self) -> bool:
        """True if any 個人番号 field of the body is filled (routing decides if that is allowed)."""
        return _has_individual_number(self.body)


def _has_individual_number(value) -> bool:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            item = getattr(value, name)
            if name == "individual_number" and item is not None:
                return True
            if _has_individual_number(item):
                return True
    elif isinstance(value, list):
        return any(_has_individual_number(item) for item in value)
    return False
