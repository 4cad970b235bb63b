"""The runbook's commands (docs/dr.md), run as an operator would, on a lab stack."""

import json
import re

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app

pytestmark = [pytest.mark.integration, pytest.mark.dr]

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_runbook_backup_verify_failover_status_failback(make_lab):
    with make_lab() as (lab, inv):
        s = lab.spec.stack
        assert re.search(r"full backup \d{8}-\d{6}F of 053031 in", run("backup", "run", "--stack", s))
        assert "053031: ok, cipher aes-256-cbc" in run("backup", "list", "--stack", s)
        assert re.search(r"verified backup of 053031: \d+ tables, \d+ rows identical", run("backup", "verify", "--stack", s))
        out = run("dr", "failover", "--stack", s)
        assert re.search(r"promoted standby 053031 at dr in \d+\.\d s", out)
        [row] = json.loads(run("dr", "status", "--stack", s, "--json"))
        assert (row["active_site"], row["standby_state"]) == ("dr", "standby not connected")
        assert row["last_verify"].startswith("passed at ")
        out = run("dr", "failback", "--stack", s)
        assert re.search(r"switched 053031 over to primary in .* \(dr now synchronous standby", out)
        [row] = json.loads(run("dr", "status", "--stack", s, "--json"))
        assert (row["active_site"], row["mode"], row["standby_state"]) == ("primary", "synchronous", "streaming (sync)")
