"""Layout definitions of the intermediate standard layout (中間標準レイアウト).

One YAML file per business area under ``definitions/`` lists the items (item name, type,
length, code table, required); both export and import are driven from it. The physical
format and the exact item lists of the J-LIS specification are OPEN in DOMAIN.md: the files
here are OUR DESIGN, kept as data so they can follow the published layout later.
"""

from __future__ import annotations

from enum import Enum
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class ItemType(str, Enum):
    """Item types of a layout: 数字 (digits), 文字 (text), 日付 (date), コード (code)."""

    NUMBER = "数字"
    TEXT = "文字"
    DATE = "日付"
    CODE = "コード"


class Calendar(str, Enum):
    """How a 日付 item is written: 和暦 as era code + YYMMDD (``5060102``) or 西暦 YYYYMMDD."""

    WAREKI = "和暦"
    SEIREKI = "西暦"


class ItemDef(BaseModel):
    """One item (項目) of a layout."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(description="English field name used in rows and by the services")
    name: str = Field(description="Item name (項目名) written in the header row")
    type: ItemType
    length: int = Field(gt=0, le=4096, description="Maximum characters (digits for 数字)")
    fixed: bool = Field(False, description="数字 only: exactly `length` digits, kept as a string")
    required: bool = False
    code_table: str | None = None
    calendar: Calendar | None = None
    check: str | None = Field(None, description="Identifier check from municloud.ids")
    unique: bool = Field(False, description="No two rows may share a value")
    sensitive: bool = Field(False, description="Personal identifier: never echoed anywhere")
    requires: str | None = Field(None, description="Only filled when this other item is")
    required_with: str | None = Field(None, description="Required when this other item is filled")

    @model_validator(mode="after")
    def _consistent(self) -> ItemDef:
        if self.type is ItemType.CODE and not self.code_table:
            raise ValueError(f"item {self.name}: コード needs code_table")
        if self.type is ItemType.DATE and self.calendar is None:
            raise ValueError(f"item {self.name}: 日付 needs calendar (和暦 or 西暦)")
        if self.fixed and self.type is not ItemType.NUMBER:
            raise ValueError(f"item {self.name}: fixed applies to 数字 only")
        return self


class LayoutDef(BaseModel):
    """A business area's layout: its items in column order and the code tables it uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    area: str = Field(description="Business area (業務), e.g. 住民基本台帳")
    unit: str = Field(description="Service that owns the data: residents_registry, tax, nhi")
    version: str
    items: tuple[ItemDef, ...]
    row_key: tuple[str, ...] = Field((), description="Item keys no two rows may share together")
    code_tables: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> LayoutDef:
        for attr in ("key", "name"):
            seen = [getattr(i, attr) for i in self.items]
            dupes = {v for v in seen if seen.count(v) > 1}
            if dupes:
                raise ValueError(f"layout {self.area}: duplicate item {attr}s {sorted(dupes)}")
        keys = {i.key for i in self.items}
        for item in self.items:
            if item.code_table and item.code_table not in self.code_tables:
                raise ValueError(f"layout {self.area}: unknown code table {item.code_table}")
            for other in (item.requires, item.required_with):
                if other is not None and other not in keys:
                    raise ValueError(f"layout {self.area}: item {item.name} names unknown {other}")
        if not set(self.row_key) <= keys:
            raise ValueError(f"layout {self.area}: row_key names unknown items")
        return self

    def item(self, key: str) -> ItemDef:
        return next(i for i in self.items if i.key == key)

    @property
    def header(self) -> list[str]:
        return [i.name for i in self.items]

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.items]


_FILES = {"住民基本台帳": "residents_registry.yaml", "個人住民税": "tax.yaml",
          "国民健康保険": "nhi.yaml"}
AREAS: tuple[str, ...] = tuple(_FILES)
AREA_BY_UNIT: dict[str, str] = {"residents_registry": "住民基本台帳", "tax": "個人住民税",
                                "nhi": "国民健康保険"}


def _read_yaml(filename: str) -> Any:
    text = resources.files("municloud.layout").joinpath("definitions", filename).read_text("utf-8")
    return yaml.safe_load(text)


@cache
def load_layout(area: str) -> LayoutDef:
    """Load the layout of a business area (住民基本台帳, 個人住民税, 国民健康保険) or unit name."""
    area = AREA_BY_UNIT.get(area, area)
    if area not in _FILES:
        raise KeyError(f"unknown layout area {area!r}; known: {', '.join(AREAS)}")
    raw = _read_yaml(_FILES[area])
    tables = _read_yaml("code_tables.yaml")
    used = {i.get("code_table") for i in raw["items"] if i.get("code_table")}
    raw["code_tables"] = {name: {str(k): str(v) for k, v in tables[name].items()}
                          for name in sorted(used) if name in tables}
    return LayoutDef.model_validate(raw)
