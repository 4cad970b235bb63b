"""Errors of the calculations."""

from __future__ import annotations


class UnsupportedInput(ValueError):
    """Input is well-formed but outside what the calculation implements (or the fiscal year
    is not covered). `field` names the input field, `reason` says why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")
