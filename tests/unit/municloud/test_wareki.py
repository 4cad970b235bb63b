"""和暦: conversion both ways, formats, boundary days shared by two eras, errors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from municloud.wareki import ERAS, WarekiError, era_by_name, parse_wareki, to_wareki

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("d", "long", "short", "code"), [
    (date(2024, 1, 2), "令和6年1月2日", "R6.01.02", "5060102"),
    (date(2019, 5, 1), "令和元年5月1日", "R1.05.01", "5010501"),
    (date(2019, 4, 30), "平成31年4月30日", "H31.04.30", "4310430"),
    (date(1989, 1, 8), "平成元年1月8日", "H1.01.08", "4010108"),
    (date(1989, 1, 7), "昭和64年1月7日", "S64.01.07", "3640107"),
    (date(1926, 12, 24), "大正15年12月24日", "T15.12.24", "2151224"),
    (date(1868, 1, 25), "明治元年1月25日", "M1.01.25", "1010125"),
    (date(1912, 7, 29), "明治45年7月29日", "M45.07.29", "1450729"),
])
def test_formats_and_round_trip(d: date, long: str, short: str, code: str) -> None:
    w = to_wareki(d)
    assert (w.format(), w.short(), w.code()) == (long, short, code)
    assert str(w) == long
    for text in (long, short, code):
        assert parse_wareki(text) == d
    assert w.to_date() == d


@pytest.mark.parametrize(("d", "old", "new"), [
    (date(1912, 7, 30), "明治45年7月30日", "大正元年7月30日"),
    (date(1926, 12, 25), "大正15年12月25日", "昭和元年12月25日"),
])
def test_shared_boundary_days_parse_both_output_new_era(d: date, old: str, new: str) -> None:
    assert parse_wareki(old) == d
    assert parse_wareki(new) == d
    assert to_wareki(d).format() == new  # canonical: the era that starts that day


@pytest.mark.parametrize("text", [
    "明治45年7月31日",    # after 明治 ended
    "大正元年7月29日",    # before 大正 started
    "大正15年12月26日",   # after 大正 ended
    "昭和64年1月8日",     # 平成 already
    "平成31年5月1日",     # 令和 already
    "令和元年4月30日",    # before 令和
    "明治元年1月24日",    # before 明治
])
def test_dates_outside_their_era_are_errors(text: str) -> None:
    with pytest.raises(WarekiError, match="(before the start|after the end)"):
        parse_wareki(text)


def test_every_day_round_trips_across_all_era_changes() -> None:
    for era in ERAS[1:]:
        for offset in range(-3, 4):
            d = era.start + timedelta(days=offset)
            assert parse_wareki(to_wareki(d).format()) == d
            assert parse_wareki(to_wareki(d).code()) == d


def test_before_meiji_is_an_error() -> None:
    with pytest.raises(WarekiError, match="before the start of 明治"):
        to_wareki(date(1868, 1, 24))


@pytest.mark.parametrize("text", [
    "令和6年2月30日", "令和0年1月1日", "R6.13.01", "6060102", "令和６年１月２日", "X6.01.02",
    "令和6年1月2", "", "5060132",
])
def test_malformed_inputs_are_errors(text: str) -> None:
    with pytest.raises(WarekiError):
        parse_wareki(text)


def test_error_names_the_problem() -> None:
    with pytest.raises(WarekiError, match="not a calendar date"):
        parse_wareki("令和6年2月30日")
    with pytest.raises(WarekiError, match="not a 和暦 date"):
        parse_wareki("2024-01-02")
    with pytest.raises(WarekiError, match="expected a string"):
        parse_wareki(20240102)  # type: ignore[arg-type]
    with pytest.raises(WarekiError, match="unknown era name"):
        era_by_name("慶応")


def test_era_table_matches_domain() -> None:
    assert [(e.name, e.letter, e.code, e.start.isoformat()) for e in ERAS] == [
        ("明治", "M", 1, "1868-01-25"), ("大正", "T", 2, "1912-07-30"),
        ("昭和", "S", 3, "1926-12-25"), ("平成", "H", 4, "1989-01-08"),
        ("令和", "R", 5, "2019-05-01")]
