"""税額控除: 配当控除, 住宅借入金等特別税額控除, 寄附金税額控除 (ふるさと納税, 特例控除 cap, ワンストップ
特例) — published worked examples and every cap / band edge ±1 yen."""

from __future__ import annotations

import pytest

from municloud.calc.credits import (
    PartSplit,
    dividend_credit,
    donation_credit,
    housing_loan_credit,
    special_credit_rate,
)
from municloud.calc.resident_tax import HousingLoan, ResidentTaxDeclaration, compute
from municloud.params import ResidentTaxParams

pytestmark = pytest.mark.unit

STANDARD = ResidentTaxParams.standard()
DESIGNATED = ResidentTaxParams.standard(designated_city=True)


# --- 配当控除 ---------------------------------------------------------------------------------------

# 新潟市 (政令指定都市) FAQ "市・県民税の配当控除の計算方法":
# https://www.4894.call.city.niigata.jp/faq.asp?faqno=A0269706 — 雑所得 6,000,000 + 配当所得
# 6,000,000, 社会保険料 50,000: 課税総所得金額等 11,520,000; above 1,000万 1,520,000 x 1.12 % = 17,024
# and x 0.28 % = 4,256; within 4,480,000 x 2.24 % = 100,352 and x 0.56 % = 25,088.
def test_niigata_city_dividend_credit_example() -> None:
    assert dividend_credit(6_000_000, 11_520_000, True) == PartSplit(17_024 + 100_352,
                                                                      4_256 + 25_088)
    b = compute(ResidentTaxDeclaration(age=50, other_income=6_000_000, dividend_income=6_000_000,
                                       social_insurance_paid=50_000), DESIGNATED, 2025)
    assert b.total_income == 12_000_000 and b.taxable_income == 11_520_000
    assert (b.municipal_dividend_credit, b.prefectural_dividend_credit) == (117_376, 29_344)


