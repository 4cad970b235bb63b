"""個人住民税 (individual resident tax), fiscal years 2024-2026, from a declaration.

Pipeline (DOMAIN.md): income -> 所得 -> 合計所得 -> minus 所得控除 -> 課税所得 (down to 1,000)
-> x rate -> minus 調整控除 -> 所得割 (down to 100, per municipal / prefectural part) + 均等割;
非課税 limits decide whether 均等割 and 所得割 apply at all.

Supported: 給与 (salary, incl. 所得税法別表第五 steps below 6.6M and the FY2026 65万 minimum),
公的年金等 (public pensions, under / over 65, incl. the reduction when other income exceeds
1,000万 / 2,000万 and the 所得金額調整控除 when both salary and pension exist), other income given
as a net 所得 amount, 基礎控除 (taper), 社会保険料控除, 生命保険料控除 (as a computed amount),
配偶者控除 (general / 老人), 扶養控除 (一般 / 特定 / 老人 / 同居老親; 年少 counted for 非課税 only),
障害者控除 (taxpayer, spouse, dependants; 特別 / 同居特別), 寡婦控除, ひとり親控除, 勤労学生控除,
the statutory 非課税 for 障害者・未成年者 (under 18)・寡婦・ひとり親 (合計所得 <= 135万),
配偶者特別控除 (FY2026 with the 58万 lower bound), 特定親族特別控除 (FY2026), 医療費控除 or its
セルフメディケーション特例, 地震保険料控除, 小規模企業共済等掛金控除 (municloud.calc.deductions), 配当所得
(総合課税) with 配当控除, 住宅借入金等特別税額控除 and 寄附金税額控除 for ふるさと納税 incl. the
申告特例控除 (municloud.calc.credits).
Not modelled: 所得金額調整控除 for 子育て / 介護, 寄附金 to bodies designated by ordinance, the
所得割 非課税 boundary adjustment (地方税法附則 §3-3 ④), 分離課税 incomes.
Every year's figures come from `municloud.params.FISCAL_YEARS`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from municloud.calc import credits, deductions
from municloud.calc.errors import UnsupportedInput
from municloud.calc.rounding import apply_rate, floor_to, percent_of
from municloud.params import (
    FISCAL_YEARS,
    FiscalYearRules,
    ResidentTaxParams,
    StrictModel,
    check_fiscal_year,
)
from municloud.rules import Rule, state_rules

__all__ = [
    "Dependant",
    "DependantDeduction",
    "EarthquakeInsurance",
    "HousingLoan",
    "MedicalExpenses",
    "IncomeAmounts",
    "ResidentTaxBreakdown",
    "ResidentTaxDeclaration",
    "Spouse",
    "basic_deduction",
    "compute",
    "income_amounts",
    "public_pension_income_amount",
    "salary_income_amount",
]

Yen = Annotated[int, Field(ge=0, le=10**11)]
Age = Annotated[int, Field(ge=0, le=130)]


_Input = StrictModel


Disability = Literal["none", "disabled", "special", "special_cohabiting"]
"""障害者 / 特別障害者 / 同居特別障害者 (the last only for spouse and dependants)."""


class Spouse(_Input):
    """同一生計配偶者 candidate."""

    age: Age
    """Age on 31 December of the income year."""
    total_income: Yen = 0
    """合計所得金額 of the spouse."""
    disability: Disability = "none"


class Dependant(_Input):
    """扶養親族 candidate (other than the spouse)."""

    age: Age
    """Age on 31 December of the income year."""
    total_income: Yen = 0
    """合計所得金額 of the dependant."""
    cohabiting_parent: bool = False
    """同居老親等: a lineal ascendant of the taxpayer or spouse living with them (70+)."""
    disability: Disability = "none"


class MedicalExpenses(_Input):
    """Expenses paid in the income year and what insurance reimburses (保険金等で補填)."""

    paid: Yen
    reimbursed: Yen = 0


class EarthquakeInsurance(_Input):
    earthquake_premiums: Yen = 0
    """地震保険料 paid."""
    long_term_damage_premiums: Yen = 0
    """旧長期損害保険料 (long-term contracts made before 2007)."""


class HousingLoan(_Input):
    """住宅借入金等特別税額控除: what income tax could not absorb of the 住宅ローン控除."""

    unabsorbed_credit: Yen
    """住宅借入金等特別控除可能額 − the income tax it was credited against (所得税で控除しきれ
    なかった額), from the 源泉徴収票 / 確定申告."""
    specified_acquisition: bool = False
    """特定取得 / 特別特定取得 (consumption tax 8 % / 10 %) occupied 2014-2021: 7 %, 136,500."""


#: セルフメディケーション特例 is claimed instead of 医療費控除, never beside it
ONE_MEDICAL_DEDUCTION = Rule(
    "one-medical-deduction", "self_medication",
    "セルフメディケーション特例 and 医療費控除 exclude each other; claim one",
    schema={"not": {"required": ["medical_expenses", "self_medication"],
                    "properties": {"medical_expenses": {"type": "object"},
                                   "self_medication": {"type": "object"}}}})
#: ワンストップ特例 is about ふるさと納税: without donations there is nothing to apply it to
ONE_STOP_NEEDS_DONATIONS = Rule(
    "one-stop-needs-donations", "one_stop_special_case", "ワンストップ特例 needs hometown_donations",
    schema={"if": {"required": ["one_stop_special_case"], "properties": {"one_stop_special_case": {"const": True}}},
            "then": {"required": ["hometown_donations"], "properties": {"hometown_donations": {"minimum": 1}}}})

#: 寡婦 and ひとり親 are exclusive statuses (地方税法 §292 ①十一, 十二): a declaration claims one
WIDOW_OR_SINGLE_PARENT = Rule(
    "widow-or-single-parent", "widow", "寡婦 and ひとり親 exclude each other",
    schema={"not": {"required": ["widow", "single_parent"],
                    "properties": {"widow": {"const": True}, "single_parent": {"enum": ["mother", "father"]}}}})


class ResidentTaxDeclaration(_Input):
    """Income of the previous calendar year and the facts the deductions need (申告)."""

    model_config = ConfigDict(json_schema_extra=state_rules)
    rules: ClassVar[tuple[Rule, ...]] = (ONE_MEDICAL_DEDUCTION, ONE_STOP_NEEDS_DONATIONS, WIDOW_OR_SINGLE_PARENT)
    age: Age
    """Taxpayer's age on 31 December of the income year."""
    salary_income: Yen = 0
    """給与収入 (gross salary)."""
    public_pension_income: Yen = 0
    """公的年金等の収入金額."""
    other_income: Yen = 0
    """Net 所得 of other kinds (事業, 不動産, 雑 other than pensions), already computed."""
    dividend_income: Yen = 0
    """配当所得 taxed with the other income (総合課税): part of 合計所得, earns 配当控除."""
    social_insurance_paid: Yen = 0
    """社会保険料 paid (deducted in full)."""
    small_business_mutual_aid_paid: Yen = 0
    """小規模企業共済等掛金 (incl. iDeCo) paid (deducted in full)."""
    medical_expenses: MedicalExpenses | None = None
    """医療費控除."""
    self_medication: MedicalExpenses | None = None
    """セルフメディケーション特例 (instead of medical_expenses)."""
    earthquake_insurance: EarthquakeInsurance | None = None
    """地震保険料控除."""
    hometown_donations: Yen = 0
    """寄附金 to prefectures and municipalities (ふるさと納税) in the income year."""
    one_stop_special_case: bool = False
    """ワンストップ特例 (寄附金税額控除に係る申告特例) applies: 申告特例控除 is added."""
    housing_loan: HousingLoan | None = None
    """住宅借入金等特別税額控除."""
    life_insurance_deduction: Annotated[int, Field(ge=0, le=70_000)] = 0
    """生命保険料控除 for resident tax, already computed (max 70,000)."""
    spouse: Spouse | None = None
    dependants: list[Dependant] = Field(default_factory=list, max_length=20)
    disability: Literal["none", "disabled", "special"] = "none"
    """Taxpayer's own 障害者控除 status."""
    widow: bool = False
    """寡婦 (合計所得 <= 500万)."""
    single_parent: Literal["none", "mother", "father"] = "none"
    """ひとり親 (合計所得 <= 500万)."""
    working_student: bool = False
    """勤労学生 (合計所得 <= 75万; 85万 from FY2026)."""
    special_non_taxable: bool = False
    """Force the 135万 rule for a status not modelled here; 障害者, 未成年者 (under 18),
    寡婦 and ひとり親 are derived from the fields above."""

    @model_validator(mode="after")
    def _one_medical_deduction(self) -> ResidentTaxDeclaration:
        if self.medical_expenses is not None and self.self_medication is not None:
            raise ONE_MEDICAL_DEDUCTION.broken()
        if self.one_stop_special_case and self.hometown_donations == 0:
            raise ONE_STOP_NEEDS_DONATIONS.broken()
        if self.widow and self.single_parent != "none":
            raise WIDOW_OR_SINGLE_PARENT.broken()
        return self


