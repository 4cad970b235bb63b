"""Hostile CSV layout files (中間標準レイアウト) against `municloud layout validate` and the codec:
wrong encodings, BOM games, ragged rows, formula injection, huge fields, control characters,
broken identifiers. Each is refused with exit code 1 (every issue listed, 個人番号 never echoed)
within bounded time and memory, and `decode` (what an importer calls) yields no rows."""

from __future__ import annotations

import random
from datetime import date

import pytest
from typer.testing import CliRunner

from municloud import ids
from municloud_ops.cli.main import app as cli
from municloud.layout import LayoutError, decode, encode, load_layout
from security_support import bounded

pytestmark = [pytest.mark.unit, pytest.mark.security]

RESIDENTS = load_layout("住民基本台帳")
LGCODE = "053031"
MY_NUMBER = ids.generate_my_number(random.Random(7))


def _row(serial: int, **over) -> dict:
    row = {
        "atena_number": ids.new_atena_number(LGCODE, serial),
        "household_number": ids.new_household_number(LGCODE, serial),
        "resident_record_code": ids.resident_record_code_for_serial(LGCODE, serial),
        "my_number": MY_NUMBER if serial == 1 else ids.generate_my_number(random.Random(serial + 100)),
        "family_name": "鈴木", "given_name": "一郎", "family_name_kana": "スズキ",
        "given_name_kana": "イチロウ", "birth_date": date(1970, 5, 5), "sex": "1",
        "relationship": "01", "resident_since": date(2000, 4, 1),
        "address": "秋田県鹿角郡小坂町小坂１番地", "address_since": date(2000, 4, 1),
        "notified_on": date(2000, 4, 3), "previous_address": None, "move_reason": "01",
        "moved_on": date(2000, 4, 1), "status": "1",  # 住民区分 (required since layout mc-1.0)
    }
    row.update(over)
    return row


VALID = encode(RESIDENTS, [_row(n) for n in range(1, 4)])
HEADER, FIRST, *REST = VALID.split(b"\r\n")


def _with_cell(item_name: str, text: str, line: bytes = FIRST) -> bytes:
    cells = line.decode()[1:-1].split('","')
    cells[RESIDENTS.header.index(item_name)] = text
    new_line = ('"' + '","'.join(cells) + '"').encode()
    return b"\r\n".join([HEADER, new_line, *REST])


