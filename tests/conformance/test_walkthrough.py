"""docs/conformance.md "Worked walkthrough" followed literally, from a blank directory: the
commands are read from the page itself (steps 2, 4 and 6; `municloud` run as this checkout's
CLI), the vendor endpoint (tests/conformance/vendor_app.py) registers the key the walkthrough
made and accepts the token it issued, and the run ends with the line the page promises. A rerun
passes too (step 7: the reset command)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from vendor_app import make_vendor_app, sample_rows, serve

from municloud.platform import KeyRegistry, SigningKey

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "conformance.md"
VENDOR = "https://vendor.example.test"
CLI = f"{shlex.quote(sys.executable)} -m municloud_ops.cli.main"


def walkthrough() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Worked walkthrough")
    return text[start:text.index("\n## ", start + 1)]


def inline_command(section: str, starts: str) -> str:
    """The inline `municloud ...` code span of a step that begins with `starts`, one line."""
    match = re.search(r"`(" + re.escape(starts) + r"[^`]*)`", section)
    assert match, f"the walkthrough has no `{starts}...` command"
    return " ".join(match.group(1).split())


def fenced_command(section: str) -> str:
    match = re.search(r"```\n\s*(municloud conformance run .*?)```", section, re.S)
    assert match, "the walkthrough has no fenced `municloud conformance run` command"
    return " ".join(match.group(1).replace("\\\n", " ").split())


def sh(command: str, cwd: Path) -> subprocess.CompletedProcess:
    command = re.sub(r"^municloud ", CLI + " ", command)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get(
        "PYTHONPATH"))))}
    return subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_walkthrough_reaches_conforming_from_a_blank_directory(tmp_path: Path) -> None:
    section = walkthrough()
    kit = tmp_path / "kit"
    kit.mkdir()
    # 2. the kit's sender key; its public half goes into the endpoint's registry
    step2 = inline_command(section, "municloud platform keygen --key-id kit-")
    made = sh(step2, kit)
    assert made.returncode == 0, made.stderr
    trusted = KeyRegistry.load(kit / "kit-entry.yaml")
    assert 'lgcode: "053279"' in (kit / "kit-entry.yaml").read_text(encoding="utf-8")
    # 3. the endpoint's own key, given to the kit as unit_keys.yaml
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    made = sh("municloud platform keygen --key-id vendor-053031-residents_registry --unit "
              f"residents_registry --lgcode 053031 --out {vendor} > unit_keys.yaml", kit)
    assert made.returncode == 0, made.stderr
    vendor_key = SigningKey.load(vendor / "vendor-053031-residents_registry.key")
    # 4. a staff token with purpose data_migration, from the municipality's token key
    assert sh(f"municloud token keygen --out {vendor}", kit).returncode == 0
    shutil.copy(vendor / "token-signing.key", kit / "municipality.key")
    issued = sh(inline_command(section, "municloud token issue"), kit)
    assert issued.returncode == 0, issued.stderr
    token = (kit / "token.txt").read_text(encoding="utf-8").strip()
    # 5. a municipality with data, an empty one, and a command that empties it
    shutil.copy(kit / "token.txt", kit / "token-empty.txt")
    common = {"lgcode": "053031", "token": token, "key": vendor_key, "registry": trusted}
    root = FastAPI()
    root.mount("/053031/residents_registry",
               make_vendor_app(rows=sample_rows("053031", 8), **common))
    root.mount("/053032/residents_registry", make_vendor_app(rows=[], **common))
    with serve(root) as url:
        reset = kit / "reset-empty.sh"
        reset.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c \"import httpx; "
                         f"httpx.post('{url}/053032/residents_registry/_reset').raise_for_status()"
                         f"\"\n", encoding="utf-8")
        reset.chmod(0o755)
        # 6. the run, as printed on the page; 7. and again (the reset makes reruns pass)
        run = fenced_command(section).replace(VENDOR, url)
        promised = re.search(r"`(CONFORMING: \d+ required checks passed)`", section).group(1)
        for attempt in ("first", "rerun"):
            result = sh(run + f" --out {attempt}", kit)
            last = result.stdout.strip().splitlines()[-1]
            assert result.returncode == 0 and last.startswith(promised), result.stdout
            assert {p.name for p in (kit / attempt).iterdir()} >= {
                "junit.xml", "report.json", "report.html"}
