"""`municloud ids`: exit 0 + "valid", exit 1 + why, never echoing a 個人番号."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app

pytestmark = pytest.mark.unit

runner = CliRunner()


def test_valid_my_number() -> None:
    result = runner.invoke(app, ["ids", "check-mynumber", "123456789018"])
    assert result.exit_code == 0
    assert result.output.strip() == "valid"


@pytest.mark.parametrize(("number", "why"), [
    ("123456789017", "check digit mismatch"),
    ("1234567890188", "got 13 characters"),
    ("１２３４５６７８９０１８", "full-width"),
    ("1234-5678-9018", "hyphen"),
])
def test_invalid_my_number_not_echoed(number: str, why: str) -> None:
    result = runner.invoke(app, ["ids", "check-mynumber", number])
    assert result.exit_code == 1
    assert why in result.output
    assert number not in result.output
    assert number.replace("-", "")[:8] not in result.output


@pytest.mark.parametrize(("code", "exit_code", "text"), [
    ("053031", 0, "valid"), ("130001", 0, "valid"),
    ("053032", 1, "check digit mismatch"), ("05303", 1, "got 5 characters")])
def test_check_lgcode(code: str, exit_code: int, text: str) -> None:
    result = runner.invoke(app, ["ids", "check-lgcode", code])
    assert result.exit_code == exit_code
    assert text in result.output
