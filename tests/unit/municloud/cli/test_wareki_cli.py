"""`municloud wareki to-iso|from-iso`: the one converter (municloud.wareki) at the CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app

pytestmark = pytest.mark.unit

runner = CliRunner()


@pytest.mark.parametrize(("text", "iso"), [
    ("令和元年5月1日", "2019-05-01"), ("R1.05.01", "2019-05-01"), ("5010501", "2019-05-01"),
    ("平成31年4月30日", "2019-04-30"), ("明治45年7月30日", "1912-07-30"),
    ("大正元年7月30日", "1912-07-30")])
def test_to_iso(text: str, iso: str) -> None:
    result = runner.invoke(app, ["wareki", "to-iso", text])
    assert result.exit_code == 0 and result.stdout.strip() == iso


@pytest.mark.parametrize(("iso", "line"), [
    ("2019-05-01", "令和元年5月1日\tR1.05.01\t5010501"),
    ("2019-04-30", "平成31年4月30日\tH31.04.30\t4310430"),
    ("1912-07-30", "大正元年7月30日\tT1.07.30\t2010730")])   # shared day: the new era
def test_from_iso(iso: str, line: str) -> None:
    result = runner.invoke(app, ["wareki", "from-iso", iso])
    assert result.exit_code == 0 and result.stdout.strip() == line


@pytest.mark.parametrize(("command", "text", "message"), [
    ("to-iso", "令和元年4月30日", "令和元年4月30日 is before the start of 令和 (令和元年5月1日"),
    ("to-iso", "平成31年5月1日", "after the end of 平成"),
    ("to-iso", "令和５年1月1日", "not a 和暦 date"),
    ("from-iso", "2019-5-1", "not an ISO date"),
    ("from-iso", "２０１９-05-01", "not an ISO date"),
    ("from-iso", "1868-01-24", "before the start of 明治")])
def test_bad_input_exits_2_with_the_reason(command: str, text: str, message: str) -> None:
    result = runner.invoke(app, ["wareki", command, text])
    assert result.exit_code == 2 and message in result.stderr, result.stderr
