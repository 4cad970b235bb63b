"""Small-cell protection of the open data: the tiny town's cells of 1 and 2 residents are
suppressed and no suppressed cell can be recovered from the published totals (linear programming
over the table's additive relations); the twin shows the audit does recover cells when only the
small cells are hidden."""

from __future__ import annotations

import random
from datetime import date

import pytest

from municloud.opendata import definition, render, suppression, table
from municloud_ops.opendata import audit
from municloud_ops.opendata.validate import validate

pytestmark = pytest.mark.unit

AS_OF = date(2026, 4, 1)
POP = definition.load("population_by_area_age")
HOUSEHOLDS = definition.load("households_by_area")


def tiny_town() -> dict[str, dict[str, int]]:
    """Three 地域 with cells of 1 and 2 residents next to larger ones."""
    return {
        "字上町": {"0-4歳男性": 1, "30-34歳女性": 2, "65-69歳男性": 6, "65-69歳女性": 7, "70-74歳女性": 4},
        "字中町": {"0-4歳男性": 3, "30-34歳女性": 5, "65-69歳男性": 2, "65-69歳女性": 4, "70-74歳女性": 1},
        "字下町": {"0-4歳男性": 4, "30-34歳女性": 3, "65-69歳男性": 5, "65-69歳女性": 2, "70-74歳女性": 6,
                   "100歳以上女性": 1},
    }


def published(counts, d=POP, min_count=3) -> tuple[table.Table, bytes]:
    t = table.build(d, counts)
    suppression.suppress(t, min_count)
    return t, render.to_csv(t, "053031", "小坂町", AS_OF)


def test_tiny_town_small_cells_are_suppressed_and_none_is_recoverable():
    t, data = published(tiny_town())
    small = {c for c in t.cells() if 0 < t.value(c) < 3}
    assert small and small <= t.suppressed
    assert len(t.suppressed) > len(small), "complementary cells were needed here"
    bounds = audit.bounds(audit.published_table(POP, data))
    assert {b.cell for b in bounds} == t.suppressed
    assert [b for b in bounds if b.recovered] == []
    for b in bounds:  # the true value is inside what a reader can infer, never pinned down
        assert b.low - 1e-6 <= t.value(b.cell) <= b.high + 1e-6 and b.high - b.low >= 1 - 1e-6
    assert validate(POP, data, lgcode="053031", as_of=AS_OF).ok


def test_twin_primary_suppression_alone_is_recovered_by_the_audit():
    t = table.build(POP, tiny_town())
    t.suppressed = {c for c in t.cells() if 0 < t.value(c) < 3}
    data = render.to_csv(t, "053031", "小坂町", AS_OF)
    found = audit.recovered(POP, data)
    assert found, "hiding only the small cells must leave some recoverable from the totals"
    assert {b.cell for b in found} <= t.suppressed
    for b in found:
        assert round(b.low) == t.value(b.cell)
    report = validate(POP, data, lgcode="053031", as_of=AS_OF)
    assert not report.ok and "recoverable" in report.sentence()


def test_exact_rank_test_matches_the_linear_programming_audit_on_random_towns():
    rng = random.Random(20261203)
    for _ in range(6):
        counts: dict[str, dict[str, int]] = {}
        for area in rng.sample(["字中町", "字上町", "字下町", "字新町", "字本町", "字東", "字西"], rng.randint(1, 5)):
            counts[area] = {}
            for _ in range(rng.randint(1, 80)):
                col = POP.band_column(rng.choice("12"), min(20, int(rng.expovariate(1 / 9))))
                counts[area][col] = counts[area].get(col, 0) + 1
        t, data = published(counts)
        assert suppression.determined(t.equations(), t.suppressed) == set()
        assert audit.recovered(POP, data) == []


def test_households_single_column_with_a_total():
    counts = {"字上町": {"世帯数": 2}, "字中町": {"世帯数": 40}, "字下町": {"世帯数": 17}}
    t, data = published(counts, HOUSEHOLDS)
    assert (0, "世帯数") in t.suppressed or (1, "世帯数") in t.suppressed or (2, "世帯数") in t.suppressed
    assert len(t.suppressed) == 2  # the small area and the smallest other area, not the total
    assert (t.total_row, "世帯数") not in t.suppressed
    assert audit.recovered(HOUSEHOLDS, data) == []


def test_threshold_is_configurable_and_checked():
    t, _ = published(tiny_town(), min_count=5)
    assert {c for c in t.cells() if 0 < t.value(c) < 5} <= t.suppressed
    with pytest.raises(ValueError, match="min_count"):
        suppression.suppress(table.build(POP, tiny_town()), 0)
