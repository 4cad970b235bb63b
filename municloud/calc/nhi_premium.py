"""国民健康保険税 (NHI premium) of one household for one fiscal year.

Household premium = 医療分 + 後期高齢者支援金分 + 介護納付金分 (members aged 40-64) + from FY2026
子ども・子育て支援納付金分 (its 均等割 not charged for members up to the 31 March after their 18th
birthday, and an optional 18歳以上 add-on for the others); each part =
所得割 (sum over insured members of 総所得金額等 - 基礎控除 43万 with taper, x rate in basis
points) + 均等割 x members + 平等割, capped by the part's 賦課限度額. 均等割 and 平等割 are reduced
by 7/5/2割 according to the household's 総所得金額等 (head + insured); pre-school children's
均等割 is halved after that reduction. The total is rounded down to 100 yen (optionally each part,
`NhiParams.round_each_part`).

Our design choices (documented in docs/calc.md): ages are taken on the fiscal year's basis date,
1 April: 介護分 for legal age 40-64 (a year attained on the day before the birthday,
年齢計算ニ関スル法律); 未就学児 = not yet 6 by the end of 31 March (born 2 April or later six
years before); 国保 ends at the 75th birthday (後期高齢者医療); no monthly proration for members who
join, leave or turn 40 / 65 during the year; reduced 均等割 / 平等割 are rounded down to the yen.
The 軽減 judgement disregards up to 15万 of the 年金所得 of members of legal age 65+ on
31 December of the previous year. 特定同一世帯所属者 are not modelled.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from municloud import wareki
from municloud.calc.errors import UnsupportedInput
from municloud.calc.rounding import apply_rate, floor_to
from municloud.calc.resident_tax import basic_deduction
from municloud.params import (
    ChildSupportPartParams,
    LevyPartParams,
    NhiParams,
    StrictModel,
    check_fiscal_year,
)

__all__ = [
    "HouseholdMember",
    "LevyPartBreakdown",
    "NhiHousehold",
    "NhiPremiumBreakdown",
    "basis_date",
    "compute",
    "age_on",
    "compute_levy_part",
    "is_child_support_exempt",
    "is_preschool",
    "legal_age",
    "reduction_thresholds",
]

Yen = Annotated[int, Field(ge=0, le=10**11)]


def _clerk_date(value: object) -> object:
    # A clerk types ISO (1980-05-01) or 和暦 (昭和55年5月1日, 令和元年5月1日, S55.05.01, 3550501):
    # text goes through the one converter; a number is never a date (strict).
    if isinstance(value, str):
        try:
            return wareki.parse_date_text(value)
        except wareki.WarekiError as exc:
            raise ValueError(str(exc)) from None
    return value


ClerkDate = Annotated[date, BeforeValidator(_clerk_date)]
"""A date given as ISO or 和暦 text (or a `date`); never a number."""


class HouseholdMember(StrictModel):
    birth_date: ClerkDate
    """ISO 西暦 or 和暦 (令和元年5月1日, R1.05.01, 5010501)."""
    insured: bool = True
    """国保 insured (False for a head who is in another scheme: 擬制世帯主)."""
    is_head: bool = False
    """世帯主 (exactly one member)."""
    total_income: Yen = 0
    """総所得金額等 of the previous year."""
    salary_or_pension_earner: bool = False
    """給与所得者等: 給与収入 over 55万 or 公的年金等 over 60万 (under 65) / 125万 (65+); the 軽減
    judgement adds 10万 per such earner beyond one."""
    pension_income_amount: Yen = 0
    """公的年金等に係る雑所得 included in total_income; members 65+ on 31 December of the
    previous year get up to 15万 of it disregarded in the 軽減 judgement (公的年金等特別控除)."""

    @model_validator(mode="after")
    def _pension_within_total(self) -> HouseholdMember:
        if self.pension_income_amount > self.total_income:
            raise ValueError("pension_income_amount must not exceed total_income")
        return self


class NhiHousehold(StrictModel):
    members: list[HouseholdMember] = Field(min_length=1, max_length=30)

    @field_validator("members")
    @classmethod
    def _shape(cls, members: list[HouseholdMember]) -> list[HouseholdMember]:
        heads = sum(m.is_head for m in members)
        if heads != 1:
            raise ValueError(f"exactly one member must have is_head=true, got {heads}")
        if not any(m.insured for m in members):
            raise ValueError("at least one member must be insured")
        return members


class LevyPartBreakdown(BaseModel):
    model_config = ConfigDict(frozen=True)

    part: str
    """medical | support | care | child_support."""
    members: int
    """Members liable for this part (care: aged 40-64)."""
    per_capita_exempt_members: int = 0
    """child_support: members whose 均等割 is not charged (up to 18)."""
    income_levy_base: int
    """Sum of (総所得金額等 - 基礎控除) over liable members."""
    income_rate_bp: int
    income_levy: int
    per_member: int
    per_capita_gross: int
    per_capita_reduction: int
    preschool_reduction: int
    per_capita: int
    per_household_gross: int
    per_household_reduction: int
    per_household: int
    subtotal: int
    """所得割 + 均等割 + 平等割 (rounded down to 100 when round_each_part)."""
    cap: int
    capped: bool
    amount: int


class NhiPremiumBreakdown(BaseModel):
    model_config = ConfigDict(frozen=True)

    fiscal_year: int
    basis_date: date
    insured_members: int
    preschool_members: int
    care_members: int
    child_support_exempt_members: int = 0
    """Insured members up to the 31 March after their 18th birthday (FY2026+)."""
    judgement_income: int
    """総所得金額等 of head + insured members, less the 15万 pensioner deduction, for 軽減."""
    earners: int
    reduction_thresholds: dict[str, int]
    """7割 / 5割 / 2割 income thresholds of this household."""
    reduction_tenths: int
    """0, 2, 5 or 7 (割)."""
    parts: list[LevyPartBreakdown]
    total_before_rounding: int
    total: int


PENSIONER_SPECIAL_DEDUCTION = 150_000


def basis_date(fiscal_year: int) -> date:
    """Basis date of a fiscal year for ages (our design): 1 April."""
    return date(fiscal_year, 4, 1)


def age_on(birth: date, on: date) -> int:
    """Completed years on `on`, counting the birthday itself (後期高齢者医療 starts on the
    75th birthday)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def legal_age(birth: date, on: date) -> int:
    """Age under 年齢計算ニ関スル法律: a year is attained on the day before the birthday
    (e.g. 介護保険 第2号 from the day before the 40th birthday)."""
    return age_on(birth, on + timedelta(days=1))