class DependantDeduction(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    """spouse-general | spouse-elderly | spouse-special (配偶者特別控除) | general | specified |
    specified-relative-special (特定親族特別控除) | elderly | cohabiting-parent |
    young (under 16: no deduction) | excluded (income above the limit) | for the taxpayer's own
    status: disabled | special-disabled | widow | single-parent | working-student; and
    dependant-disabled | dependant-special-disabled | dependant-special-cohabiting for a
    spouse's or dependant's 障害者控除."""
    deduction: int
    personal_difference: int
    """人的控除額の差 used by 調整控除."""
    counts_for_non_taxable: bool


class ResidentTaxBreakdown(BaseModel):
    """Every intermediate figure (yen)."""

    model_config = ConfigDict(frozen=True)

    fiscal_year: int
    salary_income: int
    salary_income_amount: int
    """給与所得 after the 所得金額調整控除."""
    public_pension_income: int
    public_pension_income_amount: int
    """公的年金等に係る雑所得."""
    income_adjustment_deduction: int
    """所得金額調整控除 (salary + pension)."""
    other_income: int
    dividend_income: int = 0
    total_income: int
    """合計所得金額 (= 総所得金額等 here)."""
    dependants_for_non_taxable: int
    per_capita_non_taxable_limit: int
    income_levy_non_taxable_limit: int
    non_taxable: bool
    """No tax at all (均等割 and 所得割)."""
    income_levy_non_taxable: bool
    basic_deduction: int
    social_insurance_deduction: int
    life_insurance_deduction: int
    small_business_mutual_aid_deduction: int = 0
    medical_expense_deduction: int = 0
    self_medication_deduction: int = 0
    earthquake_insurance_deduction: int = 0
    dependant_deductions: list[DependantDeduction]
    total_deductions: int
    taxable_income: int
    """課税総所得金額, rounded down to 1,000."""
    municipal_income_levy_gross: int
    prefectural_income_levy_gross: int
    personal_deduction_difference: int
    adjustment_base: int
    municipal_adjustment_deduction: int
    prefectural_adjustment_deduction: int
    municipal_dividend_credit: int = 0
    prefectural_dividend_credit: int = 0
    municipal_housing_loan_credit: int = 0
    prefectural_housing_loan_credit: int = 0
    donation_special_rate: int = 0
    """特例控除 rate in 1/100,000 (84_895 = 84.895 %)."""
    municipal_donation_basic_credit: int = 0
    prefectural_donation_basic_credit: int = 0
    municipal_donation_special_credit: int = 0
    """特例控除 after the 20 % cap."""
    prefectural_donation_special_credit: int = 0
    donation_special_credit_capped: bool = False
    municipal_donation_one_stop_credit: int = 0
    """申告特例控除."""
    prefectural_donation_one_stop_credit: int = 0
    municipal_income_levy: int
    """所得割 (municipal), after 調整控除 and 税額控除, rounded down to 100."""
    prefectural_income_levy: int
    municipal_per_capita: int
    prefectural_per_capita: int
    """均等割 (prefectural), including the prefecture's surcharge."""
    forest_environment_tax: int
    municipal_total: int
    prefectural_total: int
    total: int


# --- 所得 -----------------------------------------------------------------------------------------

def salary_income_amount(salary: int, fiscal_year: int) -> int:
    """給与所得 from 給与収入 (income years 2020-2025).

    Below 6,600,000 the law applies 所得税法別表第五 (the "quick table"): from 1,628,000 the
    salary is divided by 4 and rounded down to 1,000 (A), then A x 2.4 + 100,000 /
    A x 2.8 - 80,000 / A x 3.2 - 440,000 by band; just below 1,628,000 the table steps
    (1,619,000 / 2,000-yen steps / 1,624,000 rows) and below 551,000 it is 0. OPEN: those
    sub-1,628,000 rows are taken from the table as we recall it (they follow from rounding the
    salary down to the row start); DOMAIN.md simplifies them to "salary - 550,000" up to
    1,625,000. Verify against 所得税法別表第五 when it can be read.
    FY2026 (2025 income): minimum deduction 650,000 up to 1,900,000, quick table from there.
    """
    if salary < 0:
        raise UnsupportedInput("salary_income", "must not be negative")
    rules = check_fiscal_year(fiscal_year, "resident_tax")
    minimum, table_start = rules.salary_deduction_minimum, rules.salary_quick_table_start
    if salary < table_start:
        if salary < minimum + 1_000:
            return 0
        if table_start == 1_628_000 and salary >= 1_619_000:
            row = 1_619_000 if salary < 1_620_000 else (
                floor_to(salary, 2_000) if salary < 1_624_000 else 1_624_000)
            return row - minimum
        return salary - minimum
    if salary < 6_600_000:
        a = floor_to(salary // 4, 1_000)
        if salary < 1_800_000:
            return a * 24 // 10 + 100_000
        if salary < 3_600_000:
            return a * 28 // 10 - 80_000
        return a * 32 // 10 - 440_000
    if salary <= 8_500_000:
        return percent_of(salary, 90) - 1_100_000
    return salary - 1_950_000


def public_pension_income_amount(pension: int, age: int, other_income_total: int) -> int:
    """公的年金等に係る雑所得 (income years 2020+).

    公的年金等控除: under 65 min 600,000 up to 1,300,000; 65+ min 1,100,000 up to 3,300,000;
    then 25 % + 275,000 (to 4.1M), 15 % + 685,000 (to 7.7M), 5 % + 1,455,000 (to 10M),
    1,955,000 above; reduced by 100,000 / 200,000 when the other 合計所得 exceeds 10M / 20M.
    """
    if pension == 0:
        return 0
    first_band = 3_300_000 if age >= 65 else 1_300_000
    if pension <= first_band:
        amount = pension - (1_100_000 if age >= 65 else 600_000)
    elif pension <= 4_100_000:
        amount = percent_of(pension, 75) - 275_000
    elif pension <= 7_700_000:
        amount = percent_of(pension, 85) - 685_000
    elif pension <= 10_000_000:
        amount = percent_of(pension, 95) - 1_455_000
    else:
        amount = pension - 1_955_000
    if other_income_total > 20_000_000:
        amount += 200_000
    elif other_income_total > 10_000_000:
        amount += 100_000
    return max(0, min(pension, amount))


class IncomeAmounts(NamedTuple):
    salary: int
    """給与所得 after the 所得金額調整控除."""
    pension: int
    """公的年金等に係る雑所得."""
    adjustment: int
    """所得金額調整控除 (salary + pension)."""
    total: int
    """合計所得金額 (= 総所得金額等 here)."""


def income_amounts(*, salary_income: int, public_pension_income: int, other_income: int,
                   age: int, fiscal_year: int, dividend_income: int = 0) -> IncomeAmounts:
    """所得 from incomes: 給与所得, 年金所得, the 所得金額調整控除 when both exist, 合計所得."""
    salary = salary_income_amount(salary_income, fiscal_year)
    pension = public_pension_income_amount(public_pension_income, age,
                                           salary + other_income + dividend_income)
    adjustment = 0
    if salary > 0 and pension > 0:
        adjustment = max(0, min(salary, 100_000) + min(pension, 100_000) - 100_000)
    salary -= adjustment
    return IncomeAmounts(salary, pension, adjustment,
                         salary + pension + other_income + dividend_income)


def basic_deduction(total_income: int) -> int:
    """基礎控除 (resident tax): 43万 / 29万 / 15万 / 0 above 2,400万 / 2,450万 / 2,500万."""
    if total_income <= 24_000_000:
        return 430_000
    if total_income <= 24_500_000:
        return 290_000
    if total_income <= 25_000_000:
        return 150_000
    return 0


# --- 人的控除 --------------------------------------------------------------------------------------

def _dependant_income_limit(fiscal_year: int) -> int:
    # 同一生計配偶者 / 扶養親族 合計所得 limit: 48万, 58万 from FY2026 (2025 reform).
    return FISCAL_YEARS[fiscal_year].dependant_income_limit


def _spouse_deduction(spouse: Spouse, taxpayer_income: int, fiscal_year: int
                      ) -> DependantDeduction:
    limit = _dependant_income_limit(fiscal_year)
    if spouse.total_income > 1_330_000:
        return DependantDeduction(kind="excluded", deduction=0, personal_difference=0,
                                  counts_for_non_taxable=False)
    if spouse.total_income > limit:
        return _spouse_special_deduction(spouse.total_income, taxpayer_income)
    elderly = spouse.age >= 70
    kind = "spouse-elderly" if elderly else "spouse-general"
    # (taxpayer 合計所得 ceiling, general, elderly, general diff, elderly diff)
    for ceiling, general, old, diff_general, diff_old in (
        (9_000_000, 330_000, 380_000, 50_000, 100_000),
        (9_500_000, 220_000, 260_000, 40_000, 60_000),
        (10_000_000, 110_000, 130_000, 20_000, 30_000),
    ):
        if taxpayer_income <= ceiling:
            return DependantDeduction(kind=kind, deduction=old if elderly else general,
                                      personal_difference=diff_old if elderly else diff_general,
                                      counts_for_non_taxable=True)
    # Above 1,000万 no 配偶者控除, but still a 同一生計配偶者 for the 非課税 count.
    return DependantDeduction(kind=kind, deduction=0, personal_difference=0,
                              counts_for_non_taxable=True)


# 配偶者特別控除 (地方税法 §314-2 ① 十の二, ③の二): spouse 合計所得 upper bounds, and the
# deduction for taxpayer 合計所得 <= 900万 / 950万 / 1,000万. The lower bound is the dependant
# limit of the year (48万; 58万 from FY2026, when the first band becomes 58万超 100万以下 — the
# amounts are unchanged by the 令和7年度 reform for resident tax).
_SPECIAL_SPOUSE_BOUNDS = (1_000_000, 1_050_000, 1_100_000, 1_150_000, 1_200_000, 1_250_000,
                          1_300_000, 1_330_000)
_SPECIAL_SPOUSE_AMOUNTS = (
    (9_000_000, (330_000, 310_000, 260_000, 210_000, 160_000, 110_000, 60_000, 30_000)),
    (9_500_000, (220_000, 210_000, 180_000, 140_000, 110_000, 80_000, 40_000, 20_000)),
    (10_000_000, (110_000, 110_000, 90_000, 70_000, 60_000, 40_000, 20_000, 10_000)),
)
# 人的控除額の差 of 配偶者特別控除 (地方税法 §314-6): spouse 合計所得 below 50万 / below 55万, by
# taxpayer band; from FY2026 no spouse qualifies for these rows (their income exceeds 58万).
_SPECIAL_SPOUSE_DIFFERENCES = ((500_000, (50_000, 40_000, 20_000)),
                               (550_000, (30_000, 20_000, 10_000)))


def _spouse_special_deduction(spouse_income: int, taxpayer_income: int) -> DependantDeduction:
    """配偶者特別控除 for a spouse with 合計所得 above the dependant limit and at most 133万."""
    row = next(i for i, bound in enumerate(_SPECIAL_SPOUSE_BOUNDS) if spouse_income <= bound)
    for band, (ceiling, amounts) in enumerate(_SPECIAL_SPOUSE_AMOUNTS):
        if taxpayer_income <= ceiling:
            difference = next((diffs[band] for below, diffs in _SPECIAL_SPOUSE_DIFFERENCES
                               if spouse_income < below), 0)
            return DependantDeduction(kind="spouse-special", deduction=amounts[row],
                                      personal_difference=difference,
                                      counts_for_non_taxable=False)
    return DependantDeduction(kind="spouse-special", deduction=0, personal_difference=0,
                              counts_for_non_taxable=False)


def _dependant_deduction(dep: Dependant, index: int, fiscal_year: int) -> DependantDeduction:
    limit = _dependant_income_limit(fiscal_year)
    if dep.total_income > limit:
        if (FISCAL_YEARS[fiscal_year].specified_relative_special and 19 <= dep.age <= 22
                and dep.total_income <= SPECIFIED_RELATIVE_BANDS[-1][0]):
            return _specified_relative_special_deduction(dep.total_income)
        return DependantDeduction(kind="excluded", deduction=0, personal_difference=0,
                                  counts_for_non_taxable=False)
    if dep.age < 16:
        kind, deduction, diff = "young", 0, 0
    elif 19 <= dep.age <= 22:
        kind, deduction, diff = "specified", 450_000, 180_000
    elif dep.age >= 70 and dep.cohabiting_parent:
        kind, deduction, diff = "cohabiting-parent", 450_000, 130_000
    elif dep.age >= 70:
        kind, deduction, diff = "elderly", 380_000, 100_000
    else:
        kind, deduction, diff = "general", 330_000, 50_000
    return DependantDeduction(kind=kind, deduction=deduction, personal_difference=diff,
                              counts_for_non_taxable=True)


# 特定親族特別控除 (地方税法 §314-2 ① 十一の二, 令和7年改正; from FY2026): a relative aged
# 19-22 (on 31 December) with 合計所得 above 58万 and at most 123万; (upper bound, deduction).
SPECIFIED_RELATIVE_BANDS = ((950_000, 450_000), (1_000_000, 410_000), (1_050_000, 310_000),
                            (1_100_000, 210_000), (1_150_000, 110_000), (1_200_000, 60_000),
                            (1_230_000, 30_000))
# 人的控除額の差 (調整控除) of 特定親族特別控除: OPEN — the amended §314-6 table could not be read
# here; our design takes the 特定扶養 difference (18万) while the deduction is the full 45万 and
# none below (the deduction then falls short of the income-tax one by less). Change here.
SPECIFIED_RELATIVE_DIFFERENCE_FULL = 180_000


def _specified_relative_special_deduction(income: int) -> DependantDeduction:
    deduction = next(amount for bound, amount in SPECIFIED_RELATIVE_BANDS if income <= bound)
    difference = SPECIFIED_RELATIVE_DIFFERENCE_FULL if deduction == 450_000 else 0
    return DependantDeduction(kind="specified-relative-special", deduction=deduction,
                              personal_difference=difference, counts_for_non_taxable=False)


# (deduction, 人的控除額の差) of 障害者控除 by status
_DISABILITY = {
    "disabled": (260_000, 10_000),
    "special": (300_000, 100_000),
    "special_cohabiting": (530_000, 220_000),
}


_RELATIVE_DISABILITY_KIND = {
    "disabled": "dependant-disabled",
    "special": "dependant-special-disabled",
    "special_cohabiting": "dependant-special-cohabiting",
}


def _disability_deduction(status: str, kind: str) -> DependantDeduction | None:
    if status == "none":
        return None
    deduction, difference = _DISABILITY[status]
    return DependantDeduction(kind=kind, deduction=deduction, personal_difference=difference,
                              counts_for_non_taxable=False)


def _own_status_deductions(d: ResidentTaxDeclaration, total_income: int, fiscal_year: int
                           ) -> list[DependantDeduction]:
    """障害者 / 寡婦 / ひとり親 / 勤労学生 of the taxpayer."""
    out: list[DependantDeduction] = []
    own = _disability_deduction(d.disability, "special-disabled" if d.disability == "special"
                                else "disabled")
    if own is not None:
        out.append(own)
    if d.widow and total_income <= 5_000_000:
        out.append(DependantDeduction(kind="widow", deduction=260_000,
                                      personal_difference=10_000,
                                      counts_for_non_taxable=False))
    if d.single_parent != "none" and total_income <= 5_000_000:
        out.append(DependantDeduction(
            kind="single-parent", deduction=300_000,
            personal_difference=50_000 if d.single_parent == "mother" else 10_000,
            counts_for_non_taxable=False))
    student_limit = FISCAL_YEARS[fiscal_year].working_student_limit
    if d.working_student and total_income <= student_limit:
        out.append(DependantDeduction(kind="working-student", deduction=260_000,
                                      personal_difference=10_000,
                                      counts_for_non_taxable=False))
    return out


def _special_non_taxable(d: ResidentTaxDeclaration) -> bool:
    # 地方税法 §295 ①二: 障害者, 未成年者, 寡婦, ひとり親 with 合計所得 <= 135万.
    return (d.special_non_taxable or d.disability != "none" or d.age < 18 or d.widow
            or d.single_parent != "none")


# --- 非課税 -----------------------------------------------------------------------------------------

def _non_taxable_limits(params: ResidentTaxParams, dependants: int) -> tuple[int, int]:
    nt = params.non_taxable
    if dependants == 0:
        return nt.per_capita_single, nt.income_levy_single
    persons = dependants + 1
    return (nt.per_person * persons + nt.per_capita_addon + nt.per_capita_dependant_addon,
            nt.per_person_income_levy * persons + nt.income_levy_addon
            + nt.income_levy_dependant_addon)


# --- 調整控除 -----------------------------------------------------------------------------------------

_BASIC_PERSONAL_DIFFERENCE = 50_000
_ADJUSTMENT_THRESHOLD = 2_000_000
_ADJUSTMENT_MINIMUM_BASE = 50_000


def _adjustment_base(total_income: int, taxable: int, difference: int) -> int:
    if total_income > 25_000_000:
        return 0
    if taxable <= _ADJUSTMENT_THRESHOLD:
        return min(difference, taxable)
    return max(difference - (taxable - _ADJUSTMENT_THRESHOLD), _ADJUSTMENT_MINIMUM_BASE)


# --- the pipeline -----------------------------------------------------------------------------------

def compute(declaration: ResidentTaxDeclaration, params: ResidentTaxParams,
            fiscal_year: int) -> ResidentTaxBreakdown:
    """個人住民税 of `fiscal_year` (income of the previous calendar year)."""
    check_fiscal_year(fiscal_year, "resident_tax")
    d = declaration
    salary_amount, pension_amount, adjustment, total_income = income_amounts(
        salary_income=d.salary_income, public_pension_income=d.public_pension_income,
        other_income=d.other_income, age=d.age, fiscal_year=fiscal_year,
        dividend_income=d.dividend_income)

    personal: list[DependantDeduction] = _own_status_deductions(d, total_income, fiscal_year)
    relatives: list[tuple[Spouse | Dependant, DependantDeduction]] = []
    if d.spouse is not None:
        relatives.append((d.spouse, _spouse_deduction(d.spouse, total_income, fiscal_year)))
    relatives.extend((dep, _dependant_deduction(dep, i, fiscal_year))
                     for i, dep in enumerate(d.dependants))
    for relative, deduction in relatives:
        personal.append(deduction)
        if deduction.counts_for_non_taxable:  # 障害者控除 needs a 同一生計配偶者 / 扶養親族
            extra = _disability_deduction(relative.disability,
                                          _RELATIVE_DISABILITY_KIND.get(relative.disability, ""))
            if extra is not None:
                personal.append(extra)
    dependants = sum(p.counts_for_non_taxable for p in personal)

    per_capita_limit, income_levy_limit = _non_taxable_limits(params, dependants)
    non_taxable = total_income <= per_capita_limit or (
        _special_non_taxable(d) and total_income <= 1_350_000)
    income_levy_non_taxable = non_taxable or total_income <= income_levy_limit

    basic = basic_deduction(total_income)
    small_business = deductions.small_business_mutual_aid_deduction(
        d.small_business_mutual_aid_paid)
    medical = (0 if d.medical_expenses is None else deductions.medical_expense_deduction(
        d.medical_expenses.paid, d.medical_expenses.reimbursed, total_income))
    self_medication = (0 if d.self_medication is None else deductions.self_medication_deduction(
        d.self_medication.paid, d.self_medication.reimbursed))
    earthquake = (0 if d.earthquake_insurance is None
                  else deductions.earthquake_insurance_deduction(
                      d.earthquake_insurance.earthquake_premiums,
                      d.earthquake_insurance.long_term_damage_premiums))
    total_deductions = (basic + d.social_insurance_paid + d.life_insurance_deduction
                        + small_business + medical + self_medication + earthquake
                        + sum(p.deduction for p in personal))
    taxable = floor_to(max(0, total_income - total_deductions), 1_000)

    muni_gross = apply_rate(taxable, params.municipal_rate_bp)
    pref_gross = apply_rate(taxable, params.prefectural_rate_bp)
    difference = _BASIC_PERSONAL_DIFFERENCE + sum(p.personal_difference for p in personal)
    adj_base = _adjustment_base(total_income, taxable, difference)
    muni_adj = min(apply_rate(adj_base, params.adjustment_municipal_bp), muni_gross)
    pref_adj = min(apply_rate(adj_base, params.adjustment_prefectural_bp), pref_gross)

    after_adjustment = credits.PartSplit(muni_gross - muni_adj, pref_gross - pref_adj)
    tax_credits = _tax_credits(d, params, total_income, taxable, difference, after_adjustment)
    if income_levy_non_taxable:
        muni_levy = pref_levy = 0
    else:
        muni_levy = floor_to(tax_credits.remaining.municipal, 100)
        pref_levy = floor_to(tax_credits.remaining.prefectural, 100)
    if non_taxable:
        muni_pc = pref_pc = forest = 0
    else:
        muni_pc = params.municipal_per_capita
        pref_pc = params.prefectural_per_capita + params.prefectural_surcharge
        forest = params.forest_environment_tax

    return ResidentTaxBreakdown(
        fiscal_year=fiscal_year,
        salary_income=d.salary_income,
        salary_income_amount=salary_amount,
        public_pension_income=d.public_pension_income,
        public_pension_income_amount=pension_amount,
        income_adjustment_deduction=adjustment,
        other_income=d.other_income,
        dividend_income=d.dividend_income,
        total_income=total_income,
        dependants_for_non_taxable=dependants,
        per_capita_non_taxable_limit=per_capita_limit,
        income_levy_non_taxable_limit=income_levy_limit,
        non_taxable=non_taxable,
        income_levy_non_taxable=income_levy_non_taxable,
        basic_deduction=basic,
        social_insurance_deduction=d.social_insurance_paid,
        life_insurance_deduction=d.life_insurance_deduction,
        small_business_mutual_aid_deduction=small_business,
        medical_expense_deduction=medical,
        self_medication_deduction=self_medication,
        earthquake_insurance_deduction=earthquake,
        dependant_deductions=personal,
        total_deductions=total_deductions,
        taxable_income=taxable,
        municipal_income_levy_gross=muni_gross,
        prefectural_income_levy_gross=pref_gross,
        personal_deduction_difference=difference,
        adjustment_base=adj_base,
        municipal_adjustment_deduction=muni_adj,
        prefectural_adjustment_deduction=pref_adj,
        municipal_dividend_credit=tax_credits.dividend.municipal,
        prefectural_dividend_credit=tax_credits.dividend.prefectural,
        municipal_housing_loan_credit=tax_credits.housing.municipal,
        prefectural_housing_loan_credit=tax_credits.housing.prefectural,
        donation_special_rate=tax_credits.donation.special_rate,
        municipal_donation_basic_credit=tax_credits.donation_applied.basic.municipal,
        prefectural_donation_basic_credit=tax_credits.donation_applied.basic.prefectural,
        municipal_donation_special_credit=tax_credits.donation_applied.special.municipal,
        prefectural_donation_special_credit=tax_credits.donation_applied.special.prefectural,
        donation_special_credit_capped=(tax_credits.donation.special
                                        != tax_credits.donation.special_uncapped),
        municipal_donation_one_stop_credit=tax_credits.donation_applied.one_stop.municipal,
        prefectural_donation_one_stop_credit=tax_credits.donation_applied.one_stop.prefectural,
        municipal_income_levy=muni_levy,
        prefectural_income_levy=pref_levy,
        municipal_per_capita=muni_pc,
        prefectural_per_capita=pref_pc,
        forest_environment_tax=forest,
        municipal_total=muni_levy + muni_pc,
        prefectural_total=pref_levy + pref_pc,
        total=muni_levy + pref_levy + muni_pc + pref_pc + forest,
    )


# --- 税額控除 -----------------------------------------------------------------------------------------

class _Credits(NamedTuple):
    dividend: credits.PartSplit
    housing: credits.PartSplit
    donation: credits.DonationCredit
    """as computed (before running out of 所得割)."""
    donation_applied: credits.DonationCredit
    """as applied: each component at most what is left of the part's 所得割."""
    remaining: credits.PartSplit
    """所得割 after every credit (before rounding down to 100)."""


def _tax_credits(d: ResidentTaxDeclaration, params: ResidentTaxParams, total_income: int,
                 taxable: int, difference: int, levy: credits.PartSplit) -> _Credits:
    """配当控除, then 住宅借入金等特別税額控除, then 寄附金税額控除, each per part and at most what
    is left of that part's 所得割 (municloud.calc.credits)."""
    left = [levy.municipal, levy.prefectural]

    def take(split: credits.PartSplit) -> credits.PartSplit:
        applied = credits.PartSplit(min(split.municipal, left[0]), min(split.prefectural, left[1]))
        left[0] -= applied.municipal
        left[1] -= applied.prefectural
        return applied

    city = params.designated_city
    dividend = take(credits.dividend_credit(d.dividend_income, taxable, city))
    housing = take(credits.PartSplit(0, 0) if d.housing_loan is None else
                   credits.housing_loan_credit(d.housing_loan.unabsorbed_credit, taxable,
                                               d.housing_loan.specified_acquisition, city))
    donation = credits.donation_credit(
        donations=d.hometown_donations, total_income=total_income, taxable_income=taxable,
        personal_difference=difference, income_levy=levy, designated_city=city,
        one_stop=d.one_stop_special_case)
    applied = credits.DonationCredit(take(donation.basic), donation.special_rate,
                                     donation.special_uncapped, take(donation.special),
                                     take(donation.one_stop))
    return _Credits(dividend, housing, donation, applied, credits.PartSplit(*left))
