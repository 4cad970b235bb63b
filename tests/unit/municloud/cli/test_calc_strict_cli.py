"""`municloud calc` refuses hostile input with exit 2 naming the field; each refusal has an
accepted twin that differs only in the hostile part (so a check that can never fail shows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app

pytestmark = pytest.mark.unit

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[4] / "docs" / "examples"


def calc(*args: str, stdin: str | bytes | None = None):
    return runner.invoke(app, ["calc", *args], input=stdin)


def resident(text: str | bytes, *extra: str):
    return calc("resident-tax", "-", "--fiscal-year", "2025", *extra, stdin=text)


def nhi(text: str | bytes, *extra: str):
    return calc("nhi-premium", "-", "--fiscal-year", "2025", *extra, stdin=text)


# (kind, command, hostile JSON text, accepted twin, field named in the error)
CASES = [
    ("string for an amount", resident, '{"age": 40, "salary_income": "4370000"}',
     '{"age": 40, "salary_income": 4370000}', "salary_income"),
    ("float for an amount", resident, '{"age": 40, "salary_income": 4370000.0}',
     '{"age": 40, "salary_income": 4370000}', "salary_income"),
    ("boolean for an age", resident, '{"age": true}', '{"age": 1}', "age"),
    ("string for a boolean", resident, '{"age": 40, "widow": "yes"}',
     '{"age": 40, "widow": true}', "widow"),
    ("integer for a boolean", nhi, '{"members": [{"birth_date": "1980-01-01", "is_head": 1}]}',
     '{"members": [{"birth_date": "1980-01-01", "is_head": true}]}', "members.0.is_head"),
    ("integer as a date", nhi, '{"members": [{"birth_date": 315532800, "is_head": true}]}',
     '{"members": [{"birth_date": "1980-01-01", "is_head": true}]}', "members.0.birth_date"),
    ("duplicate key", resident, '{"age": 40, "salary_income": 1, "salary_income": 4370000}',
     '{"age": 40, "salary_income": 4370000}', "salary_income"),
    ("duplicate nested key", resident, '{"age": 40, "spouse": {"age": 40, "age": 41}}',
     '{"age": 40, "spouse": {"age": 41}}', "spouse.age"),
    ("NaN", resident, '{"age": 40, "salary_income": NaN}', '{"age": 40, "salary_income": 0}',
     "salary_income"),
    ("Infinity", resident, '{"age": 40, "other_income": Infinity}',
     '{"age": 40, "other_income": 0}', "other_income"),
    ("huge number", resident, '{"age": 40, "salary_income": 100000000001}',
     '{"age": 40, "salary_income": 100000000000}', "salary_income"),
    ("very huge number", resident, '{"age": 40, "salary_income": 1' + "0" * 40 + "}",
     '{"age": 40, "salary_income": 1' + "0" * 9 + "}", "salary_income"),
    ("negative amount", resident, '{"age": 40, "social_insurance_paid": -1}',
     '{"age": 40, "social_insurance_paid": 0}', "social_insurance_paid"),
    ("negative donation", resident, '{"age": 40, "hometown_donations": -10000}',
     '{"age": 40, "hometown_donations": 10000}', "hometown_donations"),
    ("unknown field", resident, '{"age": 40, "bonus": 5}', '{"age": 40}', "bonus"),
    ("unknown nested field", resident, '{"age": 40, "medical_expenses": {"paid": 1, "x": 1}}',
     '{"age": 40, "medical_expenses": {"paid": 1}}', "medical_expenses.x"),
    ("full-width digits in a string", resident, '{"age": 40, "salary_income": "４３７００００"}',
     '{"age": 40, "salary_income": 4370000}', "salary_income"),
    ("full-width digits in a date", nhi, '{"members": [{"birth_date": "１９８０-01-01", '
     '"is_head": true}]}', '{"members": [{"birth_date": "1980-01-01", "is_head": true}]}',
     "members.0.birth_date"),
    ("out-of-range age", resident, '{"age": 131}', '{"age": 130}', "age"),
]


@pytest.mark.parametrize(("kind", "command", "hostile", "twin", "field"), CASES,
                         ids=[c[0] for c in CASES])
def test_hostile_input_exits_2_naming_the_field(kind, command, hostile, twin, field) -> None:
    refused = command(hostile)
    assert refused.exit_code == 2, (kind, refused.output)
    assert f"field {field}" in refused.stderr, refused.stderr
    accepted = command(twin)
    assert accepted.exit_code == 0, (kind, accepted.output)
    json.loads(accepted.stdout)


def test_full_width_digits_as_a_bare_token_are_not_json() -> None:
    refused = resident('{"age": ４０}')
    assert refused.exit_code == 2 and "not valid JSON" in refused.stderr
    assert resident('{"age": 40}').exit_code == 0


def test_utf8_bom_accepted_shift_jis_refused() -> None:
    body = '{"age": 40, "salary_income": 3000000}'
    with_bom = resident(b"\xef\xbb\xbf" + body.encode("utf-8"))
    assert with_bom.exit_code == 0, with_bom.output
    assert json.loads(with_bom.stdout)["total"] == json.loads(resident(body).stdout)["total"]
    sjis = '{"age": 40, "note": "秋田"}'.encode("cp932")
    refused = resident(sjis)
    assert refused.exit_code == 2 and "not UTF-8" in refused.stderr


def test_string_fiscal_year_of_a_user_params_file_is_refused(tmp_path: Path) -> None:
    params = tmp_path / "p.json"
    params.write_text('{"nhi": {"2025": {"fiscal_year": "2025"}}}', "utf-8")
    household = (EXAMPLES / "nhi_household_reduced.json").read_text("utf-8")
    refused = nhi(household, "--params", str(params))
    assert refused.exit_code == 2 and "field nhi.2025.fiscal_year" in refused.stderr
    params.write_text('{"nhi": {"2025": {"fiscal_year": 2025}}}', "utf-8")
    assert nhi(household, "--params", str(params)).exit_code == 0


def test_duplicate_key_in_a_params_file(tmp_path: Path) -> None:
    params = tmp_path / "p.json"
    params.write_text('{"resident_tax": {"municipal_rate_bp": 600, "municipal_rate_bp": 700}}',
                      "utf-8")
    refused = resident('{"age": 40}', "--params", str(params))
    assert refused.exit_code == 2 and "field resident_tax.municipal_rate_bp" in refused.stderr
    params.write_text('{"resident_tax": {"municipal_rate_bp": 700}}', "utf-8")
    assert resident('{"age": 40}', "--params", str(params)).exit_code == 0
