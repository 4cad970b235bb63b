"""税額控除 of the individual resident tax, applied per part (municipal / prefectural) to the
所得割 after 調整控除, in the statutory order: 配当控除, 住宅借入金等特別税額控除, 寄附金税額控除.

Rounding (our reading, as municipal guides publish it, e.g. 岐阜市's ふるさと納税 example in
tests/unit/municloud/calc/test_credits.py): each credit is computed per part with exact
fractions and rounded UP to the yen; each credit is at most what is left of that part's 所得割.
Rates are integers: basis points (1.6 % = 160) or, for the 特例控除 rates that need three
decimals, units of 1/100,000 (84.895 % = 84_895).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "DONATION_FLOOR",
    "DonationCredit",
    "PartSplit",
    "dividend_credit",
    "donation_credit",
    "housing_loan_credit",
    "special_credit_rate",
]

DONATION_FLOOR = 2_000
DONATION_INCOME_SHARE_PERCENT = 30
SPECIAL_CREDIT_CAP_PERCENT = 20
_PER_100K = 100_000


def ceil_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded up (both non-negative)."""
    return -(-numerator // denominator)


class PartSplit(NamedTuple):
    municipal: int
    prefectural: int

    @property
    def total(self) -> int:
        return self.municipal + self.prefectural


# --- 配当控除 ------------------------------------------------------------------------------------

# (within 1,000万 of 課税総所得金額等, above) in basis points, (municipal, prefectural).
_DIVIDEND_RATES = {False: ((160, 120), (80, 60)), True: ((224, 56), (112, 28))}
DIVIDEND_BAND = 10_000_000


def dividend_credit(dividend_income: int, taxable_income: int, designated_city: bool
                    ) -> PartSplit:
    """配当控除 (地方税法 §314-9, rates 附則 §5): 配当所得 (総合課税) x 2.8 % (municipal 1.6 %,
    prefectural 1.2 %; 政令指定都市 2.24 % / 0.56 %) for the part of 課税総所得金額等 up to 1,000万,
    half those rates for the dividend that lies above 1,000万."""
    above = min(dividend_income, max(0, taxable_income - DIVIDEND_BAND))
    within = dividend_income - above
    (m_in, p_in), (m_over, p_over) = _DIVIDEND_RATES[designated_city]
    return PartSplit(ceil_div(within * m_in + above * m_over, 10_000),
                     ceil_div(within * p_in + above * p_over, 10_000))


# --- 住宅借入金等特別税額控除 -----------------------------------------------------------------------

def housing_loan_credit(unabsorbed: int, taxable_income: int, specified_acquisition: bool,
                        designated_city: bool) -> PartSplit:
    """住宅借入金等特別税額控除 (地方税法附則 §45 municipal, §5の4の2 prefectural): the income-tax
    住宅ローン控除 that income tax could not absorb, at most 5 % of 課税総所得金額等 and 97,500
    (特定取得 / 特別特定取得 occupied 2014-2021: 7 % and 136,500); municipal 3/5, prefectural 2/5
    (政令指定都市 4/5, 1/5). 5 % of 課税総所得金額等 is rounded down to the yen."""
    rate, ceiling = (7, 136_500) if specified_acquisition else (5, 97_500)
    credit = min(unabsorbed, taxable_income * rate // 100, ceiling)
    # Our design: the municipal share is rounded up and the prefectural part is the rest, so the
    # two parts add up to the statutory credit (rounding both up could exceed 97,500).
    municipal = ceil_div(credit * (4 if designated_city else 3), 5)
    return PartSplit(municipal, credit - municipal)


# --- 寄附金税額控除 (ふるさと納税) ---------------------------------------------------------------

# (upper bound of 課税総所得金額 − 人的控除差調整額, 特例控除 rate, 申告特例控除 ratio numerator /
# denominator), rates in 1/100,000: 90 % − income-tax marginal rate x 1.021 (復興特別所得税).
_SPECIAL_BANDS = (
    (1_950_000, 84_895, 5_105),
    (3_300_000, 79_790, 10_210),
    (6_950_000, 69_580, 20_420),
    (9_000_000, 66_517, 23_483),
    (18_000_000, 56_307, 33_693),
    (40_000_000, 49_160, 40_840),
    (None, 44_055, 45_945),
)
_NO_INCOME_TAX_RATE = 90_000


def special_credit_rate(taxable_income: int, personal_difference: int) -> tuple[int, int]:
    """(特例控除 rate, 申告特例控除 numerator) in 1/100,000 from 課税総所得金額 − 人的控除差調整額
    (地方税法 §314-7 ⑪ table): 90 % when there is no 課税総所得金額 or the difference is
    negative (no income tax at the margin; no 申告特例控除 then)."""
    adjusted = taxable_income - personal_difference
    if taxable_income <= 0 or adjusted < 0:
        return _NO_INCOME_TAX_RATE, 0
    for bound, rate, one_stop in _SPECIAL_BANDS:
        if bound is None or adjusted <= bound:
            return rate, one_stop
    raise AssertionError("unreachable: the last band has no bound")


class DonationCredit(NamedTuple):
    basic: PartSplit
    """基本控除: (min(寄附, 30 % 総所得金額等) − 2,000) x 10 %."""
    special_rate: int
    """特例控除 rate in 1/100,000."""
    special_uncapped: PartSplit
    special: PartSplit
    """特例控除, capped at 20 % of each part's 所得割 after 調整控除."""
    one_stop: PartSplit
    """申告特例控除 (ワンストップ特例); zero without it."""

    @property
    def total(self) -> PartSplit:
        return PartSplit(self.basic.municipal + self.special.municipal + self.one_stop.municipal,
                         self.basic.prefectural + self.special.prefectural
                         + self.one_stop.prefectural)


def donation_credit(*, donations: int, total_income: int, taxable_income: int,
                    personal_difference: int, income_levy: PartSplit, designated_city: bool,
                    one_stop: bool) -> DonationCredit:
    """寄附金税額控除 for donations to prefectures and municipalities (ふるさと納税).

    - 基本控除 (地方税法 §314-7 ① municipal 6 % / §37-2 ① prefectural 4 %; 政令指定都市 8 % / 2 %):
      (min(寄附, 30 % of 総所得金額等) − 2,000) x rate.
    - 特例控除 (§314-7 ⑪, §37-2 ⑪): (寄附 − 2,000) x (90 % − 所得税の限界税率 x 1.021), municipal
      3/5 and prefectural 2/5 (政令指定都市 4/5, 1/5), each at most 20 % of that part's 所得割
      after 調整控除.
    - 申告特例控除 (附則 §5の7 prefectural, §5の8 municipal): with the ワンストップ特例, the
      capped 特例控除 x (限界税率 x 1.021) / (90 % − 限界税率 x 1.021), per part.
    """
    zero = PartSplit(0, 0)
    if donations <= DONATION_FLOOR:
        return DonationCredit(zero, 0, zero, zero, zero)
    basic_base = max(0, min(donations, total_income * DONATION_INCOME_SHARE_PERCENT // 100)
                     - DONATION_FLOOR)
    municipal_bp, prefectural_bp = (800, 200) if designated_city else (600, 400)
    basic = PartSplit(ceil_div(basic_base * municipal_bp, 10_000),
                      ceil_div(basic_base * prefectural_bp, 10_000))

    rate, one_stop_numerator = special_credit_rate(taxable_income, personal_difference)
    special_base = donations - DONATION_FLOOR
    m_fifths = 4 if designated_city else 3
    uncapped = PartSplit(ceil_div(special_base * rate * m_fifths, _PER_100K * 5),
                         ceil_div(special_base * rate * (5 - m_fifths), _PER_100K * 5))
    special = PartSplit(
        min(uncapped.municipal, income_levy.municipal * SPECIAL_CREDIT_CAP_PERCENT // 100),
        min(uncapped.prefectural, income_levy.prefectural * SPECIAL_CREDIT_CAP_PERCENT // 100))
    if one_stop and one_stop_numerator:
        stop = PartSplit(ceil_div(special.municipal * one_stop_numerator, rate),
                         ceil_div(special.prefectural * one_stop_numerator, rate))
    else:
        stop = zero
    return DonationCredit(basic, rate, uncapped, special, stop)
