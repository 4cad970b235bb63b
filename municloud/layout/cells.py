"""One cell of a layout file: a typed value <-> its text, driven by the item definition.

Reasons returned here never contain the cell's content: a cell may hold a 個人番号 and the
reasons end up in reports and logs.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from municloud import ids, wareki
from municloud.layout.definition import Calendar, ItemDef, ItemType, LayoutDef

# A cell starting with one of these is executed as a formula by spreadsheet software.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# Export prefixes a text value that starts like a formula (or with the escape itself) with a
# single quote; import removes exactly one. The round trip keeps the stored value unchanged.
ESCAPE = "'"
_DIGITS = re.compile(r"[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ufeff]")


class CellError(ValueError):
    """A cell could not be read or written; `reason` never contains the value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check_identifier(kind: str, value: str) -> None:
    # Identifier rules live once, in municloud.ids; only the reason is kept.
    validator = getattr(ids, f"validate_{kind}", None)
    if validator is None:
        return
    try:
        validator(value)
    except ids.IdentifierError as exc:
        raise CellError(str(exc.reason)) from None


# Registers repeat dates a lot; 和暦 conversion is cached (pure functions of their input).
@lru_cache(maxsize=65536)
def _wareki_code(value: date) -> str:
    return wareki.to_wareki(value).code()


@lru_cache(maxsize=65536)
def _wareki_date(text: str) -> date:
    return wareki.parse_wareki(text)


def _format_date(item: ItemDef, value: date) -> str:
    if item.calendar is Calendar.SEIREKI:
        return value.strftime("%Y%m%d")
    try:
        return _wareki_code(value)
    except wareki.WarekiError:
        raise CellError("date is before the start of 明治") from None


def _parse_date(item: ItemDef, text: str) -> date:
    if item.calendar is Calendar.SEIREKI:
        if not (len(text) == 8 and _DIGITS.fullmatch(text)):
            raise CellError("西暦 date must be 8 digits YYYYMMDD")
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            raise CellError("not a calendar date") from None
    if not (len(text) == 7 and _DIGITS.fullmatch(text)):
        raise CellError("和暦 date must be 7 digits: era code + YYMMDD")
    try:
        return _wareki_date(text)
    except wareki.WarekiError:
        # The message of WarekiError repeats the date; keep reports free of cell content.
        raise CellError("not a valid 和暦 date (era code 1-5, date inside that era)") from None


def format_cell(layout: LayoutDef, item: ItemDef, value: object) -> str:
    """Text of one cell for export; raises CellError when the value breaks the layout."""
    if value is None or value == "":
        if item.required:
            raise CellError("required item is empty")
        return ""
    if item.type is ItemType.NUMBER:
        if item.fixed:
            text = value if isinstance(value, str) else str(value)
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CellError("数字 item needs a non-negative integer")
        else:
            text = str(value)
    elif item.type is ItemType.DATE:
        if not isinstance(value, date):
            raise CellError("日付 item needs a date")
        text = _format_date(item, value)
    elif item.type is ItemType.CODE:
        text = str(value)
    else:
        if not isinstance(value, str):
            raise CellError("文字 item needs a string")
        text = ESCAPE + value if value.startswith(FORMULA_LEADS + (ESCAPE,)) else value
    # Export refuses what import would refuse, so every exported file imports.
    parse_cell(layout, item, text)
    return text


def parse_cell(layout: LayoutDef, item: ItemDef, text: str) -> object:
    """Typed value of one imported cell; raises CellError with the reason."""
    if text == "":
        if item.required:
            raise CellError("required item is empty")
        return None
    if text.startswith(FORMULA_LEADS):
        raise CellError(f"starts with {text[0]!r}: refused as possible formula injection")
    if _CONTROL.search(text):
        raise CellError("contains a control character, line break or BOM")
    if item.type is ItemType.TEXT:
        if text.startswith(ESCAPE):
            text = text[1:]
        if len(text) > item.length:
            raise CellError(f"{len(text)} characters, at most {item.length} allowed")
        return text
    if item.type is ItemType.NUMBER:
        if not _DIGITS.fullmatch(text) or not text.isascii():
            raise CellError("数字 item must be ASCII digits only")
        if item.fixed:
            if len(text) != item.length:
                raise CellError(f"{len(text)} digits, exactly {item.length} required")
            if item.check:
                _check_identifier(item.check, text)
            return text
        if len(text) > item.length:
            raise CellError(f"{len(text)} digits, at most {item.length} allowed")
        if len(text) > 1 and text.startswith("0"):
            raise CellError("数字 item has a leading zero")
        return int(text)
    if item.type is ItemType.DATE:
        return _parse_date(item, text)
    table = layout.code_tables[item.code_table or ""]
    if text not in table:
        raise CellError(f"not a code of table {item.code_table}")
    return text
