"""LAY-xxx: the intermediate standard layout endpoints of the unit."""

from __future__ import annotations

import httpx
import pytest

from municloud_ops.conformance.context import KitContext
from municloud.layout import validate

EXPORT = "/api/v1/layout/export"
IMPORT = "/api/v1/layout/import"


def _export(client: httpx.Client, encoding: str) -> bytes:
    response = client.get(EXPORT, params={"encoding": encoding})
    assert response.status_code == 200, f"export ({encoding}) answered HTTP {response.status_code}"
    return response.content


def _valid_rows(kit: KitContext, data: bytes, encoding: str) -> list[dict]:
    report, rows = validate(kit.layout, data, encoding=encoding)
    assert report.valid, f"{report.summary()}: " + "; ".join(map(str, report.issues[:5]))
    return rows


@pytest.mark.check("LAY-001")
def test_utf8_export_is_valid(kit: KitContext) -> None:
    _valid_rows(kit, _export(kit.client, "utf-8"), "utf-8")


@pytest.mark.check("LAY-002")
def test_cp932_export_is_valid_with_the_same_rows(kit: KitContext) -> None:
    rows = _valid_rows(kit, _export(kit.client, "cp932"), "cp932")
    assert rows == _valid_rows(kit, _export(kit.client, "utf-8"), "utf-8"), (
        "cp932 and utf-8 exports hold different rows")


@pytest.mark.check("LAY-003")
def test_export_is_byte_deterministic(kit: KitContext) -> None:
    assert _export(kit.client, "utf-8") == _export(kit.client, "utf-8"), (
        "two exports of unchanged data differ")


@pytest.mark.check("LAY-004")
def test_file_with_a_broken_row_is_refused_whole(kit: KitContext) -> None:
    before = _export(kit.client, "utf-8")
    lines = before.split(b"\r\n")[:-1]
    first_item = kit.layout.items[0]
    cells = ['"ABC"'] + ['""'] * (len(kit.layout.items) - 1)  # 数字 item with letters
    broken = b"\r\n".join([*lines, ",".join(cells).encode()]) + b"\r\n"
    broken_line = len(lines) + 1
    response = kit.client.post(IMPORT, params={"encoding": "utf-8"}, content=broken,
                               headers={"Content-Type": "text/csv"})
    assert response.status_code == 422, f"expected HTTP 422, got {response.status_code}"
    try:
        issues = response.json()["report"]["issues"]
    except (ValueError, KeyError, TypeError):
        pytest.fail('422 body lacks {"report": {"issues": [...]}}')
    assert any(i.get("line") == broken_line and i.get("item") == first_item.name
               for i in issues), f"report does not name line {broken_line}, item {first_item.name}"
    assert _export(kit.client, "utf-8") == before, "data changed after a refused import"


@pytest.mark.check("LAY-005")
def test_round_trip_into_an_empty_municipality(kit: KitContext) -> None:
    target = kit.import_client()
    assert target is not None
    with target:
        source = {enc: _export(kit.client, enc) for enc in ("utf-8", "cp932")}
        assert not _valid_rows(kit, _export(target, "utf-8"), "utf-8"), (
            "the import target is not an empty municipality")
        response = target.post(IMPORT, params={"encoding": "cp932"}, content=source["cp932"],
                               headers={"Content-Type": "text/csv"})
        assert response.status_code == 200, f"import answered HTTP {response.status_code}"
        for encoding, data in source.items():
            assert _export(target, encoding) == data, (
                f"re-export ({encoding}) differs from the original export")
