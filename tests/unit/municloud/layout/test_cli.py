"""`municloud layout validate`: exit codes and the report, area recognised from the header."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app
from municloud.layout import encode, load_layout
from layout_samples import ROWS, set_cell

pytestmark = pytest.mark.unit

runner = CliRunner()


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "juki.csv"
    path.write_bytes(data)
    return path


def test_valid_file_exits_0_and_area_is_recognised(tmp_path: Path) -> None:
    path = write(tmp_path, encode(load_layout("住民基本台帳"), ROWS, encoding="cp932"))
    result = runner.invoke(app, ["layout", "validate", str(path), "--encoding", "cp932"])
    assert result.exit_code == 0, result.output
    assert f"住民基本台帳 file valid: {len(ROWS)} rows (cp932)" in result.output


def test_invalid_file_exits_1_with_every_issue(tmp_path: Path) -> None:
    data = set_cell(encode(load_layout("住民基本台帳"), ROWS), 3, "性別", "9")
    data = set_cell(data, 7, "生年月日", "6010101")
    result = runner.invoke(app, ["layout", "validate", str(write(tmp_path, data))])
    assert result.exit_code == 1
    assert "line 3, item 性別: not a code of table 性別" in result.output
    assert "line 7, item 生年月日" in result.output


def test_json_report_and_explicit_wrong_area(tmp_path: Path) -> None:
    path = write(tmp_path, encode(load_layout("住民基本台帳"), ROWS))
    result = runner.invoke(app, ["layout", "validate", str(path), "--area", "個人住民税",
                                 "--format", "json"])
    assert result.exit_code == 1
    assert '"valid": false' in result.output and "header" in result.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["layout", "validate", str(tmp_path / "missing.csv")]).exit_code == 2
    path = write(tmp_path, b"")
    assert runner.invoke(app, ["layout", "validate", str(path), "--area", "戸籍"]).exit_code == 2
    assert runner.invoke(app, ["layout", "validate", str(path), "--encoding", "latin-1"]
                         ).exit_code == 2


def test_token_and_token_file_are_exclusive(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("t\n")
    common = ["layout", "export", "--area", "住民基本台帳", "--base-url", "http://127.0.0.1:9",
              "-o", str(tmp_path / "x.csv")]
    both = runner.invoke(app, [*common, "--token", "t", "--token-file", str(token_file)])
    neither = runner.invoke(app, common)
    assert both.exit_code == neither.exit_code == 2
    assert "exactly one of --token, --token-file" in both.output
    missing = runner.invoke(app, [*common, "--token-file", str(tmp_path / "none")])
    assert missing.exit_code == 2
    # allowed twin: the token file is read and the request is attempted (port 9: unreachable)
    assert runner.invoke(app, [*common, "--token-file", str(token_file)]).exit_code == 4
