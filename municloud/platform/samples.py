"""Deterministic sample bodies for tests, the benchmark and the conformance kit.

Identifiers come from municloud.ids generators (valid check digits, per-municipality prefixes);
names and addresses are fictitious.
"""

from __future__ import annotations

import datetime as dt

from municloud import ids
from municloud.platform.models import (
    IncomeInquiry, IncomeInquiryResponse, IncomeInquirySubject, IncomeRecord, MoveKind,
    MoveOutCertificate, Person, ResidentMove, ResidentMoveNotice, Sex,
)


def sample_person(lgcode: str, serial: int, *, with_individual_number: bool = True) -> Person:
    return Person(
        atena_number=ids.new_atena_number(lgcode, serial),
        household_number=ids.new_household_number(lgcode, serial),
        resident_code=ids.resident_record_code_for_serial(lgcode, serial),
        individual_number=ids.my_number_for_serial(lgcode, serial) if with_individual_number else None,
        family_name="試験",
        given_name=f"太郎{serial}",
        family_name_kana="シケン",
        given_name_kana="タロウ",
        birth_date=dt.date(1980, 1, 1) + dt.timedelta(days=serial % 15000),
        sex=Sex.MALE if serial % 2 else Sex.FEMALE,
        relationship_to_head="世帯主",
        address=f"秋田県テスト町{serial}番地",
    )


def sample_move_notice(lgcode: str, serial: int = 1, *, kind: MoveKind = MoveKind.MOVE_IN,
                       with_individual_number: bool = True) -> ResidentMoveNotice:
    return ResidentMoveNotice(moves=[ResidentMove(
        kind=kind, event_date=dt.date(2026, 4, 1), notification_date=dt.date(2026, 4, 3),
        person=sample_person(lgcode, serial, with_individual_number=with_individual_number),
    )])


def sample_income_inquiry(lgcode: str, serial: int = 1, *, with_individual_number: bool = False) -> IncomeInquiry:
    return IncomeInquiry(fiscal_year=2026, purpose="国民健康保険税算定", subjects=[IncomeInquirySubject(
        atena_number=ids.new_atena_number(lgcode, serial),
        individual_number=ids.my_number_for_serial(lgcode, serial) if with_individual_number else None,
    )])


def sample_income_response(lgcode: str, serial: int = 1, *, with_individual_number: bool = False) -> IncomeInquiryResponse:
    return IncomeInquiryResponse(fiscal_year=2026, records=[IncomeRecord(
        atena_number=ids.new_atena_number(lgcode, serial), found=True, total_income=2_150_000,
        salary_income=2_150_000, pension_income=0, is_earner=True,
        individual_number=ids.my_number_for_serial(lgcode, serial) if with_individual_number else None,
    )])


def sample_move_out_certificate(lgcode: str, serial: int = 1) -> MoveOutCertificate:
    return MoveOutCertificate(
        certificate_number=f"{lgcode}-{serial:06d}", issued_date=dt.date(2026, 3, 25),
        planned_move_date=dt.date(2026, 4, 1), new_address="秋田県転入先町1番地",
        members=[sample_person(lgcode, serial)],
    )
