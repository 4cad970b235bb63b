"""Metered usage of a period: quantities per owner (a member's 全国地方公共団体コード, or `shared`)
and resource, in the units the stack config prices (stacks.config.UnitPrices)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

RESOURCES = ("cpu_core_hour", "memory_gib_hour", "storage_gib_month", "dr_network_gib", "million_requests")
SHARED = "shared"


@dataclass
class UsageSummary:
    stack: str
    start: datetime
    end: datetime
    owners: dict[str, dict[str, float]] = field(default_factory=dict)  # owner -> resource -> quantity
    samples: int = 0

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def priced(self, owner: str, prices) -> Fraction:
        """Yen of one owner's usage at the unit prices (exact)."""
        quantities = self.owners.get(owner, {})
        return sum((Fraction(quantities.get(r, 0.0)) * Fraction(str(getattr(prices, r))) for r in RESOURCES),
                   Fraction(0))

    def to_json(self) -> str:
        return json.dumps({"stack": self.stack, "start": self.start.isoformat(), "end": self.end.isoformat(),
                           "samples": self.samples, "units": {r: r for r in RESOURCES},
                           "owners": self.owners}, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "UsageSummary":
        raw = json.loads(text)
        try:
            owners = {str(o): {r: float(q[r]) for r in RESOURCES if r in q} for o, q in raw["owners"].items()}
            return cls(raw["stack"], datetime.fromisoformat(raw["start"]), datetime.fromisoformat(raw["end"]),
                       owners, int(raw.get("samples", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"usage file: {exc!r} (expected stack, start, end, owners)") from None

    def csv_rows(self) -> list[list[str]]:
        rows = [["owner", *RESOURCES]]
        for owner in sorted(self.owners):
            rows.append([owner, *(f"{self.owners[owner].get(r, 0.0):.6f}" for r in RESOURCES)])
        return rows
