"""What the kit sends to each unit and which operations each unit must offer."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from municloud import ids
from municloud.layout import AREA_BY_UNIT
from municloud.platform import (
    IncomeInquiryResponse,
    IncomeRecord,
    MoveKind,
    MoveOutCertificate,
    Person,
    ResidentMove,
    ResidentMoveNotice,
    Sex,
)
from municloud.platform.models import Body

INBOX = ("post", "/api/v1/platform/inbox")
COMMON_OPERATIONS = (INBOX, ("get", "/api/v1/layout/export"), ("post", "/api/v1/layout/import"),
                     ("get", "/healthz"), ("get", "/readyz"))


@dataclass(frozen=True)
class UnitProfile:
    unit: str
    prefix: str
    area: str
    # Who sends this unit its inbound sample message, and to which receiver unit.
    sender_unit: str
    receiver_unit: str
    cross_municipality: bool
    # A route to this unit that may not carry a 個人番号 (docs/platform.md routing table): its
    # sender unit; MSG-017 sends such a message with one, signed with --responder-key.
    no_number_sender: str | None = None

    def no_number_body(self, lgcode: str, rng: random.Random, *, with_number: bool = True) -> Body:
        """An IncomeInquiryResponse (tax → nhi, a route without 個人番号) carrying one (or, as
        its allowed twin, not)."""
        serial = rng.randrange(900_000_000, 999_999_999)
        return IncomeInquiryResponse(fiscal_year=dt.date.today().year - 1, records=[IncomeRecord(
            atena_number=ids.new_atena_number(lgcode, serial), found=True, total_income=0,
            salary_income=0, pension_income=0, is_earner=False,
            individual_number=ids.generate_my_number(rng) if with_number else None)])

    def sample_body(self, lgcode: str, rng: random.Random, *,
                    individual_number: bool = False) -> Body:
        """A fresh inbound message body; serials from 900,000,000 up keep kit data apart.
        `individual_number`: the person carries a (made-up, valid) 個人番号."""
        serial = rng.randrange(900_000_000, 999_999_999)
        person = Person(
            individual_number=ids.generate_my_number(rng) if individual_number else None,
            atena_number=ids.new_atena_number(lgcode, serial),
            household_number=ids.new_household_number(lgcode, serial),
            family_name="適合", given_name="検査", family_name_kana="テキゴウ",
            given_name_kana="ケンサ", birth_date=dt.date(1980, 4, 1), sex=Sex.FEMALE,
            relationship_to_head="世帯主", address="適合検査用住所１番地")
        today = dt.date.today()
        if self.cross_municipality:
            return MoveOutCertificate(certificate_number=f"KIT-{serial}", issued_date=today,
                                      planned_move_date=today, new_address=person.address,
                                      members=[person])
        return ResidentMoveNotice(moves=[ResidentMove(kind=MoveKind.MOVE_IN, event_date=today,
                                                      notification_date=today, person=person)])


PROFILES: dict[str, UnitProfile] = {p.unit: p for p in (
    UnitProfile("residents_registry", "RR", AREA_BY_UNIT["residents_registry"],
                sender_unit="residents_registry", receiver_unit="residents_registry",
                cross_municipality=True),
    UnitProfile("tax", "TX", AREA_BY_UNIT["tax"], sender_unit="residents_registry",
                receiver_unit="platform_hub", cross_municipality=False),
    # The hub (the kit as a sender against POST /api/v1/messages): HUB-xxx checks only.
    UnitProfile("platform_hub", "HB", "", sender_unit="residents_registry",
                receiver_unit="platform_hub", cross_municipality=False, no_number_sender="tax"),
    UnitProfile("nhi", "NH", AREA_BY_UNIT["nhi"], sender_unit="residents_registry",
                receiver_unit="platform_hub", cross_municipality=False, no_number_sender="tax"),
)}
