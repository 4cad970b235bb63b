"""The guardrail pack through the real CLI and our language host: `pulumi preview --policy-pack
policies` refuses a violating program with each policy's name and message and passes its
compliant twin; the dev program passes, and a config edit that takes a tenant network out of
isolation is refused at preview time, also by `make up`'s `pulumi up`, with nothing created.
Each run has a temp directory and its own file backend; a preview asks no Docker engine for
anything (the last test only asks it whether anything was made).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from policies.rules import RULES
from stacks.automation import POLICY_PACK, REPO_ROOT, ScratchStack, pulumi_env, stack_config, stack_settings_yaml

pytestmark = [pytest.mark.integration, pytest.mark.stack]

PROGRAM = Path(__file__).with_name("policy_program")

#: per policy: a fragment of the message the violating program must get
EXPECTED = {
    "tenant-network-internal": "must be internal (no route out of the engine)",
    "tenant-network-attachments": "only that municipality's containers and the gateway may be",
    "no-secrets-in-env": "environment variable DB_PASSWORD looks like a secret",
    "tls-consortium-ca": "is handed no server certificate",
    "postgres-hba-reject-last": "accepts any address",
    "replication-matches-rpo": "the SLA promises RPO 0",
    "backup-encrypted-retention": "keeps fewer generations than the SLA's backup_retention_full=2",
    "frontdoor-published-address": "publishes port 18443 on 0.0.0.0",
    "image-content-addressed": "runs image 'postgres:latest', a floating reference",
    "labels-stack-site-municipality": "lacks label municloud.lgcode",
    "dr-standby-per-member": "has no PostgreSQL standby at the DR site dr",
}


def _pulumi(args, cwd, env, timeout=600):
    return subprocess.run([shutil.which("pulumi", path=env["PATH"]), *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def guardcheck(tmp_path_factory):
    """The small program in its own project dir and backend, with the dev stack's municloud config."""
    work = tmp_path_factory.mktemp("guardcheck")
    shutil.copytree(PROGRAM, work / "prog")
    (work / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": "guardcheck", "runtime": {"name": "python", "options": {"virtualenv": str(REPO_ROOT / ".venv")}},
        "main": "prog/"}))
    env = pulumi_env(work / "state")
    out = _pulumi(["stack", "init", "guard1", "--non-interactive"], work, env)
    assert out.returncode == 0, out.stderr

    def preview(violate: bool, pack: Path = POLICY_PACK, pack_config: dict | None = None):
        config = {**stack_config("dev"), "guardcheck:violate": violate}
        (work / "Pulumi.guard1.yaml").write_text(stack_settings_yaml(config))
        t0 = time.monotonic()
        result = _pulumi(["preview", "--stack", "guard1", "--non-interactive", "--color", "never",
                          "--policy-pack", str(pack)] + (["--policy-pack-config", _json(work, pack_config)]
                                                         if pack_config else []), work, env)
        print(f"\n[municloud] guardcheck preview (violate={violate}) in {time.monotonic() - t0:.1f} s")
        return result
    return preview


def test_every_policy_refuses_the_violating_program_with_its_name_and_message(guardcheck):
    result = guardcheck(violate=True)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert set(EXPECTED) == {r.name for r in RULES}
    for rule in RULES:
        assert f"[{rule.enforcement}]  {rule.name}" in out, (rule.name, out)
        assert rule.description.split(":")[0][:40] in out.replace("\n          ", " "), rule.name
        assert EXPECTED[rule.name] in out, (rule.name, out)


def test_the_compliant_twin_passes_every_policy(guardcheck):
    result = guardcheck(violate=False)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "municloud-guardrails@v1.0.0" in out and not any(f"  {r.name}  " in out for r in RULES), out


def test_a_pack_that_fails_to_start_stops_the_preview_with_its_error(guardcheck, tmp_path):
    broken = tmp_path / "broken-pack"
    broken.mkdir()
    (broken / "PulumiPolicy.yaml").write_text((POLICY_PACK / "PulumiPolicy.yaml").read_text())
    (broken / "__main__.py").write_text('raise RuntimeError("a rule module does not import")\n')
    result = guardcheck(violate=False, pack=broken)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "RuntimeError: a rule module does not import" in out
    assert "policy pack not started: the pack did not print its port" in out


def _json(work: Path, value: dict) -> str:
    path = work / "guardrails.json"
    path.write_text(json.dumps(value))
    return str(path)


def test_the_consortium_can_name_a_frontdoor_address_and_raise_a_level_in_the_pack_config(guardcheck):
    # the example of docs/security.md "Guardrails", with the violating program's address
    result = guardcheck(violate=True, pack_config={
        "frontdoor-published-address": {"allowed_addresses": ["0.0.0.0"]},
        "labels-stack-site-municipality": "mandatory"})
    out = result.stdout + result.stderr
    assert "[mandatory]  labels-stack-site-municipality" in out
    assert "frontdoor-published-address" not in out and "[mandatory]  no-secrets-in-env" in out


def _dev_scratch(name: str, tmp_path, **overrides) -> ScratchStack:
    config = stack_config("dev", network_base="10.241.0.0/16", frontdoor_port=18441, **overrides)
    return ScratchStack.create(name, config, backend_dir=tmp_path / "state")


def test_the_dev_program_passes_the_pack_at_preview(tmp_path):
    stack = _dev_scratch("guarddev", tmp_path).stack()
    t0 = time.monotonic()
    result = stack.preview(policy_packs=[str(POLICY_PACK)], color="never")
    print(f"\n[municloud] dev preview with the guardrail pack in {time.monotonic() - t0:.1f} s")
    assert result.change_summary.get("create", 0) > 100
    assert "municloud-guardrails@v1.0.0" in result.stdout


def test_a_config_edit_that_opens_a_tenant_network_is_refused_before_anything_is_touched(tmp_path):
    from pulumi.automation import errors

    scratch = _dev_scratch("guardegress", tmp_path, tenant_egress=["053279"])
    stack = scratch.stack()
    t0 = time.monotonic()
    with pytest.raises(errors.CommandError) as refused:
        stack.preview(policy_packs=[str(POLICY_PACK)], color="never")
    print(f"\n[municloud] refused dev preview in {time.monotonic() - t0:.1f} s")
    out = str(refused.value)
    assert "[mandatory]  tenant-network-internal" in out
    for site in ("primary", "dr"):
        assert (f"(mc-guardegress-{site}-053279) is a tenant network of municipality 053279 and must be internal"
                in out), out
    assert "remove 053279 from municloud:tenant_egress" in out
    # `make up`'s command (tools/bootstrap/stack-up.sh) previews first: refused there, nothing is created
    t0 = time.monotonic()
    up = _pulumi(["up", "--yes", "--non-interactive", "--stack", scratch.name, "--suppress-progress",
                  "--policy-pack", str(POLICY_PACK)], scratch.work_dir, scratch.env)
    print(f"[municloud] refused dev up in {time.monotonic() - t0:.1f} s")
    assert up.returncode != 0 and "[mandatory]  tenant-network-internal" in up.stdout, up.stdout + up.stderr
    assert not stack.export_stack().deployment.get("resources")
    assert stack.history() == []
    import docker

    engine = docker.from_env()
    label = {"label": f"municloud.stack={scratch.name}"}
    assert engine.networks.list(filters=label) == [] and engine.containers.list(all=True, filters=label) == []
