"""The consortium's formula: each member pays 均等割 + 人口割 + 利用量割 of the annual total.

    total     = fixed_annual_yen + ⌊metered cost of the period × (days of the fiscal year / days metered)⌋
    均等割_i   = total × w_equal / n
    人口割_i   = total × w_population × population_i / Σ population
    利用量割_i = total × w_usage × usage_i / Σ usage      (usage_i = the member's own metered usage in yen;
                                                         shared parts are in the total, in nobody's usage)

Exact fractions throughout; then whole yen by the largest-remainder rule: every member gets the
whole yen of its exact share (rounded down), and the yen left over (fewer than the number of
members) go one each to the members with the largest fractional parts, ties to the lower
全国地方公共団体コード. The shares then sum exactly to the total, and the same inputs always give
the same shares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from municloud_ops.cost.usage import SHARED, UsageSummary


@dataclass(frozen=True)
class Share:
    member: Any              # stacks.config.MunicipalityConfig (lgcode, name, population)
    equal: Fraction
    population: Fraction
    usage: Fraction
    usage_yen: Fraction      # the member's own metered usage in the period, in yen
    floor_yen: int
    remainder_yen: int       # 0 or 1 (largest remainder)

    @property
    def exact(self) -> Fraction:
        return self.equal + self.population + self.usage

    @property
    def yen(self) -> int:
        return self.floor_yen + self.remainder_yen


@dataclass(frozen=True)
class Allocation:
    fiscal_year: int
    fixed_yen: int
    metered_yen: int          # annualised metered cost, whole yen (rounded down)
    metered_period_yen: Fraction
    scale: Fraction           # days of the fiscal year / days metered
    weights: tuple[Fraction, Fraction, Fraction]
    shares: tuple[Share, ...]
    usage: UsageSummary | None
    prices: Any               # stacks.config.UnitPrices used

    @property
    def total_yen(self) -> int:
        return self.fixed_yen + self.metered_yen


def fiscal_year_days(fiscal_year: int) -> int:
    """Days of 年度 Y: 1 April Y to 31 March Y+1."""
    return (date(fiscal_year + 1, 4, 1) - date(fiscal_year, 4, 1)).days


def allocate(cost, members, fiscal_year: int, usage: UsageSummary | None) -> Allocation:
    """Each member's share of the fiscal year's total (``cost`` is stacks.config.CostConfig,
    ``members`` the stack's MunicipalityConfig entries)."""
    if not members:
        raise ValueError("no members to share the cost")
    w = tuple(Fraction(str(x)) for x in (cost.weights.equal, cost.weights.population, cost.weights.usage))
    if sum(w) != 1:
        raise ValueError(f"cost.weights must sum to 1, got {float(sum(w))}")
    prices = cost.unit_prices
    if usage is None:
        if w[2]:
            raise ValueError("cost.weights.usage is above 0 but no usage was metered for the period "
                             "(run the meter: municloud cost usage, docs/cost.md)")
        metered, scale, usage_yen = Fraction(0), Fraction(0), {m.lgcode: Fraction(0) for m in members}
    else:
        if usage.days <= 0:
            raise ValueError("usage period is empty (start must be before end)")
        owners = set(usage.owners) - {SHARED}
        unknown = owners - {m.lgcode for m in members}
        if unknown:
            raise ValueError(f"usage names owners that are not members of the stack: {sorted(unknown)}")
        usage_yen = {m.lgcode: usage.priced(m.lgcode, prices) for m in members}
        metered = sum(usage_yen.values(), Fraction(0)) + usage.priced(SHARED, prices)
        scale = Fraction(fiscal_year_days(fiscal_year) * 86400) / Fraction(
            round((usage.end - usage.start).total_seconds()))
        if w[2] and not sum(usage_yen.values()):
            raise ValueError("cost.weights.usage is above 0 but the members' metered usage is 0 yen")
    metered_yen = math.floor(metered * scale)
    total = cost.fixed_annual_yen + metered_yen
    population = sum(m.population for m in members)
    used = sum(usage_yen.values(), Fraction(0))
    parts = []
    for m in members:
        eq = total * w[0] / len(members)
        pop = total * w[1] * m.population / population
        use = total * w[2] * usage_yen[m.lgcode] / used if w[2] else Fraction(0)
        parts.append((m, eq, pop, use))
    floors = [math.floor(eq + pop + use) for _, eq, pop, use in parts]
    left = total - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(parts[i][1] + parts[i][2] + parts[i][3] - floors[i]),
                                                     parts[i][0].lgcode))
    bonus = {i: 1 for i in order[:left]}
    shares = tuple(Share(m, eq, pop, use, usage_yen[m.lgcode], floors[i], bonus.get(i, 0))
                   for i, (m, eq, pop, use) in enumerate(parts))
    if sum(s.yen for s in shares) != total:  # the rule guarantees it; refuse to report otherwise
        raise RuntimeError(f"shares sum to {sum(s.yen for s in shares)}, not the total {total}")
    return Allocation(fiscal_year, cost.fixed_annual_yen, metered_yen, metered, scale, w, shares, usage,
                      prices)