# 滑川町 (https://www.town.namegawa.saitama.jp/townsman/zeikin/01/01_12.htm): 1.6 % / 1.2 % within
# 1,000万, 0.8 % / 0.6 % above; its example "課税総所得金額 1,200万, 配当所得 300万 → B = 200万, A = 100万".
def test_namegawa_town_band_split() -> None:
    assert dividend_credit(3_000_000, 12_000_000, False) == PartSplit(
        1_000_000 * 16 // 1000 + 2_000_000 * 8 // 1000,
        1_000_000 * 12 // 1000 + 2_000_000 * 6 // 1000)


@pytest.mark.parametrize(("taxable", "municipal"), [
    (10_000_000, 16_000),   # all 1,000,000 within the band: 1.6 %
    (10_001_000, 15_992),   # 1,000 yen above: 999,000 x 1.6 % + 1,000 x 0.8 %
    (9_999_000, 16_000)])
def test_dividend_band_edge(taxable: int, municipal: int) -> None:
    assert dividend_credit(1_000_000, taxable, False).municipal == municipal


def test_dividend_credit_rounds_up_per_part() -> None:
    assert dividend_credit(1_001, 2_000_000, False) == PartSplit(17, 13)  # 16.016 / 12.012


# --- 住宅借入金等特別税額控除 ----------------------------------------------------------------------

# Rule: min(所得税で控除しきれなかった額, 課税総所得金額等 x 5 % (最高 97,500) — 7 % (最高 136,500) for
# 特定取得 occupied 2014-04 to 2021-12), 市民税 3/5, 県民税 2/5: 尾道市
# (https://www.city.onomichi.hiroshima.jp/soshiki/4/2252.html), 棚倉町
# (https://www.town.tanagura.fukushima.jp/temporary/page000124.html). Vector on 岐阜市 計算例(6)'s
# 課税総所得金額 2,233,000 (https://www.city.gifu.lg.jp/35186.htm, 特定取得): 7 % = 156,310 → 136,500.
def test_housing_loan_specified_acquisition_cap() -> None:
    assert housing_loan_credit(200_000, 2_233_000, True, False) == PartSplit(81_900, 54_600)


@pytest.mark.parametrize(("unabsorbed", "taxable", "credit"), [
    (136_500, 5_000_000, 136_500),   # 特定取得: the 136,500 cap exactly
    (136_501, 5_000_000, 136_500),   # +1: capped
    (136_499, 5_000_000, 136_499),   # −1
    (200_000, 1_950_000, 136_500),   # 7 % of 課税総所得 = the cap
    (200_000, 1_949_999, 136_499),   # −1 yen: 7 % binds (rounded down)
])
def test_housing_loan_specified_acquisition_caps(unabsorbed: int, taxable: int,
                                                 credit: int) -> None:
    assert housing_loan_credit(unabsorbed, taxable, True, False).total == credit


@pytest.mark.parametrize(("unabsorbed", "taxable", "credit"), [
    (97_500, 5_000_000, 97_500),    # the cap exactly
    (97_501, 5_000_000, 97_500),    # +1: capped
    (97_499, 5_000_000, 97_499),    # −1
    (200_000, 1_950_000, 97_500),   # 5 % of 課税総所得 = the cap
    (200_000, 1_949_000, 97_450),   # 5 % binds
    (200_000, 1_949_999, 97_499),   # −1 yen of 課税総所得: 5 % rounded down
    (50_000, 1_000_000, 50_000),    # the unabsorbed amount binds
    (0, 1_000_000, 0),
])
def test_housing_loan_caps(unabsorbed: int, taxable: int, credit: int) -> None:
    split = housing_loan_credit(unabsorbed, taxable, False, False)
    assert split.total == credit  # parts add up to the statutory credit
    assert split.municipal == -(-credit * 3 // 5)


def test_housing_loan_designated_city_split() -> None:
    assert housing_loan_credit(97_500, 5_000_000, False, True) == PartSplit(78_000, 19_500)


def test_housing_loan_in_the_pipeline_never_exceeds_the_income_levy() -> None:
    b = compute(ResidentTaxDeclaration(age=40, salary_income=2_500_000,
                                       housing_loan=HousingLoan(unabsorbed_credit=200_000)),
                STANDARD, 2025)
    # 給与所得 1,670,000 (A 625,000 x 2.8 − 80,000); 課税 1,240,000; 5 % = 62,000.
    assert b.taxable_income == 1_240_000
    assert (b.municipal_housing_loan_credit, b.prefectural_housing_loan_credit) == (37_200, 24_800)
    assert b.municipal_income_levy == (74_400 - b.municipal_adjustment_deduction - 37_200) // 100 * 100


# --- 寄附金税額控除 (ふるさと納税) -----------------------------------------------------------------

# 岐阜県 "個人住民税の寄附金税額控除について"
# (https://www.pref.gifu.lg.jp/kurashi/zeikin/kenzei/11110/gifuken_kifukoujo.html): 基本控除 (寄附 −
# 2,000) x 4 % (県) / 6 % (市町村), 寄附 ≤ 30 % of 総所得金額等; 特例控除 (寄附 − 2,000) x (90 % −
# 所得税率 x 1.021) x 2/5 (県) and 3/5 (市町村). 岐阜市's example (寄附金額 50,000円, 所得税率 5 %:
# https://gifu.ficsc.info/gifu/search.htm?...平成30年度個人市・県民税の計算方法, key 特例控除): 基本控除
# 48,000 x 6 % = 2,880 / x 4 % = 1,920; 特例控除 48,000 x 84.895 % = 40,749.6 → 24,449.76 / 16,299.84,
# rounded up to the yen.
def gifu_donation(*, levy: int = 500_000, one_stop: bool = False):
    """50,000 yen in the 5 % income-tax band (adjusted 課税所得 1,850,000)."""
    return donation_credit(donations=50_000, total_income=4_000_000, taxable_income=1_900_000,
                           personal_difference=50_000, income_levy=PartSplit(levy, 500_000),
                           designated_city=False, one_stop=one_stop)


def test_gifu_hometown_donation_example() -> None:
    credit = gifu_donation()
    assert credit.basic == PartSplit(2_880, 1_920)
    assert credit.special_rate == 84_895
    assert credit.special == credit.special_uncapped == PartSplit(24_450, 16_300)
    assert credit.one_stop == PartSplit(0, 0)


# 申告特例控除 (ワンストップ): no published worked example with amounts could be found (see
# docs/calc.md, Test vectors); this applies the statutory ratio (限界税率 x 1.021) / (90 % − 限界税率 x
# 1.021) of 地方税法附則 §5の7 to 岐阜市's published 特例控除 above.
def test_one_stop_adds_the_income_tax_share() -> None:
    credit = gifu_donation(one_stop=True)
    # 24,450 x 5.105 / 84.895 = 1,470.25 → 1,471; 16,300 x … = 980.17 → 981
    assert credit.one_stop == PartSplit(1_471, 981)
    # basic + special + 申告特例 ≈ the whole donation less 2,000 (rounding up: +2 yen)
    assert credit.total.municipal + credit.total.prefectural == 48_002


@pytest.mark.parametrize(("levy", "special", "capped"), [
    (122_250, 24_450, False),   # 20 % of 122,250 = 24,450: the cap exactly
    (122_249, 24_449, True),    # −1 yen of 所得割: 24,449.8 → 24,449, capped
    (100_000, 20_000, True),
])
def test_special_credit_cap_is_20_percent_of_income_levy(levy: int, special: int,
                                                         capped: bool) -> None:
    credit = gifu_donation(levy=levy)
    assert credit.special.municipal == special
    assert (credit.special != credit.special_uncapped) is capped


@pytest.mark.parametrize(("donations", "basic_municipal"), [
    (30_000, 1_680),    # 30 % of 総所得 100,000 = 30,000: (30,000 − 2,000) x 6 %
    (30_001, 1_680),    # above 30 %: the base stays 28,000
    (29_999, 1_680),    # 27,999 x 6 % = 1,679.94 → 1,680 (rounded up)
    (2_000, 0),         # nothing above the 2,000 floor
    (1_999, 0),         # below the floor: never negative
    (2_001, 1),         # a 1-yen base: 0.06 yen, rounded up
])
def test_basic_credit_thirty_percent_cap(donations: int, basic_municipal: int) -> None:
    credit = donation_credit(donations=donations, total_income=100_000, taxable_income=0,
                             personal_difference=50_000, income_levy=PartSplit(0, 0),
                             designated_city=False, one_stop=False)
    assert credit.basic.municipal == basic_municipal


# The 特例控除 割合 by band as 錦町 publishes it ("課税総所得金額 − 人的控除の差の合計額": below 0 → 0.9,
# ≤195万 0.84895, ≤330万 0.7979, ≤695万 0.6958, ≤900万 0.66517, ≤1,800万 0.56307, ≤4,000万 0.4916,
# above 0.44055: https://www.town.kumamoto-nishiki.lg.jp/kiji003204/index.html); each band edge ±1.
@pytest.mark.parametrize(("taxable", "difference", "rate", "one_stop"), [
    (2_000_000, 50_000, 84_895, 5_105),       # adjusted 1,950,000: the 5 % band's top
    (2_000_000, 49_999, 79_790, 10_210),      # adjusted 1,950,001: 10 %
    (3_350_000, 50_000, 79_790, 10_210),      # 3,300,000
    (3_350_000, 49_999, 69_580, 20_420),      # 3,300,001: 20 %
    (7_000_000, 50_000, 69_580, 20_420),      # 6,950,000
    (7_000_000, 49_999, 66_517, 23_483),      # 23 %
    (9_050_000, 50_000, 66_517, 23_483),      # 9,000,000: still 23 %
    (9_050_000, 49_999, 56_307, 33_693),      # 9,000,001: 33 %
    (18_050_000, 50_000, 56_307, 33_693),     # 18,000,000
    (18_050_000, 49_999, 49_160, 40_840),     # 18,000,001: 40 %
    (40_050_000, 50_000, 49_160, 40_840),     # 40,000,000
    (40_050_000, 49_999, 44_055, 45_945),     # 40,000,001: 45 %
    (49_999, 50_000, 90_000, 0),              # adjusted −1
    (40_000, 50_000, 90_000, 0),              # adjusted negative: no income tax at the margin
    (0, 50_000, 90_000, 0),
    (50_000, 50_000, 84_895, 5_105),          # adjusted 0: the 5 % band
])
def test_special_credit_rate_bands(taxable: int, difference: int, rate: int,
                                   one_stop: int) -> None:
    assert special_credit_rate(taxable, difference) == (rate, one_stop)


def test_donation_in_the_pipeline() -> None:
    declaration = {"age": 40, "salary_income": 5_000_000, "hometown_donations": 50_000}
    b = compute(ResidentTaxDeclaration.model_validate(declaration), STANDARD, 2025)
    plain = compute(ResidentTaxDeclaration(age=40, salary_income=5_000_000), STANDARD, 2025)
    # 課税 3,130,000, 人的控除差 5万 → adjusted 3,080,000: the 10 % band (79.79 %).
    assert b.donation_special_rate == 79_790
    # 48,000 x 79.79 % = 38,299.2 → 22,979.52 / 15,319.68 → 22,980 / 15,320; basic 2,880 / 1,920.
    assert (b.municipal_donation_basic_credit, b.municipal_donation_special_credit) == (2_880,
                                                                                        22_980)
    assert (b.prefectural_donation_basic_credit, b.prefectural_donation_special_credit) == (
        1_920, 15_320)
    levy_before = (plain.municipal_income_levy_gross - plain.municipal_adjustment_deduction)
    assert b.municipal_income_levy == (levy_before - 2_880 - 22_980) // 100 * 100
    assert b.total < plain.total


def test_one_stop_needs_donations() -> None:
    with pytest.raises(ValueError, match="one_stop_special_case"):
        ResidentTaxDeclaration.model_validate({"age": 40, "one_stop_special_case": True})
    assert ResidentTaxDeclaration.model_validate(
        {"age": 40, "one_stop_special_case": True, "hometown_donations": 10_000})


def test_credits_never_make_the_income_levy_negative() -> None:
    b = compute(ResidentTaxDeclaration(age=40, salary_income=2_000_000,
                                       hometown_donations=5_000_000, one_stop_special_case=True,
                                       housing_loan=HousingLoan(unabsorbed_credit=97_500)),
                STANDARD, 2025)
    assert b.municipal_income_levy == 0 and b.prefectural_income_levy == 0
    assert b.total == b.municipal_per_capita + b.prefectural_per_capita + b.forest_environment_tax
