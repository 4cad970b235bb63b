"""`municloud platform validate|keygen|sign`: exit codes are the contract (0 / 1 / 2 / 3)."""

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app
from municloud.platform import build_message, encode_message
from municloud.platform.samples import sample_move_notice

pytestmark = pytest.mark.unit
runner = CliRunner()


@pytest.fixture
def unsigned(tmp_path):
    path = tmp_path / "notice.xml"
    path.write_bytes(encode_message(build_message(
        sample_move_notice("053031"), sender_unit="residents_registry", sender_lgcode="053031",
        receiver_unit="platform_hub", receiver_lgcode="053031")))
    return path


def test_valid_file_exits_0(unsigned):
    result = runner.invoke(app, ["platform", "validate", str(unsigned)])
    assert result.exit_code == 0, result.output
    assert "valid ResidentMoveNotice" in result.output


def test_schema_invalid_exits_1_with_path(unsigned):
    text = unsigned.read_bytes().replace(b"<Kind>move_in</Kind>", b"<Kind>teleport</Kind>")
    unsigned.write_bytes(text)
    result = runner.invoke(app, ["platform", "validate", str(unsigned)])
    assert result.exit_code == 1
    assert "/Envelope/Body/ResidentMoveNotice/Move/Kind" in result.output


def test_dtd_exits_2(tmp_path):
    path = tmp_path / "evil.xml"
    path.write_bytes(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    result = runner.invoke(app, ["platform", "validate", str(path)])
    assert result.exit_code == 2
    assert "DTD" in result.output


def test_not_well_formed_exits_2(unsigned):
    unsigned.write_bytes(unsigned.read_bytes()[:-10])
    assert runner.invoke(app, ["platform", "validate", str(unsigned)]).exit_code == 2


def test_keygen_sign_and_verify(tmp_path, unsigned):
    keygen = runner.invoke(app, ["platform", "keygen", "--key-id", "053031-residents_registry-1",
                                 "--unit", "residents_registry", "--lgcode", "053031", "--out", str(tmp_path / "k")])
    assert keygen.exit_code == 0, keygen.output
    key_file = tmp_path / "k" / "053031-residents_registry-1.key"
    assert key_file.stat().st_mode & 0o777 == 0o400
    registry = tmp_path / "keys.yaml"
    registry.write_text(keygen.stdout)
    signed = tmp_path / "signed.xml"
    assert runner.invoke(app, ["platform", "sign", str(unsigned), "--key", str(key_file), "--out", str(signed)]).exit_code == 0
    ok = runner.invoke(app, ["platform", "validate", str(signed), "--keys", str(registry)])
    assert ok.exit_code == 0 and "(verified)" in ok.output
    signed.write_bytes(signed.read_bytes().replace("太郎".encode(), "花子".encode()))
    tampered = runner.invoke(app, ["platform", "validate", str(signed), "--keys", str(registry)])
    assert tampered.exit_code == 3
