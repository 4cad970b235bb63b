"""The one place that talks to ansible-runner.

``AnsibleRunner.apply_role`` runs one role from ``roles/`` against one host and returns
``RoleRun(status, rc, stats, changed, failures)``: status and rc from the runner's artifacts, per-host
stats from its ``playbook_on_stats`` event, the failed tasks' messages from its
``runner_on_failed`` / ``runner_item_on_failed`` events (argument_specs and assert messages name the bad variable); stdout is
never parsed. The runner gets a
whitelisted environment (nothing of the caller's secrets or Pulumi variables leaks into tasks),
its own private_data_dir under the state dir, and a timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
ROLES_PATH = REPO_ROOT / "roles"
_ENV_WHITELIST = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "DOCKER_HOST")


class AnsibleRunError(RuntimeError):
    """A role run failed; names the role, the status and the failed hosts."""


@dataclass(frozen=True)
class RoleRun:
    """What one role run did."""

    role: str
    status: str
    """ansible-runner status: successful, failed, timeout, canceled"""
    rc: int
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    """per host: ok, changed, failures, dark (unreachable), skipped"""
    seconds: float = 0.0
    failures: tuple[str, ...] = ()
    """messages of the failed tasks (task name: message)"""

    @property
    def changed(self) -> int:
        return sum(h.get("changed", 0) for h in self.stats.values())

    def sentence(self) -> str:
        return (f"applied role {self.role}: {self.status}, changed={self.changed} "
                f"on {len(self.stats)} host(s) in {self.seconds:.1f} s")


class AnsibleRunner:
    """Runs roles with ansible-runner in a private data dir per run."""

    def __init__(self, state_dir: Path | str, roles_path: Path | str = ROLES_PATH, timeout_s: int = 300) -> None:
        self.state_dir = Path(state_dir)
        self.roles_path = Path(roles_path)
        self.timeout_s = timeout_s

    def _env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in _ENV_WHITELIST if k in os.environ}
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
        env.update({"ANSIBLE_ROLES_PATH": str(self.roles_path), "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_LOCALHOST_WARNING": "0",
                    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0", "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                    "ANSIBLE_COLLECTIONS_PATH": str(self.state_dir / "collections")})
        return env

    def apply_role(self, role: str, variables: dict[str, Any], *, host: str = "localhost",
                   connection: str = "local") -> RoleRun:
        if not (self.roles_path / role / "tasks" / "main.yml").is_file():
            raise AnsibleRunError(f"role {role}: no roles/{role}/tasks/main.yml")
        ident = f"{role}-{uuid.uuid4().hex[:8]}"
        pdd = self.state_dir / "ansible" / ident
        (pdd / "project").mkdir(parents=True)
        (pdd / "env").mkdir()
        (pdd / "inventory").mkdir()
        play = [{"name": f"Apply role {role}", "hosts": host, "gather_facts": False, "roles": [{"role": role}]}]
        (pdd / "project" / "site.yml").write_text(yaml.safe_dump(play, sort_keys=False))
        (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump(
            {"all": {"hosts": {host: {"ansible_connection": connection}}}}))
        extravars = pdd / "env" / "extravars"
        extravars.write_text(json.dumps(variables))
        extravars.chmod(0o600)
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "ansible_runner", "run", str(pdd), "-p", "site.yml", "--ident", ident,
               "--quiet"]
        try:
            subprocess.run(cmd, env=self._env(), timeout=self.timeout_s, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, check=False)
        except subprocess.TimeoutExpired:
            return RoleRun(role, "timeout", 254, {}, time.monotonic() - t0)
        finally:
            extravars.unlink(missing_ok=True)
        artifacts = pdd / "artifacts" / ident
        status = (artifacts / "status").read_text().strip() if (artifacts / "status").exists() else "failed"
        rc = int((artifacts / "rc").read_text().strip()) if (artifacts / "rc").exists() else 255
        return RoleRun(role, status, rc, _stats(artifacts), time.monotonic() - t0, _failures(artifacts))


def _stats(artifacts: Path) -> dict[str, dict[str, int]]:
    stats: dict[str, dict[str, int]] = {}
    for path in sorted((artifacts / "job_events").glob("*.json")):
        event = json.loads(path.read_text())
        if event.get("event") != "playbook_on_stats":
            continue
        data = event.get("event_data", {})
        for key in ("ok", "changed", "failures", "dark", "skipped"):
            for host, count in (data.get(key) or {}).items():
                stats.setdefault(host, {k: 0 for k in ("ok", "changed", "failures", "dark", "skipped")})[key] = count
    return stats


def _failures(artifacts: Path) -> tuple[str, ...]:
    found = []
    for path in sorted((artifacts / "job_events").glob("*.json")):
        event = json.loads(path.read_text())
        # a looped task reports each failed item, then a summary ("One or more items failed")
        if event.get("event") not in ("runner_on_failed", "runner_item_on_failed") or \
                (event.get("event_data") or {}).get("ignore_errors"):
            continue
        data = event["event_data"]
        found.append(f"{data.get('task', '?')}: {(data.get('res') or {}).get('msg', '')}".strip())
    return tuple(found)
