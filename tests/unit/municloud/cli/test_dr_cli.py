"""`municloud backup` / `municloud dr`: bad input is refused with exit code 2, naming the option
(exit code 3 for a missing stack needs the engine: tests/dr)."""

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app

pytestmark = pytest.mark.unit

runner = CliRunner()


@pytest.mark.parametrize("args, named", [
    (["backup", "run", "--type", "weekly"], "--type"),
    (["backup", "restore", "--lgcode", "053031", "--to", "yesterday"], "--to"),
    (["dr", "rehearse", "--max-seconds", "5"], "--max-seconds"),
])
def test_bad_option_exits_2_naming_it(args, named):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert named in result.output


def test_help_lists_the_operations():
    result = runner.invoke(app, ["dr", "--help"])
    assert result.exit_code == 0
    for command in ("status", "failover", "failback", "rehearse"):
        assert command in result.output
