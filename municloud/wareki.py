"""和暦 (Japanese era calendar): convert ISO dates to and from era dates at the edges.

Eras and start dates (DOMAIN.md): 明治 1868-01-25, 大正 1912-07-30, 昭和 1926-12-25,
平成 1989-01-08, 令和 2019-05-01; numeric codes 1-5, letters M/T/S/H/R.

1912-07-30 and 1926-12-25 belong to both the ending and the starting era: parsing accepts either
(明治45年7月30日 and 大正元年7月30日 are the same day); output uses the NEW era (the era that
starts that day), which is the documented canonical form.

Forms: long "令和6年1月2日" (year 1 as 元年), short "R6.01.02", numeric code "5060102"
(era code + YYMMDD). Storage is always ISO `date`; this module converts only at the edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["ERAS", "Era", "WarekiDate", "WarekiError", "era_by_name", "parse_date_text",
           "parse_wareki", "to_wareki"]


class WarekiError(ValueError):
    """A date could not be converted to or from 和暦; the message says which part is wrong."""


@dataclass(frozen=True, slots=True)
class Era:
    name: str
    letter: str
    code: int
    start: date
    end: date | None  # last day (inclusive); None for the current era


ERAS: tuple[Era, ...] = (
    Era("明治", "M", 1, date(1868, 1, 25), date(1912, 7, 30)),
    Era("大正", "T", 2, date(1912, 7, 30), date(1926, 12, 25)),
    Era("昭和", "S", 3, date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "H", 4, date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "R", 5, date(2019, 5, 1), None),
)
_BY_NAME = {e.name: e for e in ERAS}
_BY_LETTER = {e.letter: e for e in ERAS}
_BY_CODE = {e.code: e for e in ERAS}


def era_by_name(name: str) -> Era:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise WarekiError(f"unknown era name {name!r}; expected one of "
                          f"{', '.join(_BY_NAME)}") from None


@dataclass(frozen=True, slots=True)
class WarekiDate:
    era: Era
    year: int
    month: int
    day: int

    def to_date(self) -> date:
        return _to_date(self.era, self.year, self.month, self.day)

    def format(self) -> str:
        """Long form, e.g. 令和6年1月2日; year 1 is written 元年."""
        year = "元" if self.year == 1 else str(self.year)
        return f"{self.era.name}{year}年{self.month}月{self.day}日"

    def short(self) -> str:
        """Short form, e.g. R6.01.02."""
        return f"{self.era.letter}{self.year}.{self.month:02d}.{self.day:02d}"

    def code(self) -> str:
        """Numeric form: era code + YYMMDD, e.g. 5060102."""
        return f"{self.era.code}{self.year:02d}{self.month:02d}{self.day:02d}"

    def __str__(self) -> str:
        return self.format()


def to_wareki(d: date) -> WarekiDate:
    """Era date of `d`; shared boundary days resolve to the new era."""
    if not isinstance(d, date):
        raise WarekiError(f"expected a date, got {type(d).__name__}")
    if d < ERAS[0].start:
        raise WarekiError(f"{d.isoformat()} is before the start of 明治 "
                          f"({ERAS[0].start.isoformat()})")
    era = next(e for e in reversed(ERAS) if d >= e.start)
    return WarekiDate(era, d.year - era.start.year + 1, d.month, d.day)


def _label(era: Era, year: int, month: int, day: int) -> str:
    # Messages keep the clerk's wording: year 1 is 元年 (令和元年4月30日, not 令和1年).
    return f"{era.name}{'元' if year == 1 else year}年{month}月{day}日"


def _to_date(era: Era, year: int, month: int, day: int) -> date:
    if year < 1:
        raise WarekiError(f"{era.name} year must be 1 or more, got {year}")
    label = _label(era, year, month, day)
    try:
        d = date(era.start.year + year - 1, month, day)
    except ValueError as exc:
        raise WarekiError(f"{label} is not a calendar date: {exc}") from None
    if d < era.start:
        raise WarekiError(f"{label} is before the start of {era.name} "
                          f"({_label(era, 1, era.start.month, era.start.day)}, "
                          f"{era.start.isoformat()})")
    if era.end is not None and d > era.end:
        raise WarekiError(f"{label} is after the end of {era.name} ({era.end.isoformat()})")
    return d


_LONG = re.compile(r"(明治|大正|昭和|平成|令和)(元|[0-9]{1,2})年([0-9]{1,2})月([0-9]{1,2})日")
_SHORT = re.compile(r"([MTSHR])([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{1,2})")
_CODE = re.compile(r"([1-5])([0-9]{2})([0-9]{2})([0-9]{2})")


def parse_wareki(text: str) -> date:
    """Parse "令和6年1月2日", "令和元年5月1日", "R6.01.02" or "5060102" into a `date`.

    Digits must be ASCII; the date must fall inside the era (shared boundary days allowed).
    """
    if not isinstance(text, str):
        raise WarekiError(f"expected a string, got {type(text).__name__}")
    if m := _LONG.fullmatch(text):
        era = _BY_NAME[m[1]]
        year = 1 if m[2] == "元" else int(m[2])
    elif m := _SHORT.fullmatch(text):
        era, year = _BY_LETTER[m[1]], int(m[2])
    elif m := _CODE.fullmatch(text):
        era, year = _BY_CODE[int(m[1])], int(m[2])
    else:
        raise WarekiError(f"{text!r} is not a 和暦 date; expected forms like 令和6年1月2日, "
                          "R6.01.02 or 5060102 (ASCII digits)")
    return _to_date(era, year, int(m[3]), int(m[4]))



_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date_text(text: str) -> date:
    """A date as a clerk types it: ISO 西暦 "2024-01-02" or any 和暦 form of `parse_wareki`.

    The one parser for dates at the edges (service request models, calculation inputs, CLI).
    """
    if not isinstance(text, str):
        raise WarekiError(f"expected a date string (ISO 2024-01-02 or 和暦 令和6年1月2日), got "
                          f"{type(text).__name__}")
    if _ISO.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise WarekiError(f"{text} is not a calendar date") from None
    return parse_wareki(text)
