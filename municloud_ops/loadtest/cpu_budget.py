"""CPU budget per hop: CPU-ms per request (or message) of each kind of process on the path,
read from the kernel's own accounting while a benchmark runs.

Wall-clock figures follow whatever else shares the machine; CPU time per request does not, so
the budget is what an optimisation of one hop is judged by. Sources:

- containers of the stack: their cgroup's CPU accounting (cgroup v1 ``cpuacct.usage`` or v2
  ``cpu.stat``), grouped by the ``municloud.component`` label (frontdoor, gateway, a service,
  postgres, hub...). A container's cgroup also holds what ``docker exec`` runs in it (health
  checks), so their cost is counted where it lands;
- the access-log appender: the PostgreSQL backends whose ``application_name`` is
  ``access-log-appender`` (the appender's own connection), split out of their PostgreSQL;
- host processes from /proc: the Locust process tree, ``docker-proxy`` of the stack's published
  port (none since the frontdoor runs on the host network, decision 0019: it reads 0), and the shims of the stack's containers (where the runc of every health check is
  accounted; dockerd and containerd serve every stack of the engine, so they are left out);
- the kernel's softirq time of the whole machine (bridges, NAT), from /proc/stat: machine-wide,
  so other work on the machine shows in it.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from municloud.audit import APPENDER_APPLICATION_NAME

CGROUP = Path("/sys/fs/cgroup")
_TICK = os.sysconf("SC_CLK_TCK")
#: components of a stack that run no service process (so no access-log appender)
_NOT_SERVICES = frozenset({"frontdoor", "gateway", "postgres", "hub", "hub postgres",
                           "backup repo"})


def _container_cpu_ns(full_id: str) -> int | None:
    v1 = CGROUP / "cpuacct" / "docker" / full_id / "cpuacct.usage"
    if v1.is_file():
        return int(v1.read_text())
    for v2 in (CGROUP / "system.slice" / f"docker-{full_id}.scope" / "cpu.stat",
               CGROUP / "docker" / full_id / "cpu.stat"):
        if v2.is_file():
            for line in v2.read_text().splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) * 1000
    return None


def _proc_cpu_ms(pid: int, children: bool = True) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks * 1000.0 / _TICK


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for pid in _pids():
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def _softirq_ms() -> float:
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()
    return (int(cpu[6]) + int(cpu[7])) * 1000.0 / _TICK  # irq + softirq


@dataclass
class _Containers:
    kinds: dict[str, str] = field(default_factory=dict)  # full id -> kind
    names: dict[str, str] = field(default_factory=dict)  # full id -> container name


def _stack_containers(stack: str) -> _Containers:
    out = subprocess.run(
        ["docker", "ps", "--no-trunc", "--filter", f"label=municloud.stack={stack}", "--format",
         '{{.ID}}\t{{.Names}}\t{{.Label "municloud.component"}}\t{{.Label "municloud.site"}}'],
        capture_output=True, text=True, check=True).stdout
    found = _Containers()
    for line in out.splitlines():
        cid, name, component, site = line.split("\t")
        kind = component.replace("_", " ")
        if site == "dr":
            kind = f"DR {kind}"
        found.kinds[cid] = kind
        found.names[cid] = name
    return found


def _appender_pids(container: str) -> list[int]:
    """Host pids of the PostgreSQL backends of the access-log appenders in one container."""
    sql = ("SELECT pid FROM pg_stat_activity WHERE application_name = "
           f"'{APPENDER_APPLICATION_NAME}'")
    res = subprocess.run(["docker", "exec", "-u", "postgres", container, "psql", "-h",
                          "/var/run/postgresql", "-Atqc", sql, "postgres"],
                         capture_output=True, text=True, timeout=30)
    inner = {int(x) for x in res.stdout.split()} if res.returncode == 0 else set()
    if not inner:
        return []
    top = subprocess.run(["docker", "top", container, "-eo", "pid"], capture_output=True,
                         text=True, timeout=30).stdout.split()[1:]
    host = []
    for pid in (int(p) for p in top if p.isdigit()):
        try:
            ns = [ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ln.startswith("NSpid:")][0].split()[1:]
        except (OSError, IndexError):
            continue
        if ns and int(ns[-1]) in inner:
            host.append(pid)
    return host


@dataclass
class Snapshot:
    at: float
    ms: dict[str, float]


class CpuBudget:
    """``budget = CpuBudget(stack, port, generator_pid); s0 = budget.snapshot(); ...;
    rows = budget.per_request(s0, budget.snapshot(), requests)``."""

    def __init__(self, stack: str | None, published_port: int | None = None,
                 generator_pid: int | None = None, local_pids: dict[str, list[int]] | None = None):
        self.stack = stack
        self.port = published_port
        self.generator_pid = generator_pid
        self.local_pids = local_pids or {}
        self.containers = _stack_containers(stack) if stack else _Containers()
        self.appenders: list[int] = []
        self._services = sum(kind not in _NOT_SERVICES and not kind.startswith("DR ")
                             for kind in self.containers.kinds.values())
        self._appenders_looked_up = 0.0
        self._find_appenders()
        ids = set(self.containers.kinds)
        self.proxies = [p for p in _pids() if _comm(p) == "docker-proxy"
                        and self.port is not None and f"-host-port {self.port} " in _cmdline(p) + " "]
        self.shims = [p for p in _pids() if _comm(p).startswith("containerd-shim")
                      and any(i in _cmdline(p) for i in ids)]

    def _find_appenders(self) -> None:
        """The appenders connect at their first entry: look again (at most every 5 s) until
        every primary PostgreSQL shows its services' appenders."""
        primaries = [cid for cid, kind in self.containers.kinds.items() if kind == "postgres"]
        if not primaries or time.monotonic() - self._appenders_looked_up < 5.0:
            return
        self._appenders_looked_up = time.monotonic()
        found: list[int] = []
        for cid in primaries:
            found += _appender_pids(self.containers.names[cid])
        self.appenders = found

    def snapshot(self) -> Snapshot:
        if len(self.appenders) < self._services:
            self._find_appenders()  # one appender per service process
        ms: dict[str, float] = {}

        def add(kind: str, value: float | None) -> None:
            if value is not None:
                ms[kind] = ms.get(kind, 0.0) + value

        for cid, kind in self.containers.kinds.items():
            ns = _container_cpu_ns(cid)
            add(kind, ns / 1e6 if ns is not None else None)
        appender = sum(v for v in (_proc_cpu_ms(p, children=False) for p in self.appenders)
                       if v is not None)
        if self.appenders:
            ms["access-log appender (PostgreSQL backend)"] = appender
            ms["postgres"] = ms.get("postgres", 0.0) - appender
        if self.generator_pid:
            add("Locust", sum(v for v in (_proc_cpu_ms(p) for p in _tree(self.generator_pid))
                              if v is not None))
        for kind, pids in self.local_pids.items():
            add(kind, sum(v for v in (_proc_cpu_ms(p) for p in pids) if v is not None))
        if self.proxies:
            add("docker-proxy", sum(_proc_cpu_ms(p) or 0.0 for p in self.proxies))
        add("container shims (health checks' runc)",
            sum(_proc_cpu_ms(p) or 0.0 for p in self.shims))
        add("kernel softirq (whole machine)", _softirq_ms())
        return Snapshot(time.monotonic(), ms)

    def for_generator(self, pid: int) -> "CpuBudget":
        """The same budget, now also counting the Locust process tree rooted at ``pid``."""
        self.generator_pid = pid
        return self

    def measure_idle(self, seconds: float = 10.0) -> dict[str, float]:
        """CPU-ms per second of each kind with no load (health checks, relays, replication);
        ``per_request`` subtracts it, so a slow run is not charged for the idle stack."""
        before = self.snapshot()
        time.sleep(seconds)
        after = self.snapshot()
        dt = after.at - before.at
        self.idle = {k: max(after.ms.get(k, 0.0) - before.ms.get(k, 0.0), 0.0) / dt
                     for k in after.ms if "whole machine" not in k}
        return self.idle

    idle: dict[str, float] = {}

    def per_request(self, before: Snapshot, after: Snapshot, requests: int) -> dict[str, float]:
        """CPU-ms per request of each kind between two snapshots (``requests`` > 0), net of
        the idle rate when ``measure_idle`` ran first."""
        if requests <= 0:
            raise ValueError("requests: must be > 0 to divide the CPU time by")
        dt = after.at - before.at
        return {kind: max(after.ms.get(kind, 0.0) - before.ms.get(kind, 0.0)
                          - self.idle.get(kind, 0.0) * dt, 0.0) / requests
                for kind in sorted(after.ms)}


def table(columns: dict[str, dict[str, float]]) -> str:
    """Markdown table: one row per process kind, one column per run (CPU-ms per request)."""
    kinds = sorted({k for col in columns.values() for k in col})
    names = list(columns)
    lines = ["| process kind | " + " | ".join(names) + " |",
             "|---|" + "---:|" * len(names)]
    for kind in kinds:
        lines.append(f"| {kind} | " + " | ".join(
            f"{columns[n][kind]:.2f}" if kind in columns[n] else "-" for n in names) + " |")
    lines.append("| **all hops** | " + " | ".join(
        f"**{sum(v for k, v in columns[n].items() if 'whole machine' not in k):.2f}**"
        for n in names) + " |")
    return "\n".join(lines)
