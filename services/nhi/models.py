"""Request / response models of nhi (Create / Public)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from municloud.calc.nhi_premium import NhiPremiumBreakdown
from municloud.service.types import AtenaNumber, FlexibleDate


class EnrolmentChange(BaseModel):
    """資格取得 / 資格喪失 by staff (e.g. leaving or joining an employee scheme)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    atena_number: AtenaNumber
    event_date: FlexibleDate
    reason: str = Field(pattern=r"^(employee_insurance|late_elderly|welfare|application|other)$")


class EnrolmentPublic(BaseModel):
    atena_number: str
    insured: bool
    acquired_on: date
    lost_on: date | None
    reason: str


class PremiumPublic(BaseModel):
    household_number: str
    fiscal_year: int
    revision: int
    total: int
    members: list[dict]
    breakdown: NhiPremiumBreakdown


class PremiumPending(BaseModel):
    household_number: str
    fiscal_year: int
    status: str
    missing_incomes: list[str]
    message: str


class QualificationCertificate(BaseModel):
    """国民健康保険 資格確認書 (qualification certificate) of one insured person."""

    title: str
    insurer: str
    lgcode: str
    insured_number: str  # 被保険者番号: our design, the 宛名番号
    name: str
    name_kana: str
    birth_date: str
    birth_date_iso: date
    sex: str
    address: str
    head_of_household: str | None
    acquired_on: str
    acquired_on_iso: date
    lost_on: str | None
    valid: bool
    issued_at: str
    issued_at_wareki: str
    issued_by_staff: str