HOSTILE = {
    "cp932-bytes-read-as-utf8": encode(RESIDENTS, [_row(1)], encoding="cp932"),
    "utf8-bom-declared-cp932": b"\xef\xbb\xbf" + VALID,
    "utf16-le-bom": "\ufeff".encode("utf-16-le") + VALID.decode().encode("utf-16-le"),
    "double-bom": b"\xef\xbb\xbf\xef\xbb\xbf" + VALID,
    "bom-inside-a-cell": _with_cell("氏", "\ufeff鈴木"),
    "ragged-row-short": b"\r\n".join([HEADER, FIRST.rsplit(b",", 2)[0], *REST]),
    "ragged-row-long": b"\r\n".join([HEADER, FIRST + b',"extra"', *REST]),
    "formula-cmd-pipe": _with_cell("氏", "=cmd|' /C calc'!A0"),
    "formula-plus": _with_cell("名", "+1+1"),
    "formula-minus": _with_cell("名", "-2+3"),
    "formula-at": _with_cell("名", "@SUM(A1:A2)"),
    "formula-tab-lead": _with_cell("名", "\t=1+1"),
    "formula-hyperlink": _with_cell("住所", '=HYPERLINK("http://127.0.0.1:9/x","click")'),
    "huge-field-1MiB": _with_cell("住所", "あ" * (1 << 20)),
    "field-over-item-length": _with_cell("氏", "長" * 31),
    "embedded-line-break": _with_cell("住所", "小坂\r\n=1+1"),
    "nul-byte": _with_cell("氏", "鈴\x00木"),
    "escape-sequence": _with_cell("氏", "\x1b[31m鈴木"),
    "unbalanced-quote": b"\r\n".join([HEADER, FIRST[:-1], *REST]),
    "header-only-reordered": b'"' + b'","'.join(reversed(HEADER[1:-1].split(b'","'))) + b'"\r\n',
    "empty-file": b"",
    "my-number-bad-check-digit": _with_cell("個人番号", MY_NUMBER[:11] + str((int(MY_NUMBER[11]) + 1) % 10)),
    "my-number-full-width": _with_cell("個人番号", MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
    "my-number-too-short": _with_cell("個人番号", MY_NUMBER[:11]),
    "atena-number-foreign-prefix": _with_cell("宛名番号", "999999" + "000000001"),
    "duplicate-atena-number": b"\r\n".join([HEADER, FIRST, FIRST]),
    "date-injection": _with_cell("生年月日", "1' OR '1'='1"),
    "code-not-in-table": _with_cell("性別", "9"),
}

# Cases that declare an encoding other than utf-8 (the BOM game: a UTF-8 BOM on a "cp932" file).
DECLARED = {"utf8-bom-declared-cp932": "cp932"}


def _validate_cli(tmp_path, data: bytes, encoding: str = "utf-8"):
    path = tmp_path / "hostile.csv"
    path.write_bytes(data)
    with bounded(max_seconds=5.0, max_peak_bytes=128 * 1024 * 1024):
        result = CliRunner().invoke(cli, ["layout", "validate", "--area", "住民基本台帳",
                                          "--encoding", encoding, str(path)])
    return result


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_layout_file_is_refused(tmp_path, case):
    data, encoding = HOSTILE[case], DECLARED.get(case, "utf-8")
    result = _validate_cli(tmp_path, data, encoding)
    assert result.exit_code == 1, result.output[-500:]
    assert "invalid" in result.output or "empty" in result.output
    assert MY_NUMBER not in result.output, "a 個人番号 was echoed in the report"
    with bounded(max_seconds=5.0, max_peak_bytes=128 * 1024 * 1024):
        with pytest.raises(LayoutError) as info:
            decode(RESIDENTS, data, encoding=encoding)  # an importer gets no rows at all
    assert info.value.report.issues


@pytest.mark.attack("hostile input")
def test_file_over_the_size_limit_is_refused_before_parsing(monkeypatch):
    """The size limit is checked first (here lowered so the test stays small)."""
    from municloud.layout import codec

    monkeypatch.setattr(codec, "MAX_FILE_BYTES", len(VALID) - 1)
    with bounded(max_seconds=1.0):
        report, rows = codec.validate(RESIDENTS, VALID)
    assert not report.valid and rows == [] and "limit" in report.issues[0].reason


@pytest.mark.twin("hostile input")
@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_twin_valid_file_is_accepted(tmp_path, encoding):
    data = encode(RESIDENTS, [_row(n) for n in range(1, 4)], encoding=encoding)
    result = _validate_cli(tmp_path, data, encoding)
    assert result.exit_code == 0, result.output[-500:]
    assert len(decode(RESIDENTS, data, encoding=encoding)) == 3


@pytest.mark.twin("hostile input")
@pytest.mark.parametrize("text", ["'; DROP TABLE residents; --", "$(rm -rf /)", "`id`", "=1+1", "@here"])
def test_twin_sql_shell_and_formula_like_names_travel_as_inert_data(text):
    """Free text is data: SQL/shell-like names round-trip verbatim; formula leads are escaped
    with ' on export and restored on import, so the written file cannot trigger a formula."""
    data = encode(RESIDENTS, [_row(1, family_name=text[:30])])
    line = data.split(b"\r\n")[1].decode()
    assert '"=' not in line and '"@' not in line
    assert decode(RESIDENTS, data)[0]["family_name"] == text[:30]
