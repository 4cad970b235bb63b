"""Integer money arithmetic: rates in basis points, rounding down to a unit.

Floating point is never used: 890,000 x 6.81 % is 60,609 exactly, while float gives
60,608.99... and a truncation would lose a yen.
"""

from __future__ import annotations

BASIS_POINTS = 10_000


def apply_rate(amount: int, rate_bp: int) -> int:
    """amount x rate (basis points), rounded down to the yen."""
    if amount < 0 or rate_bp < 0:
        raise ValueError("amount and rate must be non-negative")
    return amount * rate_bp // BASIS_POINTS


def floor_to(amount: int, unit: int) -> int:
    """Round a non-negative amount down to a multiple of `unit` (e.g. 100 or 1,000 yen)."""
    if amount < 0:
        raise ValueError("amount must be non-negative")
    return amount // unit * unit


def percent_of(amount: int, percent: int) -> int:
    """amount x percent / 100, rounded down to the yen."""
    return amount * percent // 100
