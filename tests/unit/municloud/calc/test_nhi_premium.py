"""国民健康保険税: published example, integer rates, 軽減 thresholds ±1 yen, caps, ages."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from municloud.calc import UnsupportedInput
from municloud.calc.nhi_premium import (
    HouseholdMember,
    NhiHousehold,
    compute,
    compute_levy_part,
    is_preschool,
    legal_age,
)
from municloud.calc.rounding import apply_rate
from municloud.params import LevyPartParams, default_nhi_params

pytestmark = pytest.mark.unit

FY24 = default_nhi_params(2024)
FY25 = default_nhi_params(2025)


def adult(born: date = date(1990, 6, 1), *, head: bool = False, income: int = 0,
          earner: bool = False, insured: bool = True) -> HouseholdMember:
    return HouseholdMember(birth_date=born, is_head=head, total_income=income,
                           salary_or_pension_earner=earner, insured=insured)


def test_890k_times_681bp_is_exact_in_integers() -> None:
    # Floating point: 890,000 x 0.0681 = 60608.999..., truncating loses a yen (DOMAIN.md).
    assert int(890_000 * 0.0681) == 60_608
    assert apply_rate(890_000, 681) == 60_609
    household = NhiHousehold(members=[adult(head=True, income=1_320_000, earner=True)])
    b = compute(household, FY24, 2024)
    medical = b.parts[0]
    assert medical.income_levy_base == 890_000 and medical.income_levy == 60_609


def test_takizawa_city_medical_part() -> None:
    """滝沢市 令和6年度 計算例 (医療分),
    https://city.takizawa.iwate.jp/kurashi/todokede-tetsuzuki/zeikin/kokuhozei/contents-2199

    Husband 42 (所得 200万), wife, one child: 所得割 (2,000,000 - 430,000) x 8.10 % = 127,170;
    均等割 3 x 21,400 = 64,200; 平等割 26,400; 217,770 -> 217,700 (each part rounded down to
    100 yen). The page leaves 軽減 aside, so the part is computed with no reduction here.
    """
    part = compute_levy_part(
        "medical", LevyPartParams(income_rate_bp=810, per_member=21_400, per_household=26_400,
                                  cap=650_000),
        income_bases=[1_570_000, 0, 0], full_members=3, preschool_members=0,
        reduction_tenths=0, round_each_part=True)
    assert (part.income_levy, part.per_capita, part.per_household) == (127_170, 64_200, 26_400)
    assert part.subtotal == 217_700 and part.amount == 217_700


def test_takizawa_city_support_part_figures() -> None:
    # Same page, 支援金分: 1,570,000 x 2.20 % = 34,540; 3 x 6,200 = 18,600; 平等割 6,800
    # (the page's total is cut off in our copy; 59,940 -> 59,900 by the same rounding rule).
    part = compute_levy_part(
        "support", LevyPartParams(income_rate_bp=220, per_member=6_200, per_household=6_800,
                                  cap=240_000),
        income_bases=[1_570_000, 0, 0], full_members=3, preschool_members=0,
        reduction_tenths=0, round_each_part=True)
    assert (part.income_levy, part.per_capita, part.per_household) == (34_540, 18_600, 6_800)
    assert part.amount == 59_900


def test_full_household_by_hand() -> None:
    # FY2024 defaults; head 44 (所得 2,000,000, earner), spouse 39, child born 2020-05-01
    # (preschool). Judgement income 2,000,000; 2割 threshold 430,000 + 545,000 x 3 = 2,065,000
    # -> 2割軽減. 医療: 1,570,000 x 6.81 % = 106,917; 均等割 21,500 -> 17,200 each, child half
    # 8,600 -> 43,000; 平等割 21,000 -> 16,800; 166,717. 支援: 40,035 + (6,800 x 2 + 3,400)
    # 17,000 + 5,440 = 62,475. 介護 (head only): 30,929 + 11,760 + 0 = 42,689.
    # Total 271,881 -> 271,800.
    household = NhiHousehold(members=[
        adult(date(1980, 5, 1), head=True, income=2_000_000, earner=True),
        adult(date(1985, 5, 1)), adult(date(2020, 5, 1))])
    b = compute(household, FY24, 2024)
    assert b.reduction_tenths == 2
    assert b.preschool_members == 1 and b.care_members == 1
    assert [p.amount for p in b.parts] == [166_717, 62_475, 42_689]
    assert b.parts[0].per_capita_reduction == 12_900 and b.parts[0].preschool_reduction == 8_600
    assert b.total_before_rounding == 271_881 and b.total == 271_800


def test_round_each_part_option() -> None:
    household = NhiHousehold(members=[
        adult(date(1980, 5, 1), head=True, income=2_000_000, earner=True),
        adult(date(1985, 5, 1)), adult(date(2020, 5, 1))])
    params = FY24.model_copy(update={"round_each_part": True})
    b = compute(household, params, 2024)
    assert [p.amount for p in b.parts] == [166_700, 62_400, 42_600]
    assert b.total == 271_700


# --- 軽減 thresholds ±1 yen -------------------------------------------------------------------

@pytest.mark.parametrize(("params", "fy", "income", "earners", "tenths"), [
    (FY24, 2024, 430_000, 1, 7), (FY24, 2024, 430_001, 1, 5),
    (FY24, 2024, 1_020_000, 1, 5), (FY24, 2024, 1_020_001, 1, 2),     # 430,000 + 295,000 x 2
    (FY24, 2024, 1_520_000, 1, 2), (FY24, 2024, 1_520_001, 1, 0),     # 430,000 + 545,000 x 2
    (FY25, 2025, 1_040_000, 1, 5), (FY25, 2025, 1_040_001, 1, 2),     # 305,000 x 2
    (FY25, 2025, 1_550_000, 1, 2), (FY25, 2025, 1_550_001, 1, 0),     # 560,000 x 2
    (FY24, 2024, 530_000, 2, 7), (FY24, 2024, 530_001, 2, 5),         # + 100,000 (2 earners)
    (FY25, 2025, 1_650_000, 2, 2), (FY25, 2025, 1_650_001, 2, 0),
])
def test_reduction_thresholds(params, fy: int, income: int, earners: int, tenths: int) -> None:
    household = NhiHousehold(members=[
        adult(head=True, income=income, earner=True),
        adult(earner=earners == 2)])
    b = compute(household, params, fy)
    assert b.reduction_tenths == tenths


def test_uninsured_head_income_counts_for_judgement_only() -> None:
    # 擬制世帯主: head in employee insurance; his income decides 軽減 but bears no 所得割.
    household = NhiHousehold(members=[
        adult(head=True, income=3_000_000, earner=True, insured=False),
        adult(income=0)])
    b = compute(household, FY24, 2024)
    assert b.judgement_income == 3_000_000 and b.reduction_tenths == 0
    assert b.insured_members == 1
    assert b.parts[0].income_levy == 0 and b.parts[0].per_capita == 21_500


def test_seven_tenths_reduction_amounts() -> None:
    b = compute(NhiHousehold(members=[adult(head=True)]), FY24, 2024)
    medical = b.parts[0]
    assert b.reduction_tenths == 7
    assert (medical.per_capita, medical.per_household) == (6_450, 6_300)


# --- caps -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("base", "capped", "amount"), [
    (6_499_990, False, 649_999), (6_500_000, False, 650_000), (6_500_010, True, 650_000)])
def test_cap_exactly_hit(base: int, capped: bool, amount: int) -> None:
    part = compute_levy_part("medical", LevyPartParams(income_rate_bp=1_000, per_member=0,
                                                       per_household=0, cap=650_000),
                             income_bases=[base], full_members=1, preschool_members=0,
                             reduction_tenths=0, round_each_part=False)
    assert (part.capped, part.amount) == (capped, amount)


def test_caps_per_fiscal_year_in_a_rich_household() -> None:
    household = NhiHousehold(members=[adult(date(1975, 1, 1), head=True, income=30_000_000,
                                            earner=True)])
    b24, b25 = compute(household, FY24, 2024), compute(household, FY25, 2025)
    assert [p.amount for p in b24.parts] == [650_000, 240_000, 170_000]
    assert [p.amount for p in b25.parts] == [660_000, 260_000, 170_000]
    assert all(p.capped for p in b25.parts)
    assert b25.total == 1_090_000


# --- ages on the basis date -------------------------------------------------------------------

@pytest.mark.parametrize(("born", "in_care"), [
    (date(1984, 4, 2), True),    # attains 40 on 2024-04-01 (day before the birthday)
    (date(1984, 4, 3), False),
    (date(1959, 4, 2), False),   # attains 65 on 2024-04-01
    (date(1959, 4, 3), True),
])
def test_care_part_age_window(born: date, in_care: bool) -> None:
    b = compute(NhiHousehold(members=[adult(born, head=True)]), FY24, 2024)
    assert (b.care_members == 1) is in_care
    assert (b.parts[2].amount > 0) is in_care


@pytest.mark.parametrize(("born", "preschool"), [
    (date(2018, 4, 1), False),   # enters school in April 2024
    (date(2018, 4, 2), True),    # enters school in April 2025
    (date(2024, 3, 1), True),
])
def test_preschool(born: date, preschool: bool) -> None:
    assert is_preschool(born, 2024) is preschool
    params = FY24.model_copy(update={"preschool_half": False})
    household = NhiHousehold(members=[adult(head=True), adult(born)])
    halved = compute(household, FY24, 2024).parts[0].preschool_reduction
    assert (halved > 0) is preschool
    assert compute(household, params, 2024).parts[0].preschool_reduction == 0


def test_legal_age() -> None:
    assert legal_age(date(2000, 4, 2), date(2020, 4, 1)) == 20
    assert legal_age(date(2000, 4, 3), date(2020, 4, 1)) == 19


def test_members_aged_75_are_rejected() -> None:
    with pytest.raises(UnsupportedInput) as info:
        compute(NhiHousehold(members=[adult(head=True), adult(date(1949, 4, 1))]), FY24, 2024)
    assert info.value.field == "members[1].insured"
    # one day younger: still 74 on 2024-04-01, allowed
    compute(NhiHousehold(members=[adult(head=True), adult(date(1949, 4, 2))]), FY24, 2024)


def test_fiscal_year_must_match_params() -> None:
    with pytest.raises(UnsupportedInput) as info:
        compute(NhiHousehold(members=[adult(head=True)]), FY24, 2025)
    assert info.value.field == "fiscal_year"


@pytest.mark.parametrize("members", [
    [{"birth_date": "1990-01-01"}],                                        # no head
    [{"birth_date": "1990-01-01", "is_head": True},
     {"birth_date": "1991-01-01", "is_head": True}],                       # two heads
    [{"birth_date": "1990-01-01", "is_head": True, "insured": False}],     # nobody insured
    [{"birth_date": "1990-01-01", "is_head": True, "total_income": -5}],
    [{"birth_date": "1990-13-01", "is_head": True}],
    [],
])
def test_bad_households_rejected(members: list[dict[str, object]]) -> None:
    with pytest.raises(ValidationError):
        NhiHousehold.model_validate({"members": members})


# --- 15万 pensioner deduction in the 軽減 judgement -------------------------------------------

@pytest.mark.parametrize(("born", "judgement", "tenths"), [
    (date(1959, 1, 1), 430_000, 7),   # legal age 65 on 2023-12-31: 580,000 - 150,000
    (date(1959, 1, 2), 580_000, 5),   # still 64: no deduction
])
def test_pensioner_deduction_in_judgement(born: date, judgement: int, tenths: int) -> None:
    member = HouseholdMember(birth_date=born, is_head=True, total_income=580_000,
                             pension_income_amount=580_000, salary_or_pension_earner=True)
    b = compute(NhiHousehold(members=[member]), FY24, 2024)
    assert (b.judgement_income, b.reduction_tenths) == (judgement, tenths)
    # the 所得割 still uses the full income
    assert b.parts[0].income_levy_base == 150_000


def test_pensioner_deduction_is_capped_at_150k_and_needs_pension() -> None:
    small = HouseholdMember(birth_date=date(1950, 6, 1), is_head=True, total_income=500_000,
                            pension_income_amount=100_000)
    no_pension = HouseholdMember(birth_date=date(1950, 6, 1), is_head=True,
                                 total_income=500_000)
    assert compute(NhiHousehold(members=[small]), FY24, 2024).judgement_income == 400_000
    assert compute(NhiHousehold(members=[no_pension]), FY24, 2024).judgement_income == 500_000


def test_pension_part_cannot_exceed_total_income() -> None:
    with pytest.raises(ValidationError, match="pension_income_amount"):
        HouseholdMember(birth_date=date(1950, 6, 1), total_income=100,
                        pension_income_amount=101)
