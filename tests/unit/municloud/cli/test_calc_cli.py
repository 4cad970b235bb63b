"""`municloud calc`: documented examples run, bad input exits 2 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from municloud.cli.main import app
from municloud.params import default_municipality_params

pytestmark = pytest.mark.unit

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[4] / "docs" / "examples"


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, ["calc", *args], input=stdin)


def test_documented_resident_tax_example(tmp_path: Path) -> None:
    result = run("resident-tax", str(EXAMPLES / "resident_tax_salary_family.json"),
                 "--fiscal-year", "2025")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    expected = json.loads((EXAMPLES / "resident_tax_salary_family.out.json").read_text("utf-8"))
    assert out == expected


def test_documented_nhi_example() -> None:
    result = run("nhi-premium", str(EXAMPLES / "nhi_household_reduced.json"),
                 "--fiscal-year", "2024")
    assert result.exit_code == 0, result.output
    expected = json.loads((EXAMPLES / "nhi_household_reduced.out.json").read_text("utf-8"))
    assert json.loads(result.stdout) == expected


def test_stdin_and_params_file(tmp_path: Path) -> None:
    params = default_municipality_params("053031").model_dump(mode="json")
    params["resident_tax"]["municipal_per_capita"] = 3_500
    path = tmp_path / "params.json"
    path.write_text(json.dumps(params, ensure_ascii=False), "utf-8")
    declaration = json.dumps({"age": 40, "salary_income": 3_000_000})
    default = run("resident-tax", "-", stdin=declaration)
    custom = run("resident-tax", "-", "--params", str(path), stdin=declaration)
    assert default.exit_code == custom.exit_code == 0
    assert json.loads(custom.stdout)["total"] - json.loads(default.stdout)["total"] == 500


@pytest.mark.parametrize(("command", "payload", "field"), [
    ("resident-tax", {"age": 40, "salary_income": -1}, "salary_income"),
    ("resident-tax", {"age": 40, "capital_gains_income": 5}, "capital_gains_income"),
    ("resident-tax", {"age": 40, "widow": True, "single_parent": "mother"}, "widow"),
    ("nhi-premium", {"members": [{"birth_date": "1990-01-01"}]}, "members"),
    ("nhi-premium", {"members": [{"birth_date": "1990-02-30", "is_head": True}]},
     "members.0.birth_date"),
])
def test_bad_input_exits_2_naming_field(command: str, payload: dict[str, object],
                                        field: str) -> None:
    fiscal_year = "2026" if command == "resident-tax" else "2025"
    result = run(command, "-", "--fiscal-year", fiscal_year, stdin=json.dumps(payload))
    assert result.exit_code == 2
    assert f"field {field}" in result.stderr


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    result = run("resident-tax", "-", stdin="{not json")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    result = run("resident-tax", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "cannot read" in result.stderr


@pytest.mark.parametrize("command", ["resident-tax", "nhi-premium"])
@pytest.mark.parametrize(("fiscal_year", "refused"), [
    ("2023", True), ("2024", False), ("2026", False), ("2027", True)])
def test_unsupported_fiscal_years_exit_2(command: str, fiscal_year: str, refused: bool) -> None:
    source = ("resident_tax_salary_family.json" if command == "resident-tax"
              else "nhi_household_reduced.json")
    result = run(command, str(EXAMPLES / source), "--fiscal-year", fiscal_year)
    if refused:
        assert result.exit_code == 2, result.output
        assert "field fiscal_year" in result.stderr
        assert "supported: [2024, 2025, 2026]" in result.stderr
    else:
        assert result.exit_code == 0, result.output
