"""`municloud loadtest`: bad options exit 2 with the option named (no load is started)."""

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app

pytestmark = pytest.mark.unit


def test_unknown_shape_exits_2_naming_the_shapes():
    result = CliRunner().invoke(app, ["loadtest", "run", "--shape", "burst"])
    assert result.exit_code == 2
    assert "--shape must be one of steady, step, spike, soak" in result.output


def test_unknown_stack_exits_2_naming_the_file():
    result = CliRunner().invoke(app, ["loadtest", "capacity", "--stack", "nosuch", "--local"])
    assert result.exit_code == 2
    assert "Pulumi.nosuch.yaml not found" in result.output


def test_help_lists_both_commands():
    result = CliRunner().invoke(app, ["loadtest", "--help"])
    assert result.exit_code == 0 and "run" in result.output and "capacity" in result.output
