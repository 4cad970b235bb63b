"""CSV codec of the intermediate standard layout: determinism, round trip, refusal of bad files."""

from __future__ import annotations

import time
from datetime import date

import pytest

from layout_samples import RESIDENTS, ROWS, lines_of, resident, set_cell

from municloud.layout import LayoutError, decode, encode, load_layout, validate

pytestmark = pytest.mark.unit


def test_encode_is_byte_deterministic_with_fixed_format() -> None:
    first = encode(RESIDENTS, ROWS)
    assert first == encode(RESIDENTS, [dict(r) for r in ROWS])
    lines = lines_of(first)
    assert lines[0].startswith('"宛名番号","世帯番号","住民票コード"')
    assert lines[-1] == "" and len(lines) == len(ROWS) + 2  # header + rows + final CRLF
    assert b"\n" not in first.replace(b"\r\n", b"")
    assert not first.startswith(b"\xef\xbb\xbf")
    assert lines[1].count('"') == 2 * len(RESIDENTS.items)  # every cell quoted


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_round_trip_is_byte_identical(encoding: str) -> None:
    data = encode(RESIDENTS, ROWS, encoding=encoding)
    rows = decode(RESIDENTS, data, encoding=encoding)
    assert rows == ROWS
    assert encode(RESIDENTS, rows, encoding=encoding) == data


def test_wareki_dates_written_as_era_code_and_yymmdd() -> None:
    data = encode(RESIDENTS, [resident(1, birth_date=date(2024, 1, 2))])
    assert '"5060102"' in lines_of(data)[1]


def test_one_broken_row_refuses_the_whole_file_and_names_line_and_item() -> None:
    data = encode(RESIDENTS, ROWS)
    broken = set_cell(data, 2, "生年月日", "9260101")  # era code 9 does not exist
    with pytest.raises(LayoutError) as caught:
        decode(RESIDENTS, broken)
    report = caught.value.report
    assert not report.valid and report.rows == len(ROWS)
    assert [(i.line, i.item) for i in report.issues] == [(2, "生年月日")]
    assert decode(RESIDENTS, data) == ROWS  # allowed twin


def test_every_bad_row_is_reported() -> None:
    data = set_cell(encode(RESIDENTS, ROWS), 4, "性別", "X")
    data = set_cell(data, 6, "氏", "")
    data = set_cell(data, 6, "異動日", "5019999")
    lines = lines_of(data)
    lines[9] = lines[9].rsplit(",", 2)[0]
    report, _ = validate(RESIDENTS, "\r\n".join(lines).encode())
    assert [(i.line, i.item) for i in report.issues] == [
        (4, "性別"), (6, "氏"), (6, "異動日"), (10, None)]
    assert report.rows == len(ROWS)


def test_my_number_never_appears_in_a_report() -> None:
    number = ROWS[0]["my_number"]
    assert isinstance(number, str)
    wrong = number[:11] + str((int(number[11]) + 1) % 10)
    data = encode(RESIDENTS, ROWS).replace(number.encode(), wrong.encode())
    report, _ = validate(RESIDENTS, data)
    assert [(i.line, i.item) for i in report.issues] == [(2, "個人番号")]
    assert wrong not in report.to_text() and wrong not in report.to_json()


def test_export_refuses_rows_that_break_the_layout() -> None:
    with pytest.raises(LayoutError) as caught:
        encode(RESIDENTS, [resident(1), resident(2, sex="9", family_name="x" * 31)])
    assert {(i.line, i.item) for i in caught.value.report.issues} == {(3, "性別"), (3, "氏")}


def test_cp932_export_names_the_unwritable_character() -> None:
    rows = [resident(1), resident(2, family_name="𠮷田")]  # 𠮷 is outside cp932
    with pytest.raises(LayoutError) as caught:
        encode(RESIDENTS, rows, encoding="cp932")
    assert [(i.line, i.item) for i in caught.value.report.issues] == [(3, "氏")]
    assert decode(RESIDENTS, encode(RESIDENTS, rows), encoding="utf-8")[1]["family_name"] == "𠮷田"


@pytest.mark.parametrize("written,declared", [("cp932", "utf-8"), ("utf-8", "cp932")])
def test_wrong_encoding_is_a_clear_file_error(written: str, declared: str) -> None:
    report, rows = validate(RESIDENTS, encode(RESIDENTS, ROWS, encoding=written),
                            encoding=declared)
    assert not report.valid and rows == []
    assert report.issues[0].item is None
    assert "encoding" in report.issues[0].reason


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_formula_cells_are_refused_on_import(cell: str) -> None:
    data = encode(RESIDENTS, ROWS).replace('"佐藤"'.encode(), f'"{cell}"'.encode(), 1)
    report, _ = validate(RESIDENTS, data)
    assert [(i.line, i.item) for i in report.issues] == [(2, "氏")]
    assert "formula" in report.issues[0].reason


