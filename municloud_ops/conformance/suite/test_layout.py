"""LAY-xxx: the intermediate standard layout endpoints of the unit (docs/layout.md)."""

from __future__ import annotations

import random

import httpx
import pytest

from municloud import ids
from municloud_ops.conformance.context import KitContext
from municloud_ops.conformance.expect import got
from municloud.layout import validate
from municloud.layout.definition import Calendar, ItemDef, ItemType, LayoutDef

EXPORT = "/api/v1/layout/export"
IMPORT = "/api/v1/layout/import"


def _export(client: httpx.Client, encoding: str) -> bytes:
    return _export_response(client, encoding).content


def _export_response(client: httpx.Client, encoding: str) -> httpx.Response:
    response = client.get(EXPORT, params={"encoding": encoding})
    assert response.status_code == 200, f"export ({encoding}) answered {got(response)}"
    return response


def _valid_rows(kit: KitContext, data: bytes, encoding: str) -> list[dict]:
    report, rows = validate(kit.layout, data, encoding=encoding)
    assert report.valid, f"{report.summary()}: " + "; ".join(map(str, report.issues[:5]))
    return rows


def _unchanged(kit: KitContext, before: bytes) -> None:
    """The municipality holds the same rows as before (compared as rows, so that only LAY-003
    judges byte determinism)."""
    rows = sorted(map(repr, _valid_rows(kit, _export(kit.client, "utf-8"), "utf-8")))
    assert rows == sorted(map(repr, _valid_rows(kit, before, "utf-8"))), (
        "data changed after a refused import")


def _issues(response: httpx.Response) -> list[dict]:
    assert response.status_code == 422, f"expected HTTP 422 with a report, got {got(response)}"
    try:
        return response.json()["report"]["issues"]
    except (ValueError, KeyError, TypeError):
        pytest.fail('422 body lacks {"report": {"issues": [...]}}')


def _post(kit: KitContext, data: bytes, encoding: str = "utf-8", **headers: str) -> httpx.Response:
    return kit.client.post(IMPORT, params={"encoding": encoding}, content=data,
                           headers={"Content-Type": "text/csv", **headers})


# --- the broken-row corpus: one cell of the first data row broken per validation rule ---------

def _first(layout: LayoutDef, wanted) -> ItemDef:
    found = [i for i in layout.items if wanted(i)]
    if not found:
        pytest.skip(f"not applicable: layout {layout.area} has no such item")
    return found[0]


def _bad_code(layout: LayoutDef, item: ItemDef) -> str:
    table = layout.code_tables[item.code_table or ""]
    return next(c for c in (str(n).zfill(item.length) for n in range(10 ** item.length))
                if c not in table)


def _bad_check_digit(value: str | None) -> str:
    good = value or ids.generate_my_number(random.Random(7))
    return good[:-1] + str((int(good[-1]) + 1) % 10)


RULES = {  # check id -> (item chooser, broken cell text from (layout, item, current text))
    "LAY-004": (lambda i: i.type is ItemType.NUMBER and i.fixed,
                lambda lay, i, cur: "X" * i.length),
    "LAY-009": (lambda i: i.check == "my_number",
                lambda lay, i, cur: _bad_check_digit(cur or None)),
    "LAY-010": (lambda i: i.type is ItemType.TEXT,
                lambda lay, i, cur: "字" * (i.length + 1)),
    "LAY-011": (lambda i: i.type is ItemType.CODE and i.required,
                lambda lay, i, cur: _bad_code(lay, i)),
    "LAY-012": (lambda i: i.calendar is Calendar.WAREKI and i.required,
                lambda lay, i, cur: "5061340"),  # 令和6年13月40日
    "LAY-013": (lambda i: i.type is ItemType.TEXT and i.required,
                lambda lay, i, cur: ""),
}


def _rows_of(kit: KitContext, before: bytes) -> list[bytes]:
    lines = before.split(b"\r\n")[:-1]
    if len(lines) < 2:
        pytest.fail("the endpoint's municipality holds no data: the kit needs at least one "
                    "exported row (docs/conformance.md 'What the vendor prepares')")
    return lines


def _with_cell(line: bytes, index: int, cell: bytes) -> bytes:
    cells = line[1:-1].split(b'","')
    cells[index] = cell.replace(b'"', b'""')
    return b'"' + b'","'.join(cells) + b'"'


def _refused_naming(kit: KitContext, before: bytes, broken: bytes, item: ItemDef,
                    encoding: str = "utf-8") -> None:
    issues = _issues(_post(kit, broken, encoding))
    assert any(i.get("line") == 2 and i.get("item") == item.name for i in issues), (
        f"report does not name line 2, item {item.name}: {issues[:5]}")
    _unchanged(kit, before)


def _broken_row_check(kit: KitContext, check: str) -> None:
    wanted, breaker = RULES[check]
    item = _first(kit.layout, wanted)
    before = _export(kit.client, "utf-8")
    lines = _rows_of(kit, before)
    index = kit.layout.items.index(item)
    current = lines[1][1:-1].split(b'","')[index].decode("utf-8")
    lines[1] = _with_cell(lines[1], index, breaker(kit.layout, item, current).encode("utf-8"))
    _refused_naming(kit, before, b"\r\n".join(lines) + b"\r\n", item)


