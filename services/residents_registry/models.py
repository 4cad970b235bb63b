"""Request and response models of the residents registry, split Create / Public.

Dates are accepted as ISO 西暦 or 和暦 strings and shown in both; identifiers are checked by
municloud.ids (check digits where the law defines one)."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from municloud.rules import Rule, state_rules

from municloud.service.types import (
    AtenaNumber,
    FlexibleDate,
    FreeText,
    HouseholdNumber,
    LgCode,
    MyNumber,
    ResidentRecordCode,
    wareki_text,
)

HEAD = "世帯主"
Name = Annotated[FreeText, Field(min_length=1, max_length=60)]
Kana = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[ァ-ヶー・　 ]+$")]
Address = Annotated[FreeText, Field(min_length=1, max_length=200)]
Relationship = Annotated[FreeText, Field(min_length=1, max_length=30)]


class Sex(str, Enum):
    MALE = "1"  # 男
    FEMALE = "2"  # 女


SexCode = Annotated[Sex, Field(strict=False)]
"""性別 code "1" / "2" (JSON text matched to the enum by value)."""


class _In(BaseModel):
    # hide_input_in_errors: a ValidationError never carries the submitted value (a 個人番号).
    # strict: no coercion of numbers, floats or booleans (codes and dates are text or dates).
    # json_schema_extra: the model's cross-field rules in its JSON Schema (municloud/rules.py).
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, strict=True,
                              json_schema_extra=state_rules)
    rules: ClassVar[tuple[Rule, ...]] = ()


def _present(name: str, json_type: str) -> dict:
    """JSON Schema: ``name`` is given and not null."""
    return {"required": [name], "properties": {name: {"type": json_type}}}


#: 届出日 is not before 異動日 (but for a 転出, notified before the move)
NOTIFIED_AFTER_EVENT = Rule(
    "notification-not-before-event", "notification_date", "届出日 must not be before 異動日",
    check={"kind": "date-not-before", "than": "event_date"})
#: a 転入 or 世帯変更 joins an existing household or founds a new one, never both or neither
ONE_HOUSEHOLD_TARGET = Rule(
    "one-household-target", "household_number", "give exactly one of household_number, new_household",
    schema={"oneOf": [
        {**_present("household_number", "string"), "not": _present("new_household", "object")},
        {**_present("new_household", "object"), "not": _present("household_number", "string")}]})
#: a new household founded by a 転入 has exactly one 世帯主 among the members
NEW_HOUSEHOLD_ONE_HEAD = Rule(
    "new-household-one-head", "members", "a new household needs exactly one 世帯主",
    schema={"if": _present("new_household", "object"),
            "then": {"properties": {"members": {
                "contains": {"type": "object", "required": ["relationship_to_head"],
                             "properties": {"relationship_to_head": {"const": HEAD}}},
                "minContains": 1, "maxContains": 1}}}})
#: who founds a new household by 世帯変更 is its head
FOUNDER_IS_HEAD = Rule(
    "founder-is-head", "relationship_to_head", "the founder of a new household is its 世帯主",
    schema={"if": _present("new_household", "object"),
            "then": {"properties": {"relationship_to_head": {"const": HEAD}}}})


class PersonCreate(_In):
    """A person registered by 転入 (or 出生, where birth_date is the event date)."""

    atena_number: AtenaNumber | None = None  # allocated when absent
    resident_record_code: ResidentRecordCode
    individual_number: MyNumber | None = None
    family_name: Name
    given_name: Name
    family_name_kana: Kana
    given_name_kana: Kana
    birth_date: FlexibleDate
    sex: SexCode
    relationship_to_head: Relationship


class NewHousehold(_In):
    household_number: HouseholdNumber | None = None  # allocated when absent


class _Movement(_In):
    event_date: FlexibleDate  # 異動日
    notification_date: FlexibleDate  # 届出日

    rules = (NOTIFIED_AFTER_EVENT,)

    @model_validator(mode="after")
    def _dates(self):
        if NOTIFIED_AFTER_EVENT in self.rules and self.notification_date < self.event_date:
            raise NOTIFIED_AFTER_EVENT.broken()
        return self


class MoveIn(_Movement):
    """転入: one or more persons arrive from another municipality."""

    kind: Literal["move_in"]
    address: Address
    previous_address: Address  # 従前の住所
    previous_lgcode: LgCode | None = None
    household_number: HouseholdNumber | None = None  # join an existing household, or
    new_household: NewHousehold | None = None  # found a new one
    members: list[PersonCreate] = Field(min_length=1, max_length=30)
    move_out_certificate_number: str | None = Field(None, max_length=30)
    rules = (NOTIFIED_AFTER_EVENT, ONE_HOUSEHOLD_TARGET, NEW_HOUSEHOLD_ONE_HEAD)

    @model_validator(mode="after")
    def _household(self):
        if (self.household_number is None) == (self.new_household is None):
            raise ONE_HOUSEHOLD_TARGET.broken()
        heads = [m for m in self.members if m.relationship_to_head == HEAD]
        if self.new_household is not None and len(heads) != 1:
            raise NEW_HOUSEHOLD_ONE_HEAD.broken()
        return self


class Birth(_Movement):
    """出生: a child is registered in an existing household; birth date = event date."""

    kind: Literal["birth"]
    household_number: HouseholdNumber
    atena_number: AtenaNumber | None = None
    resident_record_code: ResidentRecordCode
    individual_number: MyNumber | None = None
    family_name: Name
    given_name: Name
    family_name_kana: Kana
    given_name_kana: Kana
    sex: SexCode
    relationship_to_head: Relationship


class MoveWithin(_Movement):
    """転居: a household (all active members) moves to a new address in the municipality."""

    kind: Literal["move_within"]
    household_number: HouseholdNumber
    address: Address


class MoveOut(_Movement):
    """転出: persons leave the municipality (a 転出予定日 may be in the future)."""

    kind: Literal["move_out"]
    atena_numbers: list[AtenaNumber] = Field(min_length=1, max_length=30)
    next_address: Address
    next_lgcode: LgCode | None = None  # set for a move to another consortium municipality
    rules = ()  # 転出届 is made before the move: no NOTIFIED_AFTER_EVENT


class Death(_Movement):
    """死亡."""

    kind: Literal["death"]
    atena_number: AtenaNumber


class HouseholdChange(_Movement):
    """世帯変更: a person joins another household, founds one, or becomes its head."""

    kind: Literal["household_change"]
    atena_number: AtenaNumber
    household_number: HouseholdNumber | None = None  # target household, or
    new_household: NewHousehold | None = None
    relationship_to_head: Relationship
    rules = (NOTIFIED_AFTER_EVENT, ONE_HOUSEHOLD_TARGET, FOUNDER_IS_HEAD)

    @model_validator(mode="after")
    def _target(self):
        if (self.household_number is None) == (self.new_household is None):
            raise ONE_HOUSEHOLD_TARGET.broken()
        if self.new_household is not None and self.relationship_to_head != HEAD:
            raise FOUNDER_IS_HEAD.broken()
        return self


MovementCreate = Annotated[
    MoveIn | Birth | MoveWithin | MoveOut | Death | HouseholdChange,
    Field(discriminator="kind"),
]

KIND_LABELS = {
    "move_in": "転入", "move_within": "転居", "move_out": "転出",
    "birth": "出生", "death": "死亡", "household_change": "世帯変更",
}


class MovementPublic(BaseModel):
    movement_id: int
    atena_number: str
    kind: str
    event_date: date
    notification_date: date
    recorded_at: str
    staff_id: str

    @computed_field
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @computed_field
    def event_date_wareki(self) -> str | None:
        return wareki_text(self.event_date)


class MovementResult(BaseModel):
    kind: str
    movements: list[MovementPublic]
    outbox_messages: int


class ResidentPublic(BaseModel):
    """A resident as shown to staff; 個人番号 masked unless the purpose allows it."""

    atena_number: str
    resident_record_code: str
    individual_number: str | None
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    household_number: str
    relationship_to_head: str
    address: str
    address_date: date
    resident_since: date
    notification_date: date
    previous_address: str | None
    status: str
    status_date: date | None
    next_address: str | None

    @computed_field
    def birth_date_wareki(self) -> str:
        return wareki_text(self.birth_date)

    @computed_field
    def sex_label(self) -> str:
        return "男" if self.sex == Sex.MALE else "女"


class ResidentSummary(BaseModel):
    atena_number: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    address: str
    status: str

    @computed_field
    def birth_date_wareki(self) -> str:
        return wareki_text(self.birth_date)


class HouseholdPublic(BaseModel):
    household_number: str
    head_atena_number: str | None
    address: str
    members: list[ResidentSummary]


class DatePair(BaseModel):
    """A date shown in both calendars."""

    iso: date
    wareki: str

    @classmethod
    def of(cls, value: date | None) -> "DatePair | None":
        return None if value is None else cls.model_construct(iso=value, wareki=wareki_text(value))


class CertificateEntry(BaseModel):
    """The legal items of one person on a 住民票 (住民基本台帳法 §7)."""

    name: str  # 氏名
    name_kana: str
    birth_date: DatePair  # 生年月日
    sex: str  # 性別
    relationship_to_head: str  # 世帯主との続柄
    resident_since: DatePair  # 住民となった年月日
    address_date: DatePair  # 住所を定めた年月日
    notification_date: DatePair  # 届出の年月日
    previous_address: str | None  # 従前の住所
    resident_record_code: str | None  # 住民票コード (only when requested)
    individual_number: str | None  # 個人番号 (only when requested with an allowed purpose)
    status: str
    status_date: DatePair | None


class ResidentCertificate(BaseModel):
    """住民票の写し."""

    title: str
    municipality: str
    lgcode: str
    address: str  # 住所
    head_of_household: str | None  # 世帯主の氏名
    household_number: str
    entries: list[CertificateEntry]
    issued_at: str
    issued_at_wareki: str
    issued_by_staff: str
    purpose: str
    individual_number_included: bool
    resident_record_code_included: bool


class SeedResult(BaseModel):
    households: int
    residents: int
    message: str
