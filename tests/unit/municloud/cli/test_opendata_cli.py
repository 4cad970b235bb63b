"""`municloud opendata validate`: files in a directory against the definition; exit 1 naming the
problem, exit 2 naming the bad option."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app
from municloud.opendata import definition, render, suppression, table

pytestmark = pytest.mark.unit

runner = CliRunner()
AS_OF = date(2026, 4, 1)
COUNTS = {
    "population_by_area_age": {"字上町": {"0-4歳男性": 2, "65-69歳女性": 9}, "字中町": {"0-4歳男性": 5, "65-69歳女性": 4}},
    "households_by_area": {"字上町": {"世帯数": 7}, "字中町": {"世帯数": 4}},
}


def write_files(out: Path) -> None:
    files = {}
    for dataset_id, counts in COUNTS.items():
        d = definition.load(dataset_id)
        t = table.build(d, counts)
        suppression.suppress(t)
        files[d] = render.to_csv(t, "053031", "小坂町", AS_OF)
        (out / d.file_name).write_bytes(files[d])
    (out / "catalog.jsonld").write_text(json.dumps(render.dcat(files, "053031", "小坂町", AS_OF, "https://x/053031/opendata")))


def run(*args: str):
    return runner.invoke(app, ["opendata", "validate", "--lgcode", "053031", "--as-of", "2026-04-01", *args])


def test_published_files_validate(tmp_path):
    write_files(tmp_path)
    result = run("--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "population_by_area_age.csv: valid" in result.output
    assert "households_by_area.csv: valid" in result.output


def test_twin_a_changed_file_fails_its_checksum_and_small_cell_rule(tmp_path):
    write_files(tmp_path)
    path = tmp_path / "households_by_area.csv"
    path.write_bytes(path.read_bytes().replace(b",4\r\n", b",2\r\n"))
    result = run("--dir", str(tmp_path))
    assert result.exit_code == 1
    assert "below 3" in result.output and "sha256" in result.output


@pytest.mark.parametrize("args,expected", [
    (["--lgcode", "053032"], "--lgcode"),
    (["--as-of", "2026/04/01"], "--as-of"),
])
def test_bad_options_exit_2_naming_them(tmp_path, args, expected):
    result = runner.invoke(app, ["opendata", "validate", "--lgcode", "053031", "--as-of", "2026-04-01",
                                 "--dir", str(tmp_path), *args])
    assert result.exit_code == 2 and expected in result.output
