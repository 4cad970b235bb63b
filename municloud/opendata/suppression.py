"""Small-cell protection: primary suppression of every cell below the threshold, then complementary
(secondary) suppression until no suppressed cell can be recomputed from the published cells.

A suppressed cell is *determined* when the additive relations of the table (Table.equations), with
every published cell substituted, fix its value: its unit vector lies in the row space of the
relations restricted to the suppressed cells. We test that exactly, by Gaussian elimination to
reduced row echelon form over the integers modulo a large prime (the coefficients are 0 and ±1, so
the ranks are those over the rationals). While a cell is determined, we suppress one more published
cell in a relation it takes part in: the smallest positive value, preferring inner cells to margins.
Because every suppressed cell then holds at least 1, a relation left with two or more unknowns lets
each of them move in both directions, so the reader's bounds (municloud_ops.opendata.audit, by linear
programming) always have room: no suppressed cell can be recovered from the totals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from municloud.opendata.table import Cell, Equation, Table

PRIME = (1 << 61) - 1


class SuppressionError(RuntimeError):
    """No published cell is left that could protect a determined cell."""


@dataclass(frozen=True)
class SuppressionResult:
    primary: frozenset[Cell]
    complementary: frozenset[Cell]
    rounds: int

    def sentence(self, dataset: str, min_count: int) -> str:
        return (f"{dataset}: {len(self.primary)} cells below {min_count} suppressed, "
                f"{len(self.complementary)} complementary cells suppressed in {self.rounds} rounds")


def determined(equations: list[Equation], suppressed: set[Cell]) -> set[Cell]:
    """The suppressed cells whose value the relations fix once the published cells are known."""
    index = {cell: i for i, cell in enumerate(sorted(suppressed))}
    rows: list[dict[int, int]] = []
    for total, parts in equations:
        row: dict[int, int] = {}
        for cell, coef in ((total, -1), *((p, 1) for p in parts)):
            if cell in index:
                row[index[cell]] = (row.get(index[cell], 0) + coef) % PRIME
        row = {k: v for k, v in row.items() if v}
        if row:
            rows.append(row)
    pivots: dict[int, dict[int, int]] = {}  # pivot column -> its row (pivot entry 1)
    for row in rows:
        for col, piv in pivots.items():  # reduce by the pivots found so far
            if col in row:
                _axpy(row, piv, -row[col])
        if not row:
            continue
        col = min(row)
        inv = pow(row[col], PRIME - 2, PRIME)
        row = {k: v * inv % PRIME for k, v in row.items()}
        for other in pivots.values():  # keep the echelon form reduced
            if col in other:
                _axpy(other, row, -other[col])
        pivots[col] = row
    cells = sorted(suppressed)
    return {cells[col] for col, row in pivots.items() if len(row) == 1}


def _axpy(row: dict[int, int], other: dict[int, int], factor: int) -> None:
    for k, v in other.items():
        value = (row.get(k, 0) + factor * v) % PRIME
        if value:
            row[k] = value
        else:
            row.pop(k, None)


def suppress(table: Table, min_count: int = 3) -> SuppressionResult:
    """Suppress, in ``table.suppressed``, every cell 1..min_count-1 and the complementary cells."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    cells = table.cells()
    order = {cell: i for i, cell in enumerate(cells)}
    primary = {c for c in cells if 0 < table.value(c) < min_count}
    suppressed = set(primary)
    equations = table.equations()
    relations_of: dict[Cell, list[int]] = defaultdict(list)
    for i, (total, parts) in enumerate(equations):
        for cell in (total, *parts):
            relations_of[cell].append(i)
    rounds = 0
    while True:
        fixed = determined(equations, suppressed)
        if not fixed:
            break
        rounds += 1
        touched: set[int] = set()
        for cell in sorted(fixed, key=order.__getitem__):
            if touched & set(relations_of[cell]):
                continue  # a complement chosen this round already shares a relation with it
            pick = _complement(table, equations, relations_of, cell, suppressed, fixed, order)
            suppressed.add(pick)
            touched.update(relations_of[pick])
    table.suppressed = suppressed
    return SuppressionResult(frozenset(primary), frozenset(suppressed - primary), rounds)


def _complement(table: Table, equations, relations_of, cell: Cell, suppressed: set[Cell],
                fixed: set[Cell], order: dict[Cell, int]) -> Cell:
    candidates = {other for i in relations_of[cell] for other in (equations[i][0], *equations[i][1])
                  if other not in suppressed}
    positive = [c for c in candidates if table.value(c) > 0]
    pool = positive or list(candidates)  # zeros only when nothing else is left (the audit checks)
    if not pool:
        raise SuppressionError(f"{table.definition.id}: cell {table.areas[cell[0]][1]}/{cell[1]} "
                               "can be recomputed and no published cell is left to protect it")

    def helps(c: Cell) -> int:  # how many determined cells share a relation with it
        rel = set(relations_of[c])
        return sum(1 for f in fixed if rel & set(relations_of[f]))

    return min(pool, key=lambda c: (table.value(c), table.is_margin(c), -helps(c), order[c]))