def is_preschool(birth: date, fiscal_year: int) -> bool:
    """未就学児: has not reached the first school year, i.e. had not attained 6 by the end of
    31 March (a child born on 1 April enters school that April)."""
    return age_on(birth, basis_date(fiscal_year)) < 6


def is_child_support_exempt(birth: date, fiscal_year: int) -> bool:
    """子ども・子育て支援納付金分 均等割 not charged (地方税法 §703-5, 2024 amendment): the member is
    on the basis date before the first 31 March after reaching 18, i.e. not yet 18 on 1 April
    (legal age: reached the day before the birthday)."""
    return age_on(birth, basis_date(fiscal_year)) < 18


def _income_levy_base(total_income: int) -> int:
    return max(0, total_income - basic_deduction(total_income))


def compute_levy_part(part: str, params: LevyPartParams, *, income_bases: list[int],
                      full_members: int, preschool_members: int, reduction_tenths: int,
                      round_each_part: bool, exempt_members: int = 0) -> LevyPartBreakdown:
    """One part of the premium for liable members.

    `income_bases`: 所得割 base of each liable member; `full_members` + `preschool_members`
    + `exempt_members` (no 均等割 at all: child_support up to 18) = liable members. A part with
    no liable member is zero (no 平等割 either).
    """
    members = full_members + preschool_members + exempt_members
    if members == 0:
        return LevyPartBreakdown(
            part=part, members=0, per_capita_exempt_members=0, income_levy_base=0,
            income_rate_bp=params.income_rate_bp,
            income_levy=0, per_member=params.per_member, per_capita_gross=0,
            per_capita_reduction=0, preschool_reduction=0, per_capita=0,
            per_household_gross=0, per_household_reduction=0, per_household=0, subtotal=0,
            cap=params.cap, capped=False, amount=0)
    base = sum(income_bases)
    income_levy = apply_rate(base, params.income_rate_bp)

    keep = 10 - reduction_tenths
    per_member = params.per_member + (params.per_adult_member
                                      if isinstance(params, ChildSupportPartParams) else 0)
    charged = full_members + preschool_members
    reduced_per_member = per_member * keep // 10
    per_capita_gross = per_member * charged
    per_capita_reduction = (per_member - reduced_per_member) * charged
    preschool_reduction = (reduced_per_member - reduced_per_member // 2) * preschool_members
    per_capita = per_capita_gross - per_capita_reduction - preschool_reduction

    per_household_gross = params.per_household
    per_household = params.per_household * keep // 10
    subtotal = income_levy + per_capita + per_household
    if round_each_part:
        subtotal = floor_to(subtotal, 100)
    amount = min(subtotal, params.cap)
    return LevyPartBreakdown(
        part=part, members=members, per_capita_exempt_members=exempt_members,
        income_levy_base=base, income_rate_bp=params.income_rate_bp, income_levy=income_levy,
        per_member=per_member, per_capita_gross=per_capita_gross,
        per_capita_reduction=per_capita_reduction, preschool_reduction=preschool_reduction,
        per_capita=per_capita, per_household_gross=per_household_gross,
        per_household_reduction=per_household_gross - per_household,
        per_household=per_household, subtotal=subtotal, cap=params.cap,
        capped=subtotal > params.cap, amount=amount)


def reduction_thresholds(params: NhiParams, insured: int, earners: int) -> dict[str, int]:
    r = params.reduction
    extra = r.per_extra_earner * max(earners - 1, 0)
    return {
        "seven_tenths": r.base + extra,
        "five_tenths": r.base + r.five_tenths_per_insured * insured + extra,
        "two_tenths": r.base + r.two_tenths_per_insured * insured + extra,
    }


def compute(household: NhiHousehold, params: NhiParams, fiscal_year: int
            ) -> NhiPremiumBreakdown:
    """Annual NHI premium of `household` for `fiscal_year` under `params`."""
    check_fiscal_year(fiscal_year, "nhi")
    if params.fiscal_year != fiscal_year:
        raise UnsupportedInput("fiscal_year", f"parameters are for fiscal year "
                               f"{params.fiscal_year}, not {fiscal_year}")
    on = basis_date(fiscal_year)
    insured = [m for m in household.members if m.insured]
    judged = [m for m in household.members if m.insured or m.is_head]
    for i, m in enumerate(household.members):
        if m.birth_date > on:
            raise UnsupportedInput(f"members[{i}].birth_date",
                                   f"born after the basis date {on.isoformat()}")
        if m.insured and age_on(m.birth_date, on) >= 75:
            raise UnsupportedInput(f"members[{i}].insured", "members aged 75 or more are in "
                                   "後期高齢者医療, not 国保")

    previous_year_end = date(fiscal_year - 1, 12, 31)
    judgement_income = sum(
        m.total_income - (min(m.pension_income_amount, PENSIONER_SPECIAL_DEDUCTION)
                          if legal_age(m.birth_date, previous_year_end) >= 65 else 0)
        for m in judged)
    earners = sum(m.salary_or_pension_earner for m in judged)
    thresholds = reduction_thresholds(params, len(insured), earners)
    if judgement_income <= thresholds["seven_tenths"]:
        tenths = 7
    elif judgement_income <= thresholds["five_tenths"]:
        tenths = 5
    elif judgement_income <= thresholds["two_tenths"]:
        tenths = 2
    else:
        tenths = 0

    def preschool(m: HouseholdMember) -> bool:
        return params.preschool_half and is_preschool(m.birth_date, fiscal_year)

    care = [m for m in insured if 40 <= legal_age(m.birth_date, on) <= 64]
    parts = []
    levied: list[tuple[str, LevyPartParams, list[HouseholdMember]]] = [
        ("medical", params.medical, insured), ("support", params.support, insured),
        ("care", params.care, care)]
    if params.child_support is not None:
        levied.append(("child_support", params.child_support, insured))
    exempt_children = 0
    for name, part_params, liable in levied:
        exempt = (sum(is_child_support_exempt(m.birth_date, fiscal_year) for m in liable)
                  if name == "child_support" else 0)
        exempt_children = max(exempt_children, exempt)
        young = 0 if name == "child_support" else sum(preschool(m) for m in liable)
        parts.append(compute_levy_part(
            name, part_params,
            income_bases=[_income_levy_base(m.total_income) for m in liable],
            full_members=len(liable) - young - exempt, preschool_members=young,
            exempt_members=exempt,
            reduction_tenths=tenths, round_each_part=params.round_each_part))
    before = sum(p.amount for p in parts)
    return NhiPremiumBreakdown(
        fiscal_year=fiscal_year, basis_date=on, insured_members=len(insured),
        preschool_members=sum(preschool(m) for m in insured), care_members=len(care),
        child_support_exempt_members=exempt_children,
        judgement_income=judgement_income, earners=earners,
        reduction_thresholds=thresholds, reduction_tenths=tenths, parts=parts,
        total_before_rounding=before, total=floor_to(before, 100))
