"""`municloud token issue|keygen`: exit codes and messages are the contract."""

import stat

import pytest
from typer.testing import CliRunner

from municloud.auth import verify_token
from municloud_ops.cli.main import app

pytestmark = pytest.mark.unit
runner = CliRunner()


@pytest.fixture
def keys(tmp_path):
    result = runner.invoke(app, ["token", "keygen", "--out", str(tmp_path / "k")])
    assert result.exit_code == 0, result.output
    return tmp_path / "k"


def test_keygen_writes_a_private_key_only_the_owner_reads(keys):
    assert stat.S_IMODE((keys / "token-signing.key").stat().st_mode) == 0o400
    again = runner.invoke(app, ["token", "keygen", "--out", str(keys)])
    assert again.exit_code == 1 and "refusing to overwrite" in again.output


def test_issue_prints_a_token_that_verifies(keys):
    result = runner.invoke(app, ["token", "issue", "--lgcode", "053031", "--staff", "clerk07",
                                 "--purpose", "certificate_issuance", "--audience", "tax",
                                 "--key-file", str(keys / "token-signing.key"), "--ttl", "120"])
    assert result.exit_code == 0, result.output
    principal = verify_token(result.output.strip(), (keys / "token-signing.pub").read_text(),
                             "053031", "tax")
    assert (principal.staff_id, principal.purpose) == ("clerk07", "certificate_issuance")


@pytest.mark.parametrize("args,message", [
    (["--lgcode", "053032"], "lgcode"),
    (["--purpose", "curiosity"], "purpose"),
    (["--audience", "mail"], "audience"),
    (["--ttl", "99999"], "ttl"),
])
def test_issue_refuses_bad_input_with_exit_2(keys, args, message):
    base = {"--lgcode": "053031", "--staff": "s", "--purpose": "resident_record",
            "--audience": "residents_registry", "--key-file": str(keys / "token-signing.key")}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = ["token", "issue"] + [x for kv in base.items() for x in kv]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2 and message in result.output


def test_issue_with_missing_key_file_exits_2(tmp_path):
    result = runner.invoke(app, ["token", "issue", "--lgcode", "053031", "--staff", "s",
                                 "--purpose", "resident_record", "--audience", "tax",
                                 "--key-file", str(tmp_path / "none.key")])
    assert result.exit_code == 2 and "key-file" in result.output