@pytest.mark.parametrize("value", ["=HYPERLINK(1)", "-元", "'quoted", "@home"])
def test_formula_like_values_are_neutralised_on_export_and_kept(value: str) -> None:
    data = encode(RESIDENTS, [resident(1, address=value)])
    cell = lines_of(data)[1].split('","')[12]
    assert cell == "'" + value
    assert decode(RESIDENTS, data)[0]["address"] == value


def test_ragged_rows_and_blank_lines_are_reported() -> None:
    lines = lines_of(encode(RESIDENTS, ROWS[:3]))
    lines.insert(2, "")
    lines[3] += ',"extra"'
    report, _ = validate(RESIDENTS, "\r\n".join(lines).encode())
    assert [(i.line, i.item) for i in report.issues] == [(3, None), (4, None)]
    assert "cells" in report.issues[1].reason


def test_huge_field_is_refused_quickly() -> None:
    data = encode(RESIDENTS, ROWS).replace('"佐藤"'.encode(), b'"' + b"A" * 5_000_000 + b'"', 1)
    started = time.perf_counter()
    report, _ = validate(RESIDENTS, data)
    assert time.perf_counter() - started < 2.0
    assert not report.valid and report.issues[0].line == 2


def test_line_break_inside_a_cell_is_refused() -> None:
    data = encode(RESIDENTS, ROWS).replace('"佐藤"'.encode(), '"佐\r\n藤"'.encode(), 1)
    report, _ = validate(RESIDENTS, data)
    assert [(i.line, i.item) for i in report.issues] == [(2, None)]


def test_bom_games() -> None:
    data = encode(RESIDENTS, ROWS)
    assert decode(RESIDENTS, encode(RESIDENTS, ROWS, bom=True)) == ROWS  # allowed twin
    for hostile, declared in [(b"\xef\xbb\xbf" + data, "cp932"),
                              (b"\xff\xfe" + data, "utf-8"),
                              (b"\xef\xbb\xbf\xef\xbb\xbf" + data, "utf-8")]:
        report, _ = validate(RESIDENTS, hostile, encoding=declared)
        assert not report.valid and report.issues[0].line == 1
    inner = data.replace('"佐藤"'.encode(), '"\ufeff佐藤"'.encode(), 1)
    report, _ = validate(RESIDENTS, inner)
    assert [(i.line, i.item) for i in report.issues] == [(2, "氏")]


def test_header_of_another_area_is_refused() -> None:
    report, _ = validate(load_layout("国民健康保険"), encode(RESIDENTS, ROWS))
    assert [(i.line, i.item) for i in report.issues] == [(1, None)]
    assert "header" in report.issues[0].reason


def test_duplicate_key_is_reported_with_first_line() -> None:
    report, _ = validate(RESIDENTS, encode(RESIDENTS, ROWS[:2])
                         + encode(RESIDENTS, ROWS[:1]).split(b"\r\n", 1)[1])
    assert {(i.line, i.item) for i in report.issues} >= {(4, "宛名番号"), (4, "住民票コード")}
    assert "line 2" in report.issues[0].reason


def test_empty_file_is_refused() -> None:
    report, _ = validate(RESIDENTS, b"")
    assert not report.valid and "empty" in report.issues[0].reason


def test_five_thousand_rows_round_trip_in_bounded_time() -> None:
    # Generous bound (the machine is shared): catches quadratic behaviour, not jitter.
    rows = [resident(n) for n in range(1, 5_001)]
    started = time.perf_counter()
    data = encode(RESIDENTS, rows, encoding="cp932")
    assert decode(RESIDENTS, data, encoding="cp932") == rows
    assert time.perf_counter() - started < 20.0


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_an_undecodable_byte_names_its_line_and_item(encoding: str) -> None:
    data = encode(RESIDENTS, ROWS[:3], encoding=encoding)
    lines = data.split(b"\r\n")
    cells = lines[2][1:-1].split(b'","')
    cells[RESIDENTS.header.index("住所")] = {"utf-8": b"\xff", "cp932": b"\x81\x7f"}[encoding]
    lines[2] = b'"' + b'","'.join(cells) + b'"'
    report, _ = validate(RESIDENTS, b"\r\n".join(lines), encoding=encoding)
    assert [(i.line, i.item) for i in report.issues] == [(3, "住所")]
    twin, _ = validate(RESIDENTS, data, encoding=encoding)
    assert twin.valid
