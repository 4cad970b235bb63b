"""The reader's attack on a published file: bounds of every suppressed cell from the published
cells and the table's additive relations (non-negative unknowns), by linear programming (HiGHS via
scipy). A cell is *recovered* when its bounds leave exactly one whole number. Operator and test
tooling: never imported by the services."""

from __future__ import annotations

import math
from dataclasses import dataclass

from municloud.opendata.definition import Definition
from municloud.opendata.render import read_csv
from municloud.opendata.table import Cell, Table


@dataclass(frozen=True)
class Bound:
    cell: Cell
    area: str
    column: str
    low: float
    high: float  # math.inf when nothing bounds it

    @property
    def recovered(self) -> bool:
        if math.isinf(self.high):
            return False
        return math.floor(self.high + 1e-6) <= math.ceil(self.low - 1e-6)


def published_table(definition: Definition, data: bytes) -> Table:
    """The table as a reader sees it: published values, suppressed cells unknown (0 placeholders)."""
    header, rows = read_csv(definition, data)
    if header != [c.name for c in definition.columns]:
        raise ValueError(f"{definition.file_name}: header differs from the definition")
    marker = definition.suppressed_marker
    areas, values, suppressed = [], [], set()
    for r, row in enumerate(rows):
        areas.append((row[4], row[5]))
        vals = {}
        for c, text in zip(definition.count_columns, row[6:], strict=True):
            if text == marker:
                suppressed.add((r, c))
                vals[c] = 0
            else:
                vals[c] = int(text)
        values.append(vals)
    return Table(definition, areas, values, suppressed)


def bounds(table: Table) -> list[Bound]:
    """min and max of every suppressed cell subject to the relations and the published cells."""
    import numpy as np
    from scipy.optimize import linprog

    cells = sorted(table.suppressed)
    if not cells:
        return []
    index = {c: i for i, c in enumerate(cells)}
    a_rows, b = [], []
    for total, parts in table.equations():
        row = np.zeros(len(cells))
        rhs = 0.0
        for cell, coef in ((total, -1.0), *((p, 1.0) for p in parts)):
            if cell in index:
                row[index[cell]] += coef
            else:
                rhs -= coef * table.value(cell)
        if row.any():
            a_rows.append(row)
            b.append(rhs)
        elif abs(rhs) > 1e-9:
            raise ValueError(f"published cells do not add up in the relation of {total}")
    a_eq = np.array(a_rows) if a_rows else None
    b_eq = np.array(b) if a_rows else None
    out = []
    for i, cell in enumerate(cells):
        c = np.zeros(len(cells))
        c[i] = 1.0
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if low.status != 0:
            raise ValueError(f"the published table has no non-negative completion ({low.message})")
        hi = math.inf if high.status == 3 else -high.fun
        out.append(Bound(cell, table.areas[cell[0]][1], cell[1], low.fun, hi))
    return out


def recovered(definition: Definition, data: bytes) -> list[Bound]:
    """The suppressed cells of a published file that a reader can recompute exactly."""
    return [b for b in bounds(published_table(definition, data)) if b.recovered]
