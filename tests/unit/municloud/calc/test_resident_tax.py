"""個人住民税: published worked example, hand-built vectors, every band edge, 非課税 limits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from municloud.calc import UnsupportedInput
from municloud.calc.resident_tax import (
    Dependant,
    ResidentTaxDeclaration,
    Spouse,
    basic_deduction,
    compute,
    public_pension_income_amount,
    salary_income_amount,
)
from municloud.params import ResidentTaxParams

pytestmark = pytest.mark.unit

STANDARD = ResidentTaxParams.standard()


# --- published worked example ---------------------------------------------------------------

def test_kosai_city_worked_example() -> None:
    """湖西市 《税額計算事例》, http://www.city.kosai.shizuoka.jp/dd.aspx?menuid=3733

    Salary 5,500,000, spouse, one general dependant, 社会保険料 450,000, 保険料控除 35,000:
    課税所得 2,385,000; 所得割 143,100 / 95,400; 調整控除 1,500 / 1,000; 均等割 3,500 / 1,900;
    total 241,400. The page predates the 2020 reform (給与所得控除 -10万, 基礎控除 +10万), which
    leaves 課税所得 unchanged, so the same figures hold under FY2024 rules. Its 均等割 includes
    temporary surcharges (市 3,500; 県 1,500 + 森林づくり県民税 400) and no 森林環境税.
    """
    params = ResidentTaxParams.standard(municipal_per_capita=3_500, prefectural_per_capita=1_500,
                                        prefectural_surcharge=400, forest_environment_tax=0)
    declaration = ResidentTaxDeclaration(
        age=45, salary_income=5_500_000, social_insurance_paid=450_000,
        life_insurance_deduction=35_000, spouse=Spouse(age=43), dependants=[Dependant(age=17)])
    b = compute(declaration, params, 2024)
    assert b.taxable_income == 2_385_000
    assert (b.municipal_income_levy_gross, b.prefectural_income_levy_gross) == (143_100, 95_400)
    assert (b.municipal_adjustment_deduction, b.prefectural_adjustment_deduction) == (1_500, 1_000)
    assert (b.municipal_total, b.prefectural_total) == (145_100, 96_300)
    assert b.total == 241_400


# --- hand-built vectors (arithmetic from the DOMAIN.md rules, shown in each comment) -----------

def test_single_salary_3m_fy2025() -> None:
    # 給与所得: A = 750,000; 750,000 x 2.8 - 80,000 = 2,020,000. Deductions 430,000 + 450,000.
    # 課税所得 1,140,000; 6 % = 68,400, 4 % = 45,600; 調整控除 5 % x min(50,000, 1,140,000)
    # = 1,500 / 1,000; 所得割 66,900 / 44,600; + 3,000 + 1,000 + 森林環境税 1,000 = 116,500.
    b = compute(ResidentTaxDeclaration(age=30, salary_income=3_000_000,
                                       social_insurance_paid=450_000), STANDARD, 2025)
    assert b.salary_income_amount == 2_020_000
    assert b.taxable_income == 1_140_000
    assert (b.municipal_income_levy, b.prefectural_income_levy) == (66_900, 44_600)
    assert b.total == 116_500


def test_adjustment_second_branch_above_minimum() -> None:
    # 給与 6,000,000: A 1,500,000 x 3.2 - 440,000 = 4,360,000. Deductions 430,000 + spouse
    # 330,000 + 2 x 特定 450,000 + social 600,000 = 2,260,000 -> 課税所得 2,100,000.
    # Differences 50,000 + 50,000 + 2 x 180,000 = 460,000; 460,000 - 100,000 = 360,000
    # -> 調整控除 10,800 / 7,200; 所得割 126,000 - 10,800 = 115,200, 84,000 - 7,200 = 76,800.
    b = compute(ResidentTaxDeclaration(
        age=50, salary_income=6_000_000, social_insurance_paid=600_000, spouse=Spouse(age=48),
        dependants=[Dependant(age=19), Dependant(age=21)]), STANDARD, 2025)
    assert b.taxable_income == 2_100_000
    assert b.personal_deduction_difference == 460_000
    assert b.adjustment_base == 360_000
    assert (b.municipal_income_levy, b.prefectural_income_levy) == (115_200, 76_800)
    assert b.total == 197_000


@pytest.mark.parametrize(("social", "taxable", "base"), [
    (700_000, 2_000_000, 460_000),   # first branch: min(460,000, 2,000,000)
    (699_000, 2_001_000, 459_000),   # second branch: 460,000 - 1,000
])
def test_adjustment_branch_edge(social: int, taxable: int, base: int) -> None:
    b = compute(ResidentTaxDeclaration(
        age=50, salary_income=6_000_000, social_insurance_paid=social, spouse=Spouse(age=48),
        dependants=[Dependant(age=19), Dependant(age=21)]), STANDARD, 2025)
    assert (b.taxable_income, b.adjustment_base) == (taxable, base)
    assert b.municipal_adjustment_deduction == base * 3 // 100
    assert b.prefectural_adjustment_deduction == base * 2 // 100


def test_no_adjustment_above_25m_and_no_basic_deduction() -> None:
    b = compute(ResidentTaxDeclaration(age=60, other_income=25_000_001), STANDARD, 2025)
    assert b.basic_deduction == 0 and b.adjustment_base == 0
    assert b.taxable_income == 25_000_000
    assert b.municipal_income_levy == 1_500_000 and b.prefectural_income_levy == 1_000_000


def test_salary_and_pension_with_income_adjustment() -> None:
    # Aged 67, salary 3,200,000 and pension 2,500,000 (the shape of 鈴鹿市's example,
    # http://www.city.suzuka.mie.jp/life/benri/5122_2.html, recomputed under current rules by
    # hand): 給与所得 800,000 x 2.8 - 80,000 = 2,160,000; 年金 2,500,000 - 1,100,000 =
    # 1,400,000; 所得金額調整控除 100,000 + 100,000 - 100,000 = 100,000 -> 給与所得 2,060,000;
    # 合計所得 3,460,000.
    b = compute(ResidentTaxDeclaration(age=67, salary_income=3_200_000,
                                       public_pension_income=2_500_000), STANDARD, 2025)
    assert b.income_adjustment_deduction == 100_000
    assert b.salary_income_amount == 2_060_000
    assert b.public_pension_income_amount == 1_400_000
    assert b.total_income == 3_460_000


# --- 給与所得 band edges ------------------------------------------------------------------------

@pytest.mark.parametrize(("salary", "expected"), [
    (0, 0), (550_999, 0), (551_000, 1_000), (1_000_000, 450_000),
    (1_618_999, 1_068_999),
    (1_619_000, 1_069_000), (1_619_999, 1_069_000),     # 別表第五 rows below 1,628,000
    (1_620_000, 1_070_000), (1_621_999, 1_070_000),
    (1_622_000, 1_072_000), (1_623_999, 1_072_000),
    (1_624_000, 1_074_000), (1_625_000, 1_074_000), (1_627_999, 1_074_000),
    (1_628_000, 1_076_800),                             # A 407,000 x 2.4 + 100,000
    (1_631_999, 1_076_800), (1_632_000, 1_079_200),
    (1_799_999, 1_177_600), (1_800_000, 1_180_000),     # A x 2.8 - 80,000
    (3_599_999, 2_437_200), (3_600_000, 2_440_000),     # A x 3.2 - 440,000
    (6_599_999, 4_836_800), (6_600_000, 4_840_000),     # 90 % - 1,100,000
    (6_600_001, 4_840_000), (8_500_000, 6_550_000),
    (8_500_001, 6_550_001), (10_000_000, 8_050_000),    # - 1,950,000
])
def test_salary_income_fy2024_edges(salary: int, expected: int) -> None:
    assert salary_income_amount(salary, 2024) == expected
    assert salary_income_amount(salary, 2025) == expected


@pytest.mark.parametrize(("salary", "expected"), [
    (650_999, 0), (651_000, 1_000), (1_625_000, 975_000), (1_628_000, 978_000),
    (1_899_999, 1_249_999), (1_900_000, 1_250_000), (1_903_999, 1_250_000),
    (1_904_000, 1_252_800), (3_600_000, 2_440_000),
])
def test_salary_income_fy2026_minimum_650k(salary: int, expected: int) -> None:
    assert salary_income_amount(salary, 2026) == expected


def test_salary_income_is_continuous_at_band_edges() -> None:
    for fy in (2024, 2026):
        previous = salary_income_amount(0, fy)
        for salary in range(0, 9_000_000, 1_000):
            current = salary_income_amount(salary, fy)
            assert 0 <= current - previous <= 4_000, (fy, salary)
            previous = current


# --- 公的年金等 --------------------------------------------------------------------------------

@pytest.mark.parametrize(("pension", "age", "expected"), [
    (600_000, 64, 0), (1_300_000, 64, 700_000), (1_300_001, 64, 700_000),
    (4_100_000, 64, 2_800_000), (4_100_001, 64, 2_800_000), (7_700_000, 64, 5_860_000),
    (10_000_000, 64, 8_045_000), (10_000_001, 64, 8_045_001),
    (1_100_000, 65, 0), (3_300_000, 65, 2_200_000), (3_300_001, 65, 2_200_000),
    (4_100_000, 65, 2_800_000),
])
def test_public_pension_edges(pension: int, age: int, expected: int) -> None:
    assert public_pension_income_amount(pension, age, 0) == expected


def test_public_pension_reduced_deduction_with_high_other_income() -> None:
    assert public_pension_income_amount(2_000_000, 70, 10_000_000) == 900_000
    assert public_pension_income_amount(2_000_000, 70, 10_000_001) == 1_000_000
    assert public_pension_income_amount(2_000_000, 70, 20_000_001) == 1_100_000


# --- 基礎控除 taper -------------------------------------------------------------------------------

@pytest.mark.parametrize(("income", "expected"), [
    (0, 430_000), (24_000_000, 430_000), (24_000_001, 290_000), (24_500_000, 290_000),
    (24_500_001, 150_000), (25_000_000, 150_000), (25_000_001, 0)])
def test_basic_deduction_taper(income: int, expected: int) -> None:
    assert basic_deduction(income) == expected


# --- 非課税 limits ±1 yen ----------------------------------------------------------------------

@pytest.mark.parametrize(("income", "non_taxable", "income_levy_non_taxable"), [
    (450_000, True, True), (450_001, False, False)])
def test_single_non_taxable_limit(income: int, non_taxable: bool,
                                  income_levy_non_taxable: bool) -> None:
    b = compute(ResidentTaxDeclaration(age=40, other_income=income), STANDARD, 2025)
    assert (b.non_taxable, b.income_levy_non_taxable) == (non_taxable, income_levy_non_taxable)
    assert (b.total == 0) is non_taxable
    if not non_taxable:
        assert b.municipal_per_capita == 3_000 and b.forest_environment_tax == 1_000


@pytest.mark.parametrize(("income", "non_taxable", "income_levy_non_taxable"), [
    (1_360_000, True, True),      # 350,000 x 3 + 100,000 + 210,000
    (1_360_001, False, True),
    (1_470_000, False, True),     # 350,000 x 3 + 100,000 + 320,000
    (1_470_001, False, False),
])
def test_non_taxable_limits_with_two_dependants(income: int, non_taxable: bool,
                                                income_levy_non_taxable: bool) -> None:
    b = compute(ResidentTaxDeclaration(age=40, other_income=income, spouse=Spouse(age=40),
                                       dependants=[Dependant(age=10)]), STANDARD, 2025)
    assert b.dependants_for_non_taxable == 2
    assert (b.non_taxable, b.income_levy_non_taxable) == (non_taxable, income_levy_non_taxable)
    assert (b.municipal_per_capita > 0) is not non_taxable
    assert (b.municipal_income_levy > 0) is not income_levy_non_taxable


def test_third_grade_lower_per_capita_limit() -> None:
    third = ResidentTaxParams.standard(grade=3)
    assert compute(ResidentTaxDeclaration(age=40, other_income=380_000), third, 2025).non_taxable
    b = compute(ResidentTaxDeclaration(age=40, other_income=380_001), third, 2025)
    assert not b.non_taxable and b.income_levy_non_taxable  # 所得割 limit is 450,000 everywhere


@pytest.mark.parametrize(("income", "expected"), [(1_350_000, True), (1_350_001, False)])
def test_special_status_non_taxable(income: int, expected: bool) -> None:
    b = compute(ResidentTaxDeclaration(age=40, other_income=income, special_non_taxable=True),
                STANDARD, 2025)
    assert b.non_taxable is expected
    plain = compute(ResidentTaxDeclaration(age=40, other_income=income), STANDARD, 2025)
    assert not plain.non_taxable


# --- deductions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("age", "kind", "deduction", "difference"), [
    (15, "young", 0, 0), (16, "general", 330_000, 50_000), (19, "specified", 450_000, 180_000),
    (22, "specified", 450_000, 180_000), (23, "general", 330_000, 50_000),
    (70, "elderly", 380_000, 100_000)])
def test_dependant_kinds(age: int, kind: str, deduction: int, difference: int) -> None:
    b = compute(ResidentTaxDeclaration(age=50, salary_income=5_000_000,
                                       dependants=[Dependant(age=age)]), STANDARD, 2025)
    (d,) = b.dependant_deductions
    assert (d.kind, d.deduction, d.personal_difference) == (kind, deduction, difference)


def test_cohabiting_parent() -> None:
    b = compute(ResidentTaxDeclaration(age=50, salary_income=5_000_000,
                                       dependants=[Dependant(age=80, cohabiting_parent=True)]),
                STANDARD, 2025)
    assert (b.dependant_deductions[0].deduction,
            b.dependant_deductions[0].personal_difference) == (450_000, 130_000)


@pytest.mark.parametrize(("income", "deduction"), [
    (9_000_000, 330_000), (9_000_001, 220_000), (9_500_001, 110_000), (10_000_001, 0)])
def test_spouse_deduction_taper(income: int, deduction: int) -> None:
    b = compute(ResidentTaxDeclaration(age=50, other_income=income, spouse=Spouse(age=50)),
                STANDARD, 2025)
    assert b.dependant_deductions[0].deduction == deduction


def test_elderly_spouse() -> None:
    b = compute(ResidentTaxDeclaration(age=72, other_income=3_000_000, spouse=Spouse(age=70)),
                STANDARD, 2025)
    assert b.dependant_deductions[0].kind == "spouse-elderly"
    assert b.dependant_deductions[0].deduction == 380_000


@pytest.mark.parametrize(("spouse_income", "taxpayer_income", "kind", "deduction",
                          "difference"), [
    (480_000, 3_000_000, "spouse-general", 330_000, 50_000),
    (480_001, 3_000_000, "spouse-special", 330_000, 50_000),    # below 50万: difference 5万
    (499_999, 3_000_000, "spouse-special", 330_000, 50_000),
    (500_000, 3_000_000, "spouse-special", 330_000, 30_000),    # 50万-55万: 3万
    (549_999, 3_000_000, "spouse-special", 330_000, 30_000),
    (550_000, 3_000_000, "spouse-special", 330_000, 0),
    (1_000_000, 3_000_000, "spouse-special", 330_000, 0),
    (1_000_001, 3_000_000, "spouse-special", 310_000, 0),
    (1_050_000, 3_000_000, "spouse-special", 310_000, 0),
    (1_050_001, 3_000_000, "spouse-special", 260_000, 0),
    (1_100_000, 3_000_000, "spouse-special", 260_000, 0),
    (1_100_001, 3_000_000, "spouse-special", 210_000, 0),
    (1_150_000, 3_000_000, "spouse-special", 210_000, 0),
    (1_150_001, 3_000_000, "spouse-special", 160_000, 0),
    (1_200_000, 3_000_000, "spouse-special", 160_000, 0),
    (1_200_001, 3_000_000, "spouse-special", 110_000, 0),
    (1_250_000, 3_000_000, "spouse-special", 110_000, 0),
    (1_250_001, 3_000_000, "spouse-special", 60_000, 0),
    (1_300_000, 3_000_000, "spouse-special", 60_000, 0),
    (1_300_001, 3_000_000, "spouse-special", 30_000, 0),
    (1_330_000, 3_000_000, "spouse-special", 30_000, 0),
    (1_330_001, 3_000_000, "excluded", 0, 0),
    (490_000, 9_000_000, "spouse-special", 330_000, 50_000),    # taxpayer 900万: first column
    (490_000, 9_000_001, "spouse-special", 220_000, 40_000),
    (520_000, 9_500_000, "spouse-special", 220_000, 20_000),    # taxpayer 950万: second column
    (520_000, 9_500_001, "spouse-special", 110_000, 10_000),
    (1_320_000, 9_500_001, "spouse-special", 10_000, 0),
    (1_320_000, 10_000_000, "spouse-special", 10_000, 0),       # taxpayer 1,000万: still allowed
    (700_000, 10_000_001, "spouse-special", 0, 0),
])
def test_spouse_special_deduction_fy2025(spouse_income: int, taxpayer_income: int, kind: str,
                                         deduction: int, difference: int) -> None:
    b = compute(ResidentTaxDeclaration(age=40, other_income=taxpayer_income,
                                       spouse=Spouse(age=40, total_income=spouse_income)),
                STANDARD, 2025)
    (d,) = b.dependant_deductions
    assert (d.kind, d.deduction, d.personal_difference) == (kind, deduction, difference)
    assert d.counts_for_non_taxable is (kind == "spouse-general")


# FY2026 (令和7年度税制改正): the 配偶者特別控除 starts above the new 58万 dependant limit, amounts
# unchanged — published by 牧之原市 "令和8年度 市民税・県民税に関する税制改正" (配偶者特別控除の対象となる
# 配偶者の合計所得金額 48万円超 133万円以下 → 58万円超 133万円以下,
# https://www.city.makinohara.shizuoka.jp/soshiki/11/59973.html); band edges ±1 yen (taxpayer
# 合計所得 300万, so the ≤ 900万 column).
@pytest.mark.parametrize(("spouse_income", "kind", "deduction"), [
    (580_000, "spouse-general", 330_000),
    (580_001, "spouse-special", 330_000),
    (1_000_000, "spouse-special", 330_000),
    (1_000_001, "spouse-special", 310_000),
    (1_330_000, "spouse-special", 30_000),
    (1_330_001, "excluded", 0),
])
def test_spouse_special_deduction_fy2026(spouse_income: int, kind: str, deduction: int) -> None:
    b = compute(ResidentTaxDeclaration(age=40, other_income=3_000_000,
                                       spouse=Spouse(age=40, total_income=spouse_income)),
                STANDARD, 2026)
    (d,) = b.dependant_deductions
    assert (d.kind, d.deduction) == (kind, deduction)
    # the statutory 人的控除額の差 rows (spouse income < 50万 / < 55万) no longer apply
    assert d.personal_difference == (50_000 if kind == "spouse-general" else 0)


def test_dependant_income_limit_rises_in_fy2026() -> None:
    declaration = ResidentTaxDeclaration(age=50, other_income=4_000_000,
                                         dependants=[Dependant(age=30, total_income=580_000)])
    assert compute(declaration, STANDARD, 2025).dependant_deductions[0].kind == "excluded"
    assert compute(declaration, STANDARD, 2026).dependant_deductions[0].kind == "general"


# 特定親族特別控除 (FY2026): a relative aged 19-22 with 合計所得 58万超 123万以下. The resident-tax
# table as 品川区 publishes it (58万超95万以下 45万, 100万 41万, 105万 31万, 110万 21万, 115万 11万,
# 120万 6万, 123万 3万: https://www.city.shinagawa.tokyo.jp/PC/procedure/procedure-zeikin/
# procedure-zeikin-oshirase/procedure-zeikin-oshirase-kaiseigaiyou/zeiseikaisei/20250805095836.html;
# the same in 町田市's https://www.city.machida.tokyo.jp/kurashi/tax/shimin/kaiseiten/R8Kaisei/
# tokuteishinzoku.html); every band edge ±1 yen.
@pytest.mark.parametrize(("income", "kind", "deduction"), [
    (580_000, "specified", 450_000),            # still a 特定扶養親族
    (580_001, "specified-relative-special", 450_000),
    (950_000, "specified-relative-special", 450_000),
    (950_001, "specified-relative-special", 410_000),
    (1_000_000, "specified-relative-special", 410_000),
    (1_000_001, "specified-relative-special", 310_000),
    (1_050_000, "specified-relative-special", 310_000),
    (1_050_001, "specified-relative-special", 210_000),
    (1_100_000, "specified-relative-special", 210_000),
    (1_100_001, "specified-relative-special", 110_000),
    (1_150_000, "specified-relative-special", 110_000),
    (1_150_001, "specified-relative-special", 60_000),
    (1_200_000, "specified-relative-special", 60_000),
    (1_200_001, "specified-relative-special", 30_000),
    (1_230_000, "specified-relative-special", 30_000),
    (1_230_001, "excluded", 0),
])
def test_specified_relative_special_deduction_fy2026(income: int, kind: str,
                                                     deduction: int) -> None:
    b = compute(ResidentTaxDeclaration(age=50, other_income=4_000_000,
                                       dependants=[Dependant(age=20, total_income=income)]),
                STANDARD, 2026)
    (d,) = b.dependant_deductions
    assert (d.kind, d.deduction) == (kind, deduction)
    assert d.counts_for_non_taxable is (kind == "specified")  # not a 扶養親族 for 非課税


@pytest.mark.parametrize(("age", "kind"), [(18, "excluded"), (19, "specified-relative-special"),
                                           (22, "specified-relative-special"), (23, "excluded")])
def test_specified_relative_special_age_window(age: int, kind: str) -> None:
    b = compute(ResidentTaxDeclaration(age=50, other_income=4_000_000,
                                       dependants=[Dependant(age=age, total_income=700_000)]),
                STANDARD, 2026)
    assert b.dependant_deductions[0].kind == kind
    earlier = compute(ResidentTaxDeclaration(age=50, other_income=4_000_000,
                                             dependants=[Dependant(age=age, total_income=700_000)]),
                      STANDARD, 2025)
    assert earlier.dependant_deductions[0].kind == "excluded"  # no such deduction before FY2026


# --- invariants and input errors ---------------------------------------------------------------

@pytest.mark.parametrize("fy", [2024, 2025, 2026])
def test_invariants_over_a_salary_grid(fy: int) -> None:
    for salary in range(0, 12_000_001, 137_000):
        b = compute(ResidentTaxDeclaration(age=40, salary_income=salary,
                                           social_insurance_paid=salary * 15 // 100),
                    STANDARD, fy)
        assert b.taxable_income % 1_000 == 0
        assert b.municipal_income_levy % 100 == 0 and b.prefectural_income_levy % 100 == 0
        assert b.total == (b.municipal_income_levy + b.prefectural_income_levy
                           + b.municipal_per_capita + b.prefectural_per_capita
                           + b.forest_environment_tax)
        assert b.municipal_adjustment_deduction <= b.municipal_income_levy_gross


def test_designated_city_rates() -> None:
    b = compute(ResidentTaxDeclaration(age=30, salary_income=3_000_000,
                                       social_insurance_paid=450_000),
                ResidentTaxParams.standard(designated_city=True), 2025)
    # 1,140,000 x 8 % = 91,200 - 調整控除 4 % of 50,000 (2,000) = 89,200;
    # 1,140,000 x 2 % = 22,800 - 1 % of 50,000 (500) = 22,300.
    assert (b.municipal_income_levy, b.prefectural_income_levy) == (89_200, 22_300)


def test_unsupported_fiscal_year() -> None:
    with pytest.raises(UnsupportedInput) as info:
        compute(ResidentTaxDeclaration(age=40), STANDARD, 2023)
    assert info.value.field == "fiscal_year"


@pytest.mark.parametrize(("data", "field"), [
    ({"age": 40, "capital_gains_income": 10}, "capital_gains_income"),
    ({"age": 40, "salary_income": -1}, "salary_income"),
    ({"age": 131}, "age"),
    ({"age": 40, "life_insurance_deduction": 70_001}, "life_insurance_deduction"),
    ({"salary_income": 1}, "age"),
])
def test_bad_declarations_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        ResidentTaxDeclaration.model_validate(data)
    assert field in {str(err["loc"][0]) for err in info.value.errors()}


def test_income_amounts_is_the_single_income_step() -> None:
    from municloud.calc.resident_tax import income_amounts
    amounts = income_amounts(salary_income=3_200_000, public_pension_income=2_500_000,
                             other_income=50_000, age=67, fiscal_year=2025)
    assert amounts == (2_060_000, 1_400_000, 100_000, 3_510_000)
    only_salary = income_amounts(salary_income=3_200_000, public_pension_income=0,
                                 other_income=0, age=67, fiscal_year=2025)
    assert only_salary.adjustment == 0 and only_salary.salary == 2_160_000


# --- the taxpayer's own status and relatives' 障害者控除 ---------------------------------------

def test_single_mother_by_hand() -> None:
    # 給与 3,000,000 -> 2,020,000; deductions 基礎 430,000 + social 450,000 + ひとり親 300,000
    # -> 課税所得 840,000; 50,400 / 33,600; differences 基礎 50,000 + ひとり親(母) 50,000 =
    # 100,000 -> 調整控除 3,000 / 2,000; 所得割 47,400 / 31,600; + 5,000 均等割等 = 84,000.
    b = compute(ResidentTaxDeclaration(age=35, salary_income=3_000_000,
                                       social_insurance_paid=450_000, single_parent="mother",
                                       dependants=[Dependant(age=10)]), STANDARD, 2025)
    assert b.taxable_income == 840_000
    assert b.personal_deduction_difference == 100_000
    assert (b.municipal_income_levy, b.prefectural_income_levy) == (47_400, 31_600)
    assert b.total == 84_000
    assert b.dependants_for_non_taxable == 1  # the child; own status is not a dependant


@pytest.mark.parametrize(("fields", "kind", "deduction", "difference"), [
    ({"disability": "disabled"}, "disabled", 260_000, 10_000),
    ({"disability": "special"}, "special-disabled", 300_000, 100_000),
    ({"widow": True}, "widow", 260_000, 10_000),
    ({"single_parent": "mother"}, "single-parent", 300_000, 50_000),
    ({"single_parent": "father"}, "single-parent", 300_000, 10_000),
])
def test_own_status_deductions(fields: dict[str, object], kind: str, deduction: int,
                               difference: int) -> None:
    b = compute(ResidentTaxDeclaration(age=50, other_income=3_000_000, **fields), STANDARD, 2025)
    (d,) = b.dependant_deductions
    assert (d.kind, d.deduction, d.personal_difference) == (kind, deduction, difference)
    assert b.personal_deduction_difference == 50_000 + difference


@pytest.mark.parametrize("fields", [{"widow": True}, {"single_parent": "mother"}])
def test_widow_and_single_parent_income_limit(fields: dict[str, object]) -> None:
    at = compute(ResidentTaxDeclaration(age=50, other_income=5_000_000, **fields), STANDARD, 2025)
    above = compute(ResidentTaxDeclaration(age=50, other_income=5_000_001, **fields),
                    STANDARD, 2025)
    assert len(at.dependant_deductions) == 1 and above.dependant_deductions == []


def test_widow_and_single_parent_exclude_each_other() -> None:
    """Refused with the declaration (rule widow-or-single-parent), not later by the computation:
    a stored declaration is one the assessment can compute."""
    with pytest.raises(ValueError, match=r"widow: 寡婦 and ひとり親 exclude each other \(rule widow-or-single-parent\)"):
        ResidentTaxDeclaration(age=50, widow=True, single_parent="mother")
    assert compute(ResidentTaxDeclaration(age=50, widow=True), STANDARD, 2025).total >= 0


@pytest.mark.parametrize(("fy", "income", "claimed"), [
    (2025, 750_000, True), (2025, 750_001, False), (2026, 850_000, True), (2026, 850_001, False)])
def test_working_student_limit(fy: int, income: int, claimed: bool) -> None:
    b = compute(ResidentTaxDeclaration(age=20, other_income=income, working_student=True),
                STANDARD, fy)
    assert any(d.kind == "working-student" for d in b.dependant_deductions) is claimed


def test_relatives_disability_only_for_counted_relatives() -> None:
    b = compute(ResidentTaxDeclaration(
        age=50, other_income=4_000_000,
        spouse=Spouse(age=50, disability="disabled"),
        dependants=[Dependant(age=80, disability="special_cohabiting"),
                    Dependant(age=30, total_income=2_000_000, disability="special")]),
        STANDARD, 2025)
    kinds = [(d.kind, d.deduction, d.personal_difference) for d in b.dependant_deductions]
    assert kinds == [
        ("spouse-general", 330_000, 50_000), ("dependant-disabled", 260_000, 10_000),
        ("elderly", 380_000, 100_000), ("dependant-special-cohabiting", 530_000, 220_000),
        ("excluded", 0, 0)]
    assert b.dependants_for_non_taxable == 2


@pytest.mark.parametrize(("fields", "income", "non_taxable"), [
    ({"widow": True}, 1_350_000, True), ({"widow": True}, 1_350_001, False),
    ({"disability": "disabled"}, 1_350_000, True),
    ({"single_parent": "father"}, 1_350_000, True),
    ({"age": 17}, 1_000_000, True), ({"age": 18}, 1_000_000, False),
])
def test_135_rule_derived_from_status(fields: dict[str, object], income: int,
                                      non_taxable: bool) -> None:
    data = {"age": 40, "other_income": income} | fields
    b = compute(ResidentTaxDeclaration.model_validate(data), STANDARD, 2025)
    assert b.non_taxable is non_taxable
