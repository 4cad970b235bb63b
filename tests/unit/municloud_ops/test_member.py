"""Membership as operations on a copy of a stack config: add (lowest free slot, parameters copied,
comments kept), remove from the middle (nobody else's slot moves), refusals naming the key with
the file untouched, and the hand-over the removal of a member needs."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from municloud_ops.member import MANIFEST, MemberError, add_member, list_members, remove_member

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def dev(tmp_path) -> Path:
    path = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(ROOT / "Pulumi.dev.yaml", path)
    return path


def _slots(path: Path) -> dict[str, int]:
    return {m["lgcode"]: m["address_slot"] for m in list_members("dev", path)}


def test_add_takes_the_lowest_free_slot_copies_parameters_and_keeps_the_file_s_comments(dev):
    before = dev.read_text(encoding="utf-8")
    sentence = add_member("dev", "053481", "三種町", 18818, like="053031", path=dev)
    assert sentence.startswith("added 053481 三種町 to stack dev at address slot 4 (10.201.4.0/24, 10.201.104.0/24)")
    after = dev.read_text(encoding="utf-8")
    comments = [line for line in before.splitlines() if line.strip().startswith("#")]
    assert comments and all(c in after for c in comments)
    entry = next(e for e in yaml.safe_load(after)["config"]["municloud:municipalities"] if e["lgcode"] == "053481")
    template = next(e for e in yaml.safe_load(before)["config"]["municloud:municipalities"] if e["lgcode"] == "053031")
    params = {k for k in template if k not in ("lgcode", "name", "population", "address_slot")}
    assert params and all(entry[k] == template[k] for k in params)
    assert "lgcode: '053481'" in after  # quoted: a YAML reader must not make the code a number


def test_removing_a_member_from_the_middle_moves_no_other_member(dev):
    add_member("dev", "053481", "三種町", 18818, like="053031", path=dev)
    before = _slots(dev)
    sentence = remove_member("dev", "053279", no_handover=True, path=dev)
    assert sentence.startswith("removed 053279 from stack dev (3 members left")
    after = _slots(dev)
    assert "053279" not in after and after == {k: v for k, v in before.items() if k != "053279"}
    # the freed slot is the next one given
    assert "address slot 2 " in add_member("dev", "053490", "八峰町", 8167, like="053031", path=dev)


@pytest.mark.parametrize("kwargs, key", [
    ({"lgcode": "053032", "like": "053031"}, "--lgcode"),             # check digit
    ({"lgcode": "053031", "like": "053279"}, "--lgcode"),             # already a member
    ({"lgcode": "053481", "like": "999999"}, "--like"),               # not a member
    ({"lgcode": "053481"}, "--like"),                                  # neither --like nor --params
    ({"lgcode": "053481", "like": "053031", "address_slot": 2}, "--address-slot"),  # taken
    ({"lgcode": "053481", "like": "053031", "address_slot": 100}, "municipalities"),  # outside the plan
    ({"lgcode": "053481", "params": {"tax": {}}}, "municloud:municipalities[3]"),   # no NHI rates
])
def test_a_bad_addition_is_refused_naming_the_key_and_nothing_is_written(dev, kwargs, key):
    before = dev.read_bytes()
    kwargs = {"name": "x", "population": 1, **kwargs}
    with pytest.raises((MemberError, ValueError)) as caught:
        add_member("dev", kwargs.pop("lgcode"), kwargs.pop("name"), kwargs.pop("population"), path=dev, **kwargs)
    assert key in str(caught.value)
    assert dev.read_bytes() == before


def test_remove_needs_the_member_s_hand_over_and_a_matching_manifest_lets_it_through(dev, tmp_path):
    with pytest.raises(MemberError, match="offboard 053279 first"):
        remove_member("dev", "053279", path=dev)
    handover = tmp_path / "handover"
    handover.mkdir()
    files = []
    for unit in ("residents_registry", "tax", "nhi"):
        for enc in ("utf-8", "cp932"):
            name = f"053279-{unit}.{enc}.csv"
            (handover / name).write_bytes(f"{unit} {enc}\n".encode())
            files.append({"file": name, "sha256": hashlib.sha256(f"{unit} {enc}\n".encode()).hexdigest()})
    manifest = {"stack": "dev", "lgcode": "053279", "backup": {"verified": True}, "files": files}
    (handover / MANIFEST).write_text(json.dumps(manifest))
    (handover / files[0]["file"]).write_bytes(b"changed")
    with pytest.raises(MemberError, match="missing or changed"):
        remove_member("dev", "053279", handover=handover, path=dev)
    (handover / files[0]["file"]).write_bytes(b"residents_registry utf-8\n")
    (handover / MANIFEST).write_text(json.dumps({**manifest, "lgcode": "053031"}))
    with pytest.raises(MemberError, match="not of 053279"):
        remove_member("dev", "053279", handover=handover, path=dev)
    (handover / MANIFEST).write_text(json.dumps(manifest))
    assert remove_member("dev", "053279", handover=handover, path=dev).startswith("removed 053279")


def test_the_cli_exits_2_naming_the_key_and_0_with_the_sentence(dev):
    cli = [sys.executable, "-m", "municloud_ops.cli.main", "member"]
    bad = subprocess.run([*cli, "add", "--stack", "dev", "--config", str(dev), "--lgcode", "053032", "--name", "x",
                          "--population", "1", "--like", "053031"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "--lgcode" in bad.stderr
    ok = subprocess.run([*cli, "list", "--stack", "dev", "--config", str(dev)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and ok.stdout.rstrip().endswith("stack dev: 3 members")
