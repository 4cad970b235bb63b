"""所得控除 a resident claims beyond the personal ones (individual resident tax).

Each function implements one statutory formula, in integer yen, with its caps and rounding; the
article is named in its docstring (municipal part, 地方税法 §314-2; the prefectural part, §34,
has the same amounts). Inputs are the amounts a resident declares; validation (non-negative,
bounded, strict types) happens in the input models.
"""

from __future__ import annotations

from municloud.calc.rounding import percent_of

__all__ = [
    "MEDICAL_DEDUCTION_CAP",
    "SELF_MEDICATION_CAP",
    "SELF_MEDICATION_THRESHOLD",
    "earthquake_insurance_deduction",
    "medical_expense_deduction",
    "self_medication_deduction",
    "small_business_mutual_aid_deduction",
]

MEDICAL_DEDUCTION_CAP = 2_000_000
MEDICAL_THRESHOLD_CAP = 100_000
SELF_MEDICATION_THRESHOLD = 12_000
SELF_MEDICATION_CAP = 88_000
EARTHQUAKE_CAP = 25_000


def medical_expense_deduction(paid: int, reimbursed: int, total_income: int) -> int:
    """医療費控除 (地方税法 §314-2 ① 二, 所得税法 §73 for the same definition of expenses):
    paid − reimbursed (保険金等で補填される金額) − min(10万, 5 % of 総所得金額等), at most 200万,
    never negative. 5 % is rounded down to the yen (the threshold is the smaller of the two)."""
    threshold = min(MEDICAL_THRESHOLD_CAP, percent_of(total_income, 5))
    return min(max(0, paid - reimbursed - threshold), MEDICAL_DEDUCTION_CAP)


def self_medication_deduction(paid: int, reimbursed: int) -> int:
    """医療費控除の特例 (セルフメディケーション税制, 地方税法附則 §4-4; 租税特別措置法 §41-17):
    specified OTC medicines paid − reimbursed − 12,000, at most 88,000. An alternative to
    医療費控除: a declaration claims one or the other, never both."""
    return min(max(0, paid - reimbursed - SELF_MEDICATION_THRESHOLD), SELF_MEDICATION_CAP)


def _long_term_damage(premiums: int) -> int:
    # 旧長期損害保険料 (contracts before 2007, 地方税法 §314-2 ⑤ 経過措置): all up to 5,000;
    # half + 2,500 up to 15,000; 10,000 above.
    if premiums <= 5_000:
        return premiums
    if premiums <= 15_000:
        return premiums // 2 + 2_500
    return 10_000


def earthquake_insurance_deduction(earthquake_premiums: int, long_term_premiums: int) -> int:
    """地震保険料控除 (地方税法 §314-2 ① 五の三, ⑤): half of 地震保険料 (rounded down), at most
    25,000, plus the 旧長期損害保険料 amount; the total at most 25,000."""
    earthquake = min(earthquake_premiums // 2, EARTHQUAKE_CAP)
    return min(earthquake + _long_term_damage(long_term_premiums), EARTHQUAKE_CAP)


def small_business_mutual_aid_deduction(paid: int) -> int:
    """小規模企業共済等掛金控除 (地方税法 §314-2 ① 四): 小規模企業共済, iDeCo (個人型確定拠出年金)
    and 心身障害者扶養共済 contributions, deducted in full."""
    return paid
