"""所得控除 beyond the personal ones: 医療費控除, セルフメディケーション特例, 地震保険料控除,
小規模企業共済等掛金控除 — statutory formulas, caps ±1 yen, and their effect through the pipeline."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from municloud.calc.deductions import (
    earthquake_insurance_deduction,
    medical_expense_deduction,
    self_medication_deduction,
    small_business_mutual_aid_deduction,
)
from municloud.calc.resident_tax import (
    EarthquakeInsurance,
    MedicalExpenses,
    ResidentTaxDeclaration,
    compute,
)
from municloud.params import ResidentTaxParams

pytestmark = pytest.mark.unit

STANDARD = ResidentTaxParams.standard()


# 医療費控除: paid − reimbursed − min(10万, 5 % of 総所得金額等), at most 200万 (地方税法 §314-2 ①二).
# Published vector: 大和郡山市「医療費控除について」計算例 — 総所得金額等 150万円, 医療費 50万円, 保険で
# 補填 20万円 → 30万円 − 7万5千円 = 22万5千円
# (https://www.city.yamatokoriyama.lg.jp/kurashi_tetsuzuki/zeikin/shi_kemminzei/5984.html); the rest
# are hand-built from the statutory formula, each threshold and cap ±1 yen.
@pytest.mark.parametrize(("paid", "reimbursed", "income", "expected"), [
    (500_000, 200_000, 1_500_000, 225_000),  # 大和郡山市 計算例
    (150_000, 0, 2_000_000, 50_000),       # 5 % = 100,000: the threshold is 10万
    (150_000, 0, 1_999_999, 50_001),       # 5 % = 99,999 (rounded down): one yen more
    (150_000, 0, 10_000_000, 50_000),      # 5 % = 500,000 → min(10万, …) = 10万
    (150_000, 60_000, 2_000_000, 0),       # reimbursed: below the threshold
    (150_000, 200_000, 2_000_000, 0),      # never negative
    (2_100_000, 0, 3_000_000, 2_000_000),  # exactly the 200万 cap
    (2_100_001, 0, 3_000_000, 2_000_000),  # +1 yen: still capped
    (2_099_999, 0, 3_000_000, 1_999_999),  # −1 yen: below the cap
    (50_000, 0, 0, 50_000),                # no income: threshold 0
])
def test_medical_expense_deduction(paid: int, reimbursed: int, income: int,
                                   expected: int) -> None:
    assert medical_expense_deduction(paid, reimbursed, income) == expected


# セルフメディケーション特例: paid − reimbursed − 12,000, at most 88,000 (地方税法附則 §4-4); the cap
# as published by 輪島市「医療費控除について」(最高控除額 8万8千円, 計算の方法: 購入費 − 補てん − 1万2千円,
# https://www.city.wajima.ishikawa.jp/docs/2017122100011/); vectors hand-built around it.
@pytest.mark.parametrize(("paid", "reimbursed", "expected"), [
    (12_000, 0, 0), (12_001, 0, 1), (99_999, 0, 87_999), (100_000, 0, 88_000),
    (100_001, 0, 88_000), (30_000, 20_000, 0), (30_000, 5_000, 13_000)])
def test_self_medication_deduction(paid: int, reimbursed: int, expected: int) -> None:
    assert self_medication_deduction(paid, reimbursed) == expected


# 地震保険料控除 (resident tax): half, at most 25,000. Published vector: 岐阜市 計算例(6), 支払地震保険料
# 50,000円 → 地震保険料控除 25,000円 (https://www.city.gifu.lg.jp/35186.htm).
@pytest.mark.parametrize(("earthquake", "long_term", "expected"), [
    (50_000, 0, 25_000),        # 岐阜市 計算例(6)
    (50_001, 0, 25_000),
    (49_999, 0, 24_999),        # half rounded down
    (49_998, 0, 24_999),
    (0, 5_000, 5_000),          # 旧長期: all up to 5,000
    (0, 5_001, 5_000),          # half + 2,500
    (0, 15_000, 10_000),
    (0, 15_001, 10_000),        # 10,000 above 15,000
    (30_000, 15_001, 25_000),   # 15,000 + 10,000 = the 25,000 total cap exactly
    (30_002, 15_001, 25_000),   # total capped
    (29_998, 15_001, 24_999),
])
def test_earthquake_insurance_deduction(earthquake: int, long_term: int, expected: int) -> None:
    assert earthquake_insurance_deduction(earthquake, long_term) == expected


def test_small_business_mutual_aid_is_deducted_in_full() -> None:
    assert small_business_mutual_aid_deduction(276_000) == 276_000


def _taxable(**fields: object) -> int:
    base = {"age": 40, "salary_income": 5_000_000}
    return compute(ResidentTaxDeclaration.model_validate(base | fields), STANDARD, 2025
                   ).taxable_income


def test_deductions_lower_the_taxable_income_by_their_amount() -> None:
    # 給与 5,000,000 → 給与所得 3,560,000 (A = 1,250,000 x 3.2 − 440,000); 基礎 430,000.
    plain = _taxable()
    assert plain == 3_130_000
    assert plain - _taxable(medical_expenses={"paid": 300_000}) == 200_000
    assert plain - _taxable(self_medication={"paid": 30_000}) == 18_000
    assert plain - _taxable(earthquake_insurance={"earthquake_premiums": 50_000}) == 25_000
    assert plain - _taxable(small_business_mutual_aid_paid=240_000) == 240_000


def test_breakdown_shows_each_deduction() -> None:
    b = compute(ResidentTaxDeclaration(
        age=40, salary_income=5_000_000,
        medical_expenses=MedicalExpenses(paid=300_000, reimbursed=50_000),
        earthquake_insurance=EarthquakeInsurance(earthquake_premiums=10_000),
        small_business_mutual_aid_paid=120_000), STANDARD, 2025)
    assert (b.medical_expense_deduction, b.earthquake_insurance_deduction,
            b.small_business_mutual_aid_deduction, b.self_medication_deduction) == (
        150_000, 5_000, 120_000, 0)
    assert b.total_deductions == 430_000 + 150_000 + 5_000 + 120_000


def test_medical_and_self_medication_exclude_each_other() -> None:
    with pytest.raises(ValidationError, match="self_medication"):
        ResidentTaxDeclaration.model_validate({"age": 40, "medical_expenses": {"paid": 1},
                                               "self_medication": {"paid": 1}})
    # allowed twins: either one alone
    assert ResidentTaxDeclaration.model_validate({"age": 40, "medical_expenses": {"paid": 1}})
    assert ResidentTaxDeclaration.model_validate({"age": 40, "self_medication": {"paid": 1}})
