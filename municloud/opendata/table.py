"""The published table: one row per 地域 and a row for the whole municipality, the count columns of
a dataset's definition, and the additive relations a reader can use to recompute a cell."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from municloud.opendata.definition import Definition

Cell = tuple[int, str]  # (row index, count column)
Equation = tuple[Cell, tuple[Cell, ...]]  # total = sum(parts)


def area_code(area_name: str) -> str:
    """地域コード of a 地域 (町字) name: 7 digits derived from the name (our design; a municipality
    with アドレス・ベース・レジストリ 町字ID codes puts those here instead). Stable across dates, so
    files of different 調査年月日 join on it; never 0000000 (the whole municipality's row)."""
    digest = int.from_bytes(hashlib.sha256(area_name.encode("utf-8")).digest()[:8], "big")
    return f"{digest % 9_999_999 + 1:07d}"


@dataclass
class Table:
    definition: Definition
    areas: list[tuple[str, str]]           # (地域コード, 地域名) per row; the last is the whole municipality
    values: list[dict[str, int]]           # per row: count column -> value
    suppressed: set[Cell] = field(default_factory=set)

    @property
    def total_row(self) -> int:
        return len(self.areas) - 1

    def value(self, cell: Cell) -> int:
        return self.values[cell[0]][cell[1]]

    def cells(self) -> list[Cell]:
        return [(r, c) for r in range(len(self.areas)) for c in self.definition.count_columns]

    def is_margin(self, cell: Cell) -> bool:
        return cell[0] == self.total_row or cell[1] in self.definition.row_sums

    def equations(self) -> list[Equation]:
        """Every additive relation the published file lets a reader write down."""
        d = self.definition
        eqs: list[Equation] = []
        for r in range(len(self.areas)):
            for total, parts in d.row_sums.items():
                eqs.append(((r, total), tuple((r, p) for p in parts)))
        for c in d.count_columns:
            eqs.append(((self.total_row, c), tuple((r, c) for r in range(self.total_row))))
        return eqs


def build(definition: Definition, counts: Mapping[str, Mapping[str, int]]) -> Table:
    """Table from counts per 地域名 and count column (missing = 0); the margins (row sums and the
    whole municipality's row) are computed here from the finest cells, so they always add up."""
    d = definition
    finest = [c for c in d.count_columns if c not in d.row_sums]
    unknown = {c for per in counts.values() for c in per} - set(finest)
    if unknown:
        raise ValueError(f"{d.id}: counts for columns that are not finest cells: {sorted(unknown)}")
    names = sorted(counts, key=lambda n: (area_code(n), n))
    codes = [area_code(n) for n in names]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{d.id}: two 地域 share one 地域コード; give them explicit codes")
    rows: list[dict[str, int]] = []
    for name in names:
        row = {c: int(counts[name].get(c, 0)) for c in finest}
        _fill_row_sums(d, row)
        rows.append(row)
    rows.append({c: sum(row[c] for row in rows) for c in d.count_columns})
    areas = [*zip(codes, names), (d.total_area_code, d.total_area_name)]
    return Table(d, areas, rows)


def _fill_row_sums(d: Definition, row: dict[str, int]) -> None:
    pending = dict(d.row_sums)
    while pending:  # a sum may be made of sums (総数 = 男性 + 女性)
        for total, parts in list(pending.items()):
            if all(p in row for p in parts):
                row[total] = sum(row[p] for p in parts)
                del pending[total]
