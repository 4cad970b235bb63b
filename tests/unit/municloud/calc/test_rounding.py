"""Integer money helpers."""

from __future__ import annotations

import pytest

from municloud.calc.rounding import apply_rate, floor_to, percent_of

pytestmark = pytest.mark.unit


def test_apply_rate_is_exact() -> None:
    assert apply_rate(890_000, 681) == 60_609
    assert apply_rate(1, 9_999) == 0
    assert apply_rate(10_000, 1) == 1


def test_floor_to() -> None:
    assert floor_to(217_770, 100) == 217_700
    assert floor_to(217_700, 100) == 217_700
    assert floor_to(2_385_999, 1_000) == 2_385_000
    assert floor_to(99, 100) == 0


def test_percent_of_rounds_down() -> None:
    assert percent_of(6_600_001, 90) == 5_940_000


@pytest.mark.parametrize(("amount", "rate"), [(-1, 100), (100, -1)])
def test_negative_inputs_rejected(amount: int, rate: int) -> None:
    with pytest.raises(ValueError):
        apply_rate(amount, rate)
    with pytest.raises(ValueError):
        floor_to(-1, 100)
