"""Hostile input to the command-line parsers: `municloud platform validate` (XML messages, exit
2 unsafe / not well-formed, 1 invalid, 3 bad signature) and `municloud ids check-mynumber` /
`check-lgcode` (exit 1, never echoing the number) — each within bounded time and memory."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from municloud import ids
from municloud_ops.cli.main import app as cli
from municloud.platform import KeyRegistry, SigningKey, sign_message
from security_support import bounded, hostile_xml_cases, move_notice

pytestmark = [pytest.mark.unit, pytest.mark.security]

KEY = SigningKey.generate("053031-residents_registry-1")
VALID = sign_message(move_notice("053031"), KEY)
EXPECTED_EXIT = {  # case: allowed exit codes (2 unsafe/malformed, 1 schema/rule)
    "huge-attribute": (1,), "wrong-root": (1,), "bad-check-digit": (1,),
    "processing-instruction-prolog": (2,),
}
def _validate(tmp_path, data: bytes, *extra: str):
    path = tmp_path / "message.xml"
    path.write_bytes(data)
    with bounded(max_seconds=3.0, max_peak_bytes=64 * 1024 * 1024):
        return CliRunner().invoke(cli, ["platform", "validate", str(path), *extra])


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("case", list(hostile_xml_cases(VALID)))
def test_hostile_message_file_is_refused(tmp_path, case):
    result = _validate(tmp_path, hostile_xml_cases(VALID)[case])
    assert result.exit_code in EXPECTED_EXIT.get(case, (2,)), result.output[-300:]
    assert "root:" not in result.output  # no /etc/passwd content through an entity


@pytest.mark.attack("auth")
def test_message_signed_by_another_municipality_key_is_refused(tmp_path):
    registry = KeyRegistry()
    registry.add_signing_key(KEY, lgcode="053279", unit="residents_registry")  # the key is B's
    keys = tmp_path / "keys.yaml"
    keys.write_text(yaml.safe_dump(registry.to_mapping()), encoding="utf-8")
    assert _validate(tmp_path, VALID, "--keys", str(keys)).exit_code == 3


@pytest.mark.twin("hostile input")
def test_twin_valid_signed_message_validates(tmp_path):
    registry = KeyRegistry()
    registry.add_signing_key(KEY, lgcode="053031", unit="residents_registry")
    keys = tmp_path / "keys.yaml"
    keys.write_text(yaml.safe_dump(registry.to_mapping()), encoding="utf-8")
    result = _validate(tmp_path, VALID, "--keys", str(keys))
    assert result.exit_code == 0, result.output
    assert "(verified)" in result.output


GOOD_MY_NUMBER = ids.my_number_for_serial("053031", 42)
BAD_MY_NUMBERS = {
    "check-digit": GOOD_MY_NUMBER[:11] + str((int(GOOD_MY_NUMBER[11]) + 1) % 10),
    "full-width": GOOD_MY_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "11-digits": GOOD_MY_NUMBER[:11], "13-digits": GOOD_MY_NUMBER + "1",
    "spaces": f"{GOOD_MY_NUMBER[:4]} {GOOD_MY_NUMBER[4:8]} {GOOD_MY_NUMBER[8:]}",
    "sql": "1' OR '1'='1", "shell": "$(id)", "control": GOOD_MY_NUMBER[:6] + "\x1b" + GOOD_MY_NUMBER[7:],
    "huge": "1" * 1_000_000,
}


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("case", list(BAD_MY_NUMBERS))
def test_bad_my_number_is_refused_without_echo(case):
    value = BAD_MY_NUMBERS[case]
    with bounded(max_seconds=2.0):
        result = CliRunner().invoke(cli, ["ids", "check-mynumber", "--", value])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("invalid:")
    assert value not in result.output and (len(value) < 6 or value[:6] not in result.output)


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("code", ["053030", "05303", "0530311", "０５３０３１", "05303a", ""])
def test_bad_lgcode_is_refused(code):
    result = CliRunner().invoke(cli, ["ids", "check-lgcode", "--", code])
    assert result.exit_code == 1, result.output


@pytest.mark.twin("hostile input")
def test_twin_valid_identifiers_pass():
    assert CliRunner().invoke(cli, ["ids", "check-mynumber", GOOD_MY_NUMBER]).exit_code == 0
    assert CliRunner().invoke(cli, ["ids", "check-lgcode", "053031"]).exit_code == 0
