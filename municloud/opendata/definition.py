"""Column definitions of the published datasets: one YAML file per dataset under definitions/."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DEFINITIONS = Path(__file__).with_name("definitions")
ID_COLUMNS = ("全国地方公共団体コード", "ID", "地方公共団体名", "調査年月日", "地域コード", "地域名")


@dataclass(frozen=True)
class Column:
    name: str
    type: str                 # lgcode | id | text | date | area_code | count
    sex: str | None = None    # '1' male, '2' female (count columns split by sex)
    age_from: int | None = None  # first age of the band (count columns split by age)


@dataclass(frozen=True, eq=False)  # one instance per dataset (load is cached)
class Definition:
    id: str
    title: str
    description: str
    file_name: str
    encoding: str
    suppressed_marker: str
    total_area_code: str
    total_area_name: str
    columns: tuple[Column, ...]
    row_sums: dict[str, tuple[str, ...]]  # column -> the columns that add up to it, in one row

    @property
    def count_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.type == "count")

    @property
    def band_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.age_from is not None)

    @property
    def band_width(self) -> int:
        ages = sorted({c.age_from for c in self.band_columns})
        return ages[1] - ages[0] if len(ages) > 1 else 0

    @property
    def open_band_from(self) -> int:
        """First age of the last, open band (100歳以上): ages above it are counted there."""
        return max(c.age_from for c in self.band_columns)

    def band_column(self, sex: str, band: int) -> str:
        age = min(band * self.band_width, self.open_band_from)
        return next(c.name for c in self.band_columns if c.sex == sex and c.age_from == age)


def _row_sums(raw: dict, columns: tuple[Column, ...]) -> dict[str, tuple[str, ...]]:
    sums: dict[str, tuple[str, ...]] = {}
    for total, parts in (raw or {}).items():
        if isinstance(parts, dict):  # {sex: '1', bands: true}: the age bands of one sex
            parts = [c.name for c in columns if c.age_from is not None and c.sex == parts["sex"]]
        sums[total] = tuple(parts)
    return sums


@cache
def load(dataset_id: str) -> Definition:
    path = DEFINITIONS / f"{dataset_id}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in DEFINITIONS.glob("*.yaml"))
        raise ValueError(f"unknown open dataset {dataset_id!r}; known: {known}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    columns = tuple(Column(**c) for c in raw["columns"])
    names = [c.name for c in columns]
    if tuple(names[:len(ID_COLUMNS)]) != ID_COLUMNS or len(set(names)) != len(names):
        raise ValueError(f"{path.name}: columns must start with {ID_COLUMNS} and be unique")
    row_sums = _row_sums(raw.get("row_sums"), columns)
    for total, parts in row_sums.items():
        if total not in names or not set(parts) <= set(names):
            raise ValueError(f"{path.name}: row_sums {total} names an unknown column")
    return Definition(id=raw["id"], title=raw["title"], description=raw["description"].strip(),
                      file_name=raw["file_name"], encoding=raw["encoding"],
                      suppressed_marker=raw["suppressed_marker"],
                      total_area_code=raw["total_row"]["area_code"],
                      total_area_name=raw["total_row"]["area_name"],
                      columns=columns, row_sums=row_sums)


DATASETS = ("population_by_area_age", "households_by_area")
