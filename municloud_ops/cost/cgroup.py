"""The kernel's own accounting of a container (cgroup v1 with the cgroupfs driver, or v2): CPU time
and memory in use, read by container id. An attribution independent of the engine's stats API and
of the labels the meter uses (the meter's check, docs/cost.md; the shared-vs-standalone benchmark)."""

from __future__ import annotations

from pathlib import Path

CPU_V1 = ("/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage",)
CPU_V2 = ("/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat", "/sys/fs/cgroup/docker/{id}/cpu.stat")
MEM_V1 = "/sys/fs/cgroup/memory/docker/{id}"
MEM_V2 = ("/sys/fs/cgroup/system.slice/docker-{id}.scope", "/sys/fs/cgroup/docker/{id}")


def cpu_ns(container_id: str) -> int | None:
    """Cumulative CPU time of the container in ns, or None when the kernel has no file for it."""
    for pattern in CPU_V1:
        p = Path(pattern.format(id=container_id))
        if p.is_file():
            return int(p.read_text())
    for pattern in CPU_V2:
        p = Path(pattern.format(id=container_id))
        if p.is_file():
            usage_usec = next(line for line in p.read_text().splitlines() if line.startswith("usage_usec"))
            return int(usage_usec.split()[1]) * 1000
    return None


def _stat(path: Path) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines() if line.strip())}


def memory_bytes(container_id: str) -> int | None:
    """Memory in use: usage − inactive file cache (what the engine's stats and the meter call in
    use), or None when the kernel has no file for the container."""
    v1 = Path(MEM_V1.format(id=container_id))
    if (v1 / "memory.usage_in_bytes").is_file():
        stat = _stat(v1 / "memory.stat")
        return max(int((v1 / "memory.usage_in_bytes").read_text()) - stat.get("total_inactive_file", 0), 0)
    for pattern in MEM_V2:
        d = Path(pattern.format(id=container_id))
        if (d / "memory.current").is_file():
            stat = _stat(d / "memory.stat")
            return max(int((d / "memory.current").read_text()) - stat.get("inactive_file", 0), 0)
    return None
