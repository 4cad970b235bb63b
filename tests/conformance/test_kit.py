"""The conformance kit passes a conforming endpoint and fails a non-conforming vendor with the
expected check ids (so it is proven able to fail); an unreachable endpoint exits 4."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
import yaml
from fastapi import FastAPI
from vendor_app import MISTAKES, make_vendor_app, sample_rows

from municloud_ops.conformance import CHECKS, KitOptions, run_suite
from municloud.platform import KeyRegistry, SigningKey

pytestmark = pytest.mark.unit

LGCODE, PEER = "053031", "053279"
TOKEN = "vendor-test-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("keys")
    kit_key = SigningKey.generate("kit-053279-residents_registry")
    (folder / f"{kit_key.key_id}.key").write_bytes(kit_key.private_pem())
    vendor_key = SigningKey.generate("vendor-053031-residents_registry")
    trusted = KeyRegistry()
    trusted.add_signing_key(kit_key, lgcode=PEER, unit="residents_registry")
    unit_keys = KeyRegistry()
    unit_keys.add_signing_key(vendor_key, lgcode=LGCODE, unit="residents_registry")
    (folder / "unit_keys.yaml").write_text(yaml.safe_dump(unit_keys.to_mapping()))
    return {"folder": folder, "kit_key_file": folder / f"{kit_key.key_id}.key",
            "vendor_key": vendor_key, "trusted": trusted}


@pytest.fixture(scope="module")
def vendor_url(keys: dict) -> Iterator[str]:
    root = FastAPI()
    common = {"lgcode": LGCODE, "token": TOKEN, "key": keys["vendor_key"],
              "registry": keys["trusted"]}
    for name, mistakes in (("good", frozenset()), ("bad", frozenset(MISTAKES))):
        root.mount(f"/{name}", make_vendor_app(rows=sample_rows(LGCODE, 12),
                                               mistakes=mistakes, **common))
        root.mount(f"/{name}-empty", make_vendor_app(rows=[], mistakes=mistakes, **common))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "vendor fixture did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


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
    assert outcomes(tmp_path) == {f"RR-{c}": "passed" for c in CHECKS}
    assert "CONFORMING" in result.stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert {p.get("value") for p in suite.iter("property") if p.get("name") == "check_id"} == {
        f"RR-{c}" for c in CHECKS}
    names = {case.get("name") for case in suite.iter("testcase")}
    assert "test_valid_message_is_acknowledged[RR-MSG-001]" in names and len(names) == len(CHECKS)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "RR-MSG-001" in html and "CONFORMING" in html


def test_non_conforming_vendor_fails_with_the_expected_check_ids(keys: dict, vendor_url: str,
                                                                 tmp_path: Path) -> None:
    result = run_kit(keys, f"{vendor_url}/bad", tmp_path,
                     "--import-base-url", f"{vendor_url}/bad-empty")
    assert result.returncode == 3, result.stdout + result.stderr
    found = outcomes(tmp_path)
    expected_failures = {f"RR-{c}" for checks in MISTAKES.values() for c in checks}
    assert {i for i, o in found.items() if o != "passed"} == expected_failures
    assert all(found[i] == "failed" for i in expected_failures)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["conforming"] is False
    assert report["verdict"].startswith("NOT CONFORMING: failed RR-API-002")
    details = {c["id"]: c["detail"] for c in report["checks"]}
    assert "expected HTTP 403" in details["RR-MSG-006"]
    assert "inbox" in details["RR-API-002"]


def test_round_trip_check_is_not_run_without_an_empty_target(keys: dict, vendor_url: str,
                                                             tmp_path: Path) -> None:
    result = run_kit(keys, f"{vendor_url}/good", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    found = outcomes(tmp_path)
    assert found.pop("RR-LAY-005") == "not_run"
    assert set(found.values()) == {"passed"}


def test_unreachable_endpoint_exits_4_without_running_checks(keys: dict, tmp_path: Path) -> None:
    result = run_kit(keys, f"http://127.0.0.1:{_free_port()}", tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "unreachable" in result.stderr and not (tmp_path / "report.json").exists()


@pytest.fixture(scope="module")
def single_mistake_url(keys: dict) -> Iterator[str]:
    """One vendor app per mistake, each mounted at /<mistake> (and /<mistake>-empty)."""
    root = FastAPI()
    common = {"lgcode": LGCODE, "token": TOKEN, "key": keys["vendor_key"],
              "registry": keys["trusted"]}
    for mistake in MISTAKES:
        mistakes = frozenset({mistake})
        root.mount(f"/{mistake}", make_vendor_app(rows=sample_rows(LGCODE, 5), mistakes=mistakes,
                                                  **common))
        root.mount(f"/{mistake}-empty", make_vendor_app(rows=[], mistakes=mistakes, **common))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(root, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "vendor fixture did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_alone_fails_exactly_its_check(keys: dict, single_mistake_url: str,
                                                    mistake: str, tmp_path: Path) -> None:
    options = KitOptions(unit="residents_registry", base_url=f"{single_mistake_url}/{mistake}",
                         token=TOKEN, signing_key=keys["kit_key_file"], lgcode=LGCODE,
                         peer_lgcode=PEER, unit_keys=keys["folder"] / "unit_keys.yaml",
                         import_base_url=f"{single_mistake_url}/{mistake}-empty",
                         timeout=10, out_dir=tmp_path)
    code, report = run_suite(options)
    assert code == 3
    assert report.failed_ids == [f"RR-{c}" for c in MISTAKES[mistake]], report.verdict
