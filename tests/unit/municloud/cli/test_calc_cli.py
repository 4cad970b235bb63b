"""`municloud calc`: documented examples run, bad input exits 2 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app
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


# --- documented FY2026 examples, --lgcode, partial parameters, the schema ------------------------

def _expected(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


def test_documented_fy2026_resident_tax_example() -> None:
    result = run("resident-tax", str(EXAMPLES / "resident_tax_fy2026_claims.json"),
                 "--fiscal-year", "2026")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == _expected("resident_tax_fy2026_claims.out.json")
    assert out["donation_special_credit_capped"] is True and out["total"] == 125_000


def test_documented_fy2026_nhi_example_with_lgcode_and_partial_params() -> None:
    result = run("nhi-premium", str(EXAMPLES / "nhi_household_fy2026.json"), "--fiscal-year",
                 "2026", "--lgcode", "053031", "--params",
                 str(EXAMPLES / "params_override_medical_2026.json"))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == _expected("nhi_household_fy2026.out.json")
    # the partial override is echoed merged over the FY2026 defaults
    assert out["parameters"]["medical"] == {"income_rate_bp": 720, "per_member": 23_000,
                                            "per_household": 21_000, "cap": 670_000}
    assert out["parameters"]["child_support"]["cap"] == 30_000


def test_lgcode_uses_the_stack_municipality() -> None:
    with_stack = run("nhi-premium", str(EXAMPLES / "nhi_household_reduced.json"),
                     "--fiscal-year", "2024", "--lgcode", "053031")
    assert with_stack.exit_code == 0, with_stack.output
    from municloud.calc import nhi_premium
    from municloud_ops.dr.sla import load_stack_config

    (kosaka,) = [m for m in load_stack_config("dev", engines=False).municipalities if m.lgcode == "053031"]
    household = nhi_premium.NhiHousehold.model_validate_json(
        (EXAMPLES / "nhi_household_reduced.json").read_text("utf-8"))
    out = json.loads(with_stack.stdout)
    assert out["total"] == nhi_premium.compute(household, kosaka.params.nhi_for(2024), 2024).total
    assert out["parameters"] == kosaka.params.nhi_for(2024).model_dump(mode="json")
    assert out["total"] != _expected("nhi_household_reduced.out.json")["total"]  # not defaults
    missing_year = run("nhi-premium", str(EXAMPLES / "nhi_household_reduced.json"),
                       "--fiscal-year", "2026", "--lgcode", "053031")
    assert missing_year.exit_code == 2 and "no NHI parameters for fiscal year 2026" in (
        missing_year.stderr)
    unknown = run("resident-tax", str(EXAMPLES / "resident_tax_salary_family.json"),
                  "--lgcode", "053465", "--stack", "akita")
    assert unknown.exit_code == 0, unknown.output
    not_member = run("resident-tax", str(EXAMPLES / "resident_tax_salary_family.json"),
                     "--lgcode", "054640")   # an Akita town, not in the dev stack
    assert not_member.exit_code == 2 and "field --lgcode" in not_member.stderr


def test_params_echo_merges_a_partial_file(tmp_path: Path) -> None:
    result = run("params", "--params", str(EXAMPLES / "params_override_medical_2026.json"))
    assert result.exit_code == 0, result.output
    echoed = json.loads(result.stdout)
    assert echoed["nhi"]["2026"]["medical"]["income_rate_bp"] == 720
    assert echoed["nhi"]["2026"]["support"] == default_municipality_params("053031").nhi[
        2026].support.model_dump()
    bad = tmp_path / "bad.json"
    for text, field in (('{"nhi": {"2023": {}}}', "nhi.2023"),
                        ('{"nhi": {"2027": {}}}', "nhi.2027"),
                        ('{"rates": {}}', "rates")):
        bad.write_text(text, "utf-8")
        refused = run("params", "--params", str(bad))
        assert refused.exit_code == 2 and f"field {field}" in refused.stderr, refused.stderr


def test_unsupported_year_in_a_user_params_file_names_the_years(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"nhi": {"2023": {"medical": {"income_rate_bp": 700}}}}', "utf-8")
    refused = run("nhi-premium", str(EXAMPLES / "nhi_household_reduced.json"),
                  "--fiscal-year", "2024", "--params", str(path))
    assert refused.exit_code == 2
    assert "field nhi.2023: fiscal year 2023 is not supported; supported: [2024, 2025, 2026]" in (
        refused.stderr)
    path.write_text('{"nhi": {"2024": {"medical": {"income_rate_bp": 700}}}}', "utf-8")
    assert run("nhi-premium", str(EXAMPLES / "nhi_household_reduced.json"),
               "--fiscal-year", "2024", "--params", str(path)).exit_code == 0


def test_published_schema_is_the_generated_one() -> None:
    published = json.loads((EXAMPLES.parent / "calc-params.schema.json").read_text("utf-8"))
    result = run("params", "--schema")
    assert result.exit_code == 0 and json.loads(result.stdout) == published
    assert published["properties"]["schema_version"]["const"] == "2026.1"
