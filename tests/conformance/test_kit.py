"""The conformance kit passes a conforming endpoint through its CLI (reports, exit codes); an
unreachable endpoint exits 4. That every check can fail is proven by test_mutants.py."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from service_harness import free_port
from vendor_app import make_vendor_app, sample_rows, serve, vendor_keys

from municloud_ops.conformance.catalogue import checks_for

pytestmark = pytest.mark.unit

LGCODE, PEER = "053031", "053279"
TOKEN = "vendor-test-token"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return vendor_keys(tmp_path_factory.mktemp("keys"), LGCODE, PEER)


@pytest.fixture(scope="module")
def vendor_url(keys: dict) -> Iterator[str]:
    root = FastAPI()
    common = {"lgcode": LGCODE, "token": TOKEN, "key": keys["vendor_key"],
              "registry": keys["trusted"]}
    for name, mistakes in (("good", frozenset()),):
        root.mount(f"/{name}", make_vendor_app(rows=sample_rows(LGCODE, 12),
                                               mistakes=mistakes, **common))
        root.mount(f"/{name}-empty", make_vendor_app(rows=[], mistakes=mistakes, **common))
    root.mount("/rerun-empty", make_vendor_app(rows=[], **common))  # the rerun test's own target
    root.mount("/dtd-as-malformed", make_vendor_app(
        rows=sample_rows(LGCODE, 12), mistakes=frozenset({"unsafe-reported-as-malformed"}),
        **common))
    with serve(root) as url:
        yield url


def run_kit(keys: dict, base_url: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "municloud_ops.cli.main", "conformance", "run",
               "--unit", "residents_registry", "--base-url", base_url, "--token", TOKEN,
               "--lgcode", LGCODE, "--peer-lgcode", PEER,
               "--signing-key", str(keys["kit_key_file"]),
               "--unit-keys", str(keys["folder"] / "unit_keys.yaml"), "--out", str(out),
               "--timeout", "10", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def outcomes(out: Path) -> dict[str, str]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {c["id"]: c["outcome"] for c in report["checks"]}


def test_conforming_endpoint_passes_every_check(keys: dict, vendor_url: str,
                                               tmp_path: Path) -> None:
    result = run_kit(keys, f"{vendor_url}/good", tmp_path,
                     "--import-base-url", f"{vendor_url}/good-empty")
    assert result.returncode == 0, result.stdout + result.stderr
    expected = {f"RR-{c.id}": "passed" for c in checks_for("residents_registry")}
    expected["RR-MSG-017"] = "not_run"  # applies to nhi only
    assert outcomes(tmp_path) == expected
    assert "CONFORMING" in result.stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert {p.get("value") for p in suite.iter("property") if p.get("name") == "check_id"} == {
        f"RR-{c.id}" for c in checks_for("residents_registry")}
    names = {case.get("name") for case in suite.iter("testcase")}
    assert "test_valid_message_is_acknowledged[RR-MSG-001]" in names and len(names) == len(
        checks_for("residents_registry"))
    assert "not applicable" in json.dumps(json.loads((tmp_path / "report.json").read_text(
        encoding="utf-8")), ensure_ascii=False)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "RR-MSG-001" in html and "CONFORMING" in html


def test_round_trip_check_is_not_run_without_an_empty_target(keys: dict, vendor_url: str,
                                                             tmp_path: Path) -> None:
    result = run_kit(keys, f"{vendor_url}/good", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    found = outcomes(tmp_path)
    assert found.pop("RR-LAY-005") == "not_run" and found.pop("RR-MSG-017") == "not_run"
    assert set(found.values()) == {"passed"}


def test_unreachable_endpoint_exits_4_without_running_checks(keys: dict, tmp_path: Path) -> None:
    result = run_kit(keys, f"http://127.0.0.1:{free_port()}", tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "unreachable" in result.stderr and not (tmp_path / "report.json").exists()


def test_rerun_passes_when_the_kit_resets_its_import_municipality(keys: dict, vendor_url: str,
                                                                  tmp_path: Path) -> None:
    """The round trip fills the import municipality; --import-reset-command empties it first,
    so a second run passes. The twin: without it the second run fails LAY-005, naming why."""
    reset = f"{sys.executable} -c \"import httpx; httpx.post('{vendor_url}/rerun-empty/_reset')\""
    common = ("--import-base-url", f"{vendor_url}/rerun-empty", "--import-reset-command", reset)
    for run in ("first", "second"):
        result = run_kit(keys, f"{vendor_url}/good", tmp_path / run, *common)
        assert result.returncode == 0, result.stdout + result.stderr
        assert outcomes(tmp_path / run)["RR-LAY-005"] == "passed"
    again = run_kit(keys, f"{vendor_url}/good", tmp_path / "third", *common[:2])
    assert again.returncode == 3, again.stdout
    assert "not an empty municipality" in again.stdout


def test_a_failed_check_prints_the_fault_it_got(keys: dict, vendor_url: str,
                                                tmp_path: Path) -> None:
    result = run_kit(keys, f"{vendor_url}/dtd-as-malformed", tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    line = next(n for n, text in enumerate(result.stdout.splitlines())
                if text.startswith("RR-MSG-004") and " failed " in text)
    detail = result.stdout.splitlines()[line + 1]
    assert "expected Fault code unsafe, got HTTP 400, Fault code 'malformed'" in detail
    assert "DTDs are not allowed" in detail  # the Fault's reason, as the endpoint sent it
    assert "NOT CONFORMING: failed RR-MSG-004" in result.stdout
