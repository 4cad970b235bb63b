"""Rules between items (requires / required_with) and the row key, on the 個人住民税 layout;
the tax mapping's 扶養親族 micro-format."""

from __future__ import annotations

from datetime import date

import pytest

from municloud import ids
from municloud.layout import LayoutError, encode, load_layout, validate
from services.tax.layout_api import format_dependants, parse_dependants

pytestmark = pytest.mark.unit

TAX = load_layout("個人住民税")


def taxpayer(serial: int, **declaration: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(TAX.keys)
    row.update(atena_number=ids.new_atena_number("053031", serial),
               household_number=ids.new_household_number("053031", serial),
               family_name="田中", given_name="実", birth_date=date(1960, 2, 29), sex="1",
               relationship="世帯主", address="秋田県鹿角郡小坂町小坂１", status="1")
    row.update(declaration)
    return row


DECLARED = dict(fiscal_year=2025, age=64, salary_income=3_000_000, pension_income=0,
                other_income=0, social_insurance=400_000, life_insurance=0,
                special_non_taxable="0", dependants="12:0:0;78:0:1")


def test_valid_rows_with_and_without_a_declaration() -> None:
    rows = [taxpayer(1), taxpayer(2, **DECLARED), taxpayer(2, **{**DECLARED, "fiscal_year": 2026})]
    report, decoded = validate(TAX, encode(TAX, rows))
    assert report.valid, report.to_text()
    assert decoded == rows


def with_cells(data: bytes, changes: dict[tuple[int, str], str]) -> bytes:
    lines = data.decode().split("\r\n")
    for (line, item), text in changes.items():
        cells = lines[line - 1][1:-1].split('","')
        cells[TAX.header.index(item)] = text
        lines[line - 1] = '"' + '","'.join(cells) + '"'
    return "\r\n".join(lines).encode()


def test_items_that_need_another_item() -> None:
    valid = encode(TAX, [taxpayer(9), taxpayer(1), taxpayer(2, **DECLARED),
                         taxpayer(3, **DECLARED)])
    data = with_cells(valid, {(3, "年齢"): "40",  # 年齢 without 年度
                              (4, "給与収入"): "",  # 年度 without 給与収入
                              (5, "年税額"): "5000"})  # 年税額 without its figures
    report, _ = validate(TAX, data)
    found = {(i.line, i.item) for i in report.issues}
    assert (3, "年齢") in found and (4, "給与収入") in found
    assert {(5, "合計所得金額"), (5, "課税総所得金額"), (5, "市町村民税額")} <= found
    assert not any(i.line == 2 for i in report.issues)
    assert "only allowed when 年度 is given" in report.to_text()
    assert validate(TAX, valid)[0].valid  # allowed twin


def test_same_taxpayer_and_year_twice_is_refused() -> None:
    rows = [taxpayer(2, **DECLARED), taxpayer(2, **DECLARED)]
    with pytest.raises(LayoutError) as caught:
        encode(TAX, rows)
    assert "line 3, item 宛名番号: duplicate 宛名番号+年度 of line 2" in str(caught.value)
    report, _ = validate(TAX, encode(TAX, rows[:1]) + encode(TAX, rows[1:]).split(b"\r\n", 1)[1])
    assert [(i.line, i.item) for i in report.issues] == [(3, "宛名番号")]


def test_dependants_micro_format_round_trips_and_refuses_garbage() -> None:
    dependants = parse_dependants("12:0:0;78:480000:1")
    assert [(d.age, d.total_income, d.cohabiting_parent) for d in dependants] == [
        (12, 0, False), (78, 480_000, True)]
    assert format_dependants(dependants) == "12:0:0;78:480000:1"
    assert parse_dependants(None) == [] and format_dependants([]) is None
    for bad in ("12:0", "12:0:2", "１２:0:0", "12:0:0;;"):
        with pytest.raises(ValueError, match="年齢:合計所得金額:同居老親"):
            parse_dependants(bad)