@pytest.mark.check("LAY-001")
def test_utf8_export_is_valid(kit: KitContext) -> None:
    data = _export(kit.client, "utf-8")
    assert not data.startswith(b"\xef\xbb\xbf"), "UTF-8 export starts with a BOM (none is written)"
    _valid_rows(kit, data, "utf-8")


@pytest.mark.check("LAY-002")
def test_cp932_export_is_valid_with_the_same_rows(kit: KitContext) -> None:
    rows = _valid_rows(kit, _export(kit.client, "cp932"), "cp932")
    same = _valid_rows(kit, _export(kit.client, "utf-8"), "utf-8")
    assert sorted(map(repr, rows)) == sorted(map(repr, same)), (
        "cp932 and utf-8 exports hold different rows")


@pytest.mark.check("LAY-003")
def test_export_is_byte_deterministic(kit: KitContext) -> None:
    assert _export(kit.client, "utf-8") == _export(kit.client, "utf-8"), (
        "two exports of unchanged data differ")


@pytest.mark.check("LAY-004")
def test_file_with_a_broken_row_is_refused_whole(kit: KitContext) -> None:
    _broken_row_check(kit, "LAY-004")


@pytest.mark.check("LAY-005")
def test_round_trip_into_an_empty_municipality(kit: KitContext) -> None:
    target = kit.import_client()
    assert target is not None
    if kit.options.import_reset_command:
        try:
            print(kit.reset_import_target())
        except (OSError, RuntimeError) as exc:
            pytest.fail(str(exc))
    with target:
        source = {enc: _export(kit.client, enc) for enc in ("utf-8", "cp932")}
        assert not _valid_rows(kit, _export(target, "utf-8"), "utf-8"), (
            "the import target is not an empty municipality (--import-reset-command empties it "
            "before the check)")
        response = target.post(IMPORT, params={"encoding": "cp932"}, content=source["cp932"],
                               headers={"Content-Type": "text/csv"})
        assert response.status_code == 200, f"import answered {got(response)}"
        for encoding, data in source.items():
            assert _export(target, encoding) == data, (
                f"re-export ({encoding}) differs from the original export")


@pytest.mark.check("LAY-006")
def test_import_into_a_municipality_with_data_is_refused(kit: KitContext) -> None:
    before = _export(kit.client, "utf-8")
    _rows_of(kit, before)
    response = _post(kit, before)
    assert response.status_code == 409, f"expected HTTP 409 not_empty, got {got(response)}"
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        pytest.fail(f'409 body lacks {{"error": {{"code"}}}}: {got(response)}')
    assert code == "not_empty", f"expected error code not_empty, got {code!r}"
    _unchanged(kit, before)


@pytest.mark.check("LAY-007")
def test_export_row_count_header(kit: KitContext) -> None:
    rows = len(_valid_rows(kit, _export(kit.client, "utf-8"), "utf-8"))
    for encoding in ("utf-8", "cp932"):
        response = _export_response(kit.client, encoding)
        declared = response.headers.get("x-layout-rows")
        assert declared == str(rows), (
            f"{encoding} export: X-Layout-Rows is {declared!r}, the file has {rows} data rows")


@pytest.mark.check("LAY-008")
def test_import_with_a_wrong_row_count_header_is_refused(kit: KitContext) -> None:
    before = _export(kit.client, "utf-8")
    rows = len(_rows_of(kit, before)) - 1
    _issues(_post(kit, before, **{"X-Layout-Rows": str(rows + 1)}))
    _unchanged(kit, before)


@pytest.mark.check("LAY-009")
def test_wrong_check_digit_is_refused(kit: KitContext) -> None:
    _broken_row_check(kit, "LAY-009")


@pytest.mark.check("LAY-010")
def test_overlong_text_is_refused(kit: KitContext) -> None:
    _broken_row_check(kit, "LAY-010")


@pytest.mark.check("LAY-011")
def test_value_outside_the_code_table_is_refused(kit: KitContext) -> None:
    _broken_row_check(kit, "LAY-011")


@pytest.mark.check("LAY-012")
def test_impossible_wareki_date_is_refused(kit: KitContext) -> None:
    _broken_row_check(kit, "LAY-012")


@pytest.mark.check("LAY-013")
def test_empty_required_item_is_refused(kit: KitContext) -> None:
    _broken_row_check(kit, "LAY-013")


@pytest.mark.check("LAY-014")
def test_byte_invalid_in_the_encoding_is_refused(kit: KitContext) -> None:
    item = _first(kit.layout, lambda i: i.type is ItemType.TEXT and i.required)
    before = _export(kit.client, "utf-8")
    lines = _rows_of(kit, before)
    lines[1] = _with_cell(lines[1], kit.layout.items.index(item), b"\xff\xfe")
    _refused_naming(kit, before, b"\r\n".join(lines) + b"\r\n", item)
