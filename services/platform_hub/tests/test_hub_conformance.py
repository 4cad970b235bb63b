"""The conformance kit as a sender against our own hub (HUB-xxx checks, docs/conformance.md):
every check passes, and every message the kit expected to be refused left no row in the hub's
database (messages, deliveries), while the accepted ones are stored once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hub_harness import hub_world, write_private

from municloud_ops.conformance.catalogue import checks_for

pytestmark = pytest.mark.integration
LGCODE = "053031"


@pytest.fixture(scope="module")
def world():
    with hub_world() as w:
        yield w


def test_our_hub_passes_the_kit_and_keeps_no_refused_message(world, tmp_path: Path) -> None:
    sender = world.key(LGCODE, "residents_registry")
    responder = world.key(LGCODE, "tax")
    sender_file = write_private(tmp_path / f"{sender.key_id}.key", sender.private_pem())
    responder_file = write_private(tmp_path / f"{responder.key_id}.key", responder.private_pem())
    (tmp_path / "hub_keys.yaml").write_text(world.registry.to_yaml(), encoding="utf-8")
    out = tmp_path / "report"
    command = [sys.executable, "-m", "municloud_ops.cli.main", "conformance", "run",
               "--unit", "platform_hub", "--base-url", world.hub.url, "--lgcode", LGCODE,
               "--signing-key", str(sender_file), "--responder-key", str(responder_file),
               "--unit-keys", str(tmp_path / "hub_keys.yaml"), "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {c["id"]: c["outcome"] for c in report["checks"]} == {
        f"HB-{c.id}": "passed" for c in checks_for("platform_hub")}, result.stdout
    assert result.returncode == 0 and "CONFORMING" in result.stdout
    applied = {m["id"] for m in report["messages"] if m["applied"]}
    refused = {m["id"] for m in report["messages"] if not m["applied"]} - applied
    assert len(applied) == 2 and len(refused) >= 4, report["messages"]
    assert {i: world.hub_counts(i) for i in refused} == {i: (0, 0) for i in refused}
    assert all(world.hub_counts(i)[0] == 1 for i in applied)
