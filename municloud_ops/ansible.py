"""The one place that talks to ansible-runner.

``AnsibleRunner.apply_roles`` runs roles from ``roles/`` against several hosts in one
ansible-runner run (one play per role, each host with its own variables) and returns a
``RoleRun(status, rc, stats, changed, failures)`` per host: stats from the run's
``playbook_on_stats`` event, the failed tasks' messages from its ``runner_on_failed`` /
``runner_item_on_failed`` events (argument_specs and assert messages name the bad variable), both
for that host only; stdout is never parsed. ``apply_role`` is a batch of one. ``GroupCommit``
gathers the requests of concurrent callers into as few runs as possible. The runner gets a
whitelisted environment (nothing of the caller's secrets or Pulumi variables leaks into tasks),
its own private_data_dir under the state dir, host variables in a 0600 file removed after the
run, and a timeout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
ROLES_PATH = REPO_ROOT / "roles"
#: controller-side actions the roles use (controller_template: docs/decisions.md)
ACTION_PLUGINS_PATH = REPO_ROOT / "tools" / "ansible" / "action_plugins"
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
    batch: int = 1
    """how many hosts the ansible-runner run served (its time is theirs together)"""

    @property
    def changed(self) -> int:
        return sum(h.get("changed", 0) for h in self.stats.values())

    def sentence(self) -> str:
        return (f"applied role {self.role}: {self.status}, changed={self.changed} "
                f"on {len(self.stats)} host(s) in {self.seconds:.1f} s"
                + (f" (one run for {self.batch} hosts)" if self.batch > 1 else ""))


class AnsibleRunner:
    """Runs roles with ansible-runner in a private data dir per run."""

    def __init__(self, state_dir: Path | str, roles_path: Path | str = ROLES_PATH, timeout_s: int = 300) -> None:
        self.state_dir = Path(state_dir)
        self.roles_path = Path(roles_path)
        self.timeout_s = timeout_s

    def _env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in _ENV_WHITELIST if k in os.environ}
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
        env.update({"ANSIBLE_ROLES_PATH": str(self.roles_path), "ANSIBLE_ACTION_PLUGINS": str(ACTION_PLUGINS_PATH),
                    "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_LOCALHOST_WARNING": "0",
                    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0", "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                    "ANSIBLE_COLLECTIONS_PATH": str(self.state_dir / "collections")})
        return env

    def apply_role(self, role: str, variables: dict[str, Any], *, host: str = "localhost",
                   connection: str = "local") -> RoleRun:
        """One role on one host: a batch of one."""
        return self.apply_roles([RoleRequest(role, host, variables, connection)])[host]

    def check(self, request: RoleRequest) -> None:
        """Raise AnsibleRunError naming what is wrong with a request before anything runs."""
        if not (self.roles_path / request.role / "tasks" / "main.yml").is_file():
            raise AnsibleRunError(f"role {request.role}: no roles/{request.role}/tasks/main.yml")
        if not _HOST_NAME.fullmatch(request.host):
            raise AnsibleRunError(f"role {request.role}: host name {request.host!r} is not an inventory name")

    def apply_roles(self, requests: list[RoleRequest]) -> dict[str, RoleRun]:
        """Several roles on several hosts in one ansible-runner run (one interpreter start; the hosts
        of a role run side by side in Ansible's forks). Each host gets its own variables as host
        variables and its own RoleRun: a host that fails does not fail the others."""
        if not requests:
            return {}
        hosts = [r.host for r in requests]
        if len(set(hosts)) != len(hosts):
            raise AnsibleRunError(f"a batch names a host twice: {sorted(h for h in set(hosts) if hosts.count(h) > 1)}")
        for r in requests:
            self.check(r)
        roles = list(dict.fromkeys(r.role for r in requests))
        ident = f"{'-'.join(roles)[:40]}-{uuid.uuid4().hex[:8]}"
        pdd = self.state_dir / "ansible" / ident
        (pdd / "project").mkdir(parents=True)
        (pdd / "inventory").mkdir()
        plays = [{"name": f"Apply role {role}", "hosts": _group(role), "gather_facts": False, "roles": [{"role": role}]}
                 for role in roles]
        (pdd / "project" / "site.yml").write_text(yaml.safe_dump(plays, sort_keys=False))
        inventory = {"all": {"children": {_group(role): {"hosts": {
            r.host: {"ansible_connection": r.connection, **r.variables} for r in requests if r.role == role}}
            for role in roles}}}
        # host variables may hold secrets: readable by us only, and gone when the run ends
        hosts_file = pdd / "inventory" / "hosts.json"
        fd = os.open(hosts_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(inventory, fh)
        t0 = time.monotonic()
        cmd = [sys.executable, "-m", "ansible_runner", "run", str(pdd), "-p", "site.yml", "--ident", ident,
               "--forks", str(min(len(requests), MAX_FORKS)), "--quiet"]
        try:
            subprocess.run(cmd, env=self._env(), timeout=self.timeout_s, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, check=False)
        except subprocess.TimeoutExpired:
            return {r.host: RoleRun(r.role, "timeout", 254, {}, time.monotonic() - t0, batch=len(requests))
                    for r in requests}
        finally:
            hosts_file.unlink(missing_ok=True)
        seconds = time.monotonic() - t0
        artifacts = pdd / "artifacts" / ident
        status = (artifacts / "status").read_text().strip() if (artifacts / "status").exists() else "failed"
        rc = int((artifacts / "rc").read_text().strip()) if (artifacts / "rc").exists() else 255
        events = _events(artifacts)
        stats, failures = _stats(events), _failures(events)
        runs = {}
        for r in requests:
            mine = {r.host: stats[r.host]} if r.host in stats else {}
            ok = bool(mine) and mine[r.host]["failures"] == 0 and mine[r.host]["dark"] == 0
            host_status = "successful" if ok else (status if status != "successful" else "failed")
            runs[r.host] = RoleRun(r.role, host_status, 0 if ok else (rc or 2), mine, seconds,
                                   tuple(m for h, m in failures if h in (r.host, None)), batch=len(requests))
        return runs


#: hosts of one run that Ansible works on at once (each fork is a process; rendering is light)
MAX_FORKS = 16
_HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _group(role: str) -> str:
    return f"role_{role}"


@dataclass(frozen=True)
class RoleRequest:
    """One role to apply to one host with that host's variables."""

    role: str
    host: str
    variables: dict[str, Any]
    connection: str = "local"


class GroupCommit:
    """Applies roles for many callers with few ansible-runner runs.

    A request starts a run at once when fewer than ``max_runs`` are under way; otherwise it waits,
    and the requests that waited go into the next run together (group commit). No request waits
    for a timer, N requests arriving together cost one interpreter start instead of N, and a
    caller returns as soon as its own run ends (the next run is started by a caller still
    waiting). A host asked for twice at once goes into two runs, one after the other. Used by the
    rendered-config provider, whose resources Pulumi creates side by side.
    """

    def __init__(self, runner: AnsibleRunner, max_runs: int = 4) -> None:
        self.runner = runner
        self.max_runs = max_runs
        self._cond = threading.Condition()
        self._running = 0
        self._queue: list[_Ticket] = []

    def apply(self, role: str, host: str, variables: dict[str, Any]) -> RoleRun:
        request = RoleRequest(role, host, variables)
        self.runner.check(request)  # a bad request fails its caller only, before it joins a run
        ticket = _Ticket(request)
        with self._cond:
            self._queue.append(ticket)
            while not ticket.done and (ticket.taken or self._running >= self.max_runs):
                self._cond.wait()
            batch = [] if ticket.done else self._take(ticket)
        if batch:
            self._run(batch)
        if ticket.error is not None:
            raise ticket.error
        return ticket.run

    def _take(self, first: _Ticket) -> list[_Ticket]:
        """``first`` and every queued ticket for another host (called with the lock held)."""
        batch, hosts = [first], {first.request.host}
        for t in self._queue:
            if t is not first and t.request.host not in hosts:
                batch.append(t)
                hosts.add(t.request.host)
        for t in batch:
            t.taken = True
            self._queue.remove(t)
        self._running += 1
        return batch

    def _run(self, batch: list[_Ticket]) -> None:
        runs: dict[str, RoleRun] = {}
        error: BaseException | None = None
        try:
            runs = self.runner.apply_roles([t.request for t in batch])
        except BaseException as exc:  # noqa: BLE001 - every caller of the run must hear of it
            error = exc
        with self._cond:
            for t in batch:
                t.run, t.error, t.done = runs.get(t.request.host), error, True
                if error is None and t.run is None:
                    t.error = AnsibleRunError(f"role {t.request.role}: no result for {t.request.host}")
            self._running -= 1
            self._cond.notify_all()


@dataclass(eq=False)
class _Ticket:
    request: RoleRequest
    taken: bool = False
    done: bool = False
    run: RoleRun | None = None
    error: BaseException | None = None


#: the lanes of ``shared_group_commit`` and how many runs each may have under way. A render that a
#: container about to be created waits for ("create") does not queue behind re-renders of running
#: containers' configuration ("update": a gateway's routes, a repository's stanzas), which are
#: gathered into one run at a time: on a 2-core machine two or three concurrent ansible-runner
#: processes already saturate the CPU (docs/benchmarks.md).
LANES = {"create": 2, "update": 1}

_SHARED: dict[tuple[Path, str], GroupCommit] = {}
_SHARED_LOCK = threading.Lock()


def shared_group_commit(state_dir: Path | str, lane: str = "create") -> GroupCommit:
    """This process's GroupCommit for ``state_dir`` and ``lane`` (made on first use)."""
    if lane not in LANES:
        raise ValueError(f"unknown render lane {lane!r} (one of {', '.join(LANES)})")
    key = (Path(state_dir).resolve(), lane)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = GroupCommit(AnsibleRunner(key[0]), max_runs=LANES[lane])
        return _SHARED[key]


def _events(artifacts: Path) -> list[dict]:
    events = []
    for path in (artifacts / "job_events").glob("*.json"):
        events.append(json.loads(path.read_text()))
    return sorted(events, key=lambda e: e.get("counter", 0))


def _stats(events: list[dict]) -> dict[str, dict[str, int]]:
    stats: dict[str, dict[str, int]] = {}
    for event in events:
        if event.get("event") != "playbook_on_stats":
            continue
        data = event.get("event_data", {})
        for key in ("ok", "changed", "failures", "dark", "skipped"):
            for host, count in (data.get(key) or {}).items():
                stats.setdefault(host, {k: 0 for k in ("ok", "changed", "failures", "dark", "skipped")})[key] += count
    return stats


def _failures(events: list[dict]) -> list[tuple[str | None, str]]:
    """(host, "task: message") of every failed task; host None when the event names none."""
    found = []
    for event in events:
        # a looped task reports each failed item, then a summary ("One or more items failed")
        if event.get("event") not in ("runner_on_failed", "runner_item_on_failed", "runner_on_unreachable") or \
                (event.get("event_data") or {}).get("ignore_errors"):
            continue
        data = event["event_data"]
        found.append((data.get("host"), f"{data.get('task', '?')}: {(data.get('res') or {}).get('msg', '')}".strip()))
    return found
