"""What a prober measures about a stack on one engine, and how it is exposed to Prometheus.

Every fact is measured, never assumed from config:
- a unit (container) is *up* when it runs and its healthcheck (the service's own /readyz, pg_isready,
  nginx's /healthz...) passes; *standby* when it is a pilot-light container of the standby site that
  is not running (the DR design: created, started only by a failover); *down* otherwise;
- replication lag is read from ``pg_stat_replication`` on each running primary (bytes of WAL not yet
  replayed by the DR standby and the server's replay_lag);
- a backup's age comes from ``pgbackrest info`` in the repository: the newest backup pgBackRest
  completed without a page-checksum error (``error: false``), per stanza;
- usage is the engine's own figures per running unit (GET /containers/{id}/stats, one shot): its
  CPU time since it started (a counter: Prometheus' ``rate`` and ``increase`` take its restarts)
  and its memory in use less the inactive file cache, the definition of the cost meter
  (municloud_ops/cost/cgroup.py), so the page's usage and ``municloud cost usage`` agree.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from municloud.naming import ONE_OFF_LABEL

#: components that wait stopped at the standby site (pilot light) until a failover starts them
STANDBY_COMPONENTS = frozenset({"residents_registry", "tax", "nhi", "hub"})
POSTGRES_COMPONENTS = frozenset({"postgres", "hub_postgres", "standby"})
BACKUP_COMPONENT = "backup_repo"

REPLICATION_SQL = (
    "SELECT pg_is_in_recovery(), count(r.pid), "
    "COALESCE(max(EXTRACT(EPOCH FROM r.replay_lag)), 0), "
    "COALESCE(max(CASE WHEN pg_is_in_recovery() THEN 0 "
    "ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn) END), 0)::bigint "
    "FROM (SELECT 1) one LEFT JOIN pg_stat_replication r ON r.state = 'streaming'")


@dataclass(frozen=True)
class Unit:
    """One container of the stack as the engine sees it now."""

    site: str
    lgcode: str
    component: str
    name: str
    state: str  # up | down | standby
    detail: str  # the engine's words: "running, healthy", "exited (137)", "created"

    @property
    def up(self) -> bool:
        return self.state == "up"


@dataclass(frozen=True)
class Replication:
    """A running primary's standbys (pg_stat_replication, state streaming)."""

    lgcode: str
    site: str
    standbys: int
    lag_bytes: int
    lag_seconds: float


@dataclass(frozen=True)
class Backup:
    """The newest backup of a stanza completed without checksum error."""

    stanza: str
    label: str
    kind: str
    stop_epoch: int


@dataclass(frozen=True)
class Usage:
    """What a running unit uses, by the engine's stats."""

    site: str
    lgcode: str
    component: str
    cpu_seconds: float
    """CPU time since the container started"""
    memory_bytes: int
    """in use, less the inactive file cache"""


def parse_stats(unit: "Unit", stats: dict) -> Usage | None:
    """A unit's usage from the engine's stats answer (cgroup v1 or v2 keys); None when it carries
    no CPU figure (a container that stopped meanwhile)."""
    cpu = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
    if not cpu:
        return None
    memory = stats.get("memory_stats") or {}
    detail = memory.get("stats") or {}
    inactive = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    return Usage(unit.site, unit.lgcode, unit.component, cpu / 1e9,
                 max(0, int(memory.get("usage", 0)) - int(inactive)))


@dataclass
class Facts:
    """One probe of a stack."""

    stack: str
    at: float
    units: list[Unit] = field(default_factory=list)
    replication: list[Replication] = field(default_factory=list)
    backups: list[Backup] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def down(self) -> list[Unit]:
        return [u for u in self.units if u.state == "down"]


def up_for_seconds(status: str) -> float | None:
    """How long the engine says a running container has been up ("Up 7 seconds (healthy)"), when it
    is under a minute; None otherwise."""
    words = status.split()
    if len(words) >= 2 and words[0] == "Up":
        if words[1] == "Less":
            return 0.5
        if words[1].isdigit() and len(words) >= 3 and words[2].startswith("second"):
            return float(words[1])
    return None


def is_unit(labels: dict) -> bool:
    """A container the stack's program made (it has a component), not one an operation runs once."""
    return ONE_OFF_LABEL not in labels and bool(labels.get("municloud.component"))


def classify(entry: dict, standby_sites: frozenset[str] | set[str], since_s: float | None = None) -> Unit:
    """A unit from the engine's container list entry (GET /containers/json). ``since_s``: seconds
    since the previous probe; a unit that started again within them was down meanwhile (a restart
    faster than the probe interval still counts against its availability, once)."""
    labels = entry.get("Labels") or {}
    site, component = labels.get("municloud.site", "?"), labels.get("municloud.component", "?")
    running = entry.get("State") == "running"
    status = entry.get("Status") or ""
    if "(unhealthy)" in status:
        health = "unhealthy"
    elif "(health: starting)" in status:
        health = "starting"
    elif "(healthy)" in status:
        health = "healthy"
    else:
        health = "no healthcheck"
    if running:
        state = "up" if health in ("healthy", "no healthcheck") else "down"
        detail = f"running, {health}"
        up_for = up_for_seconds(status)
        if state == "up" and since_s is not None and up_for is not None and up_for < since_s:
            state, detail = "down", f"restarted {up_for:.0f} s ago, {health}"
    else:
        state = "standby" if site in standby_sites and component in STANDBY_COMPONENTS else "down"
        detail = status or entry.get("State") or "unknown"
    name = (entry.get("Names") or ["/" + entry.get("Id", "?")[:12]])[0].lstrip("/")
    return Unit(site, labels.get("municloud.lgcode", "shared"), component, name, state, detail.lower())


def parse_replication(lgcode: str, site: str, out: str) -> Replication | None:
    """The REPLICATION_SQL row (psql -At, tab separated); None on a standby (in recovery)."""
    line = next((ln for ln in out.splitlines() if "\t" in ln), "")
    fields = line.split("\t")
    if len(fields) != 4 or fields[0] == "t":
        return None
    return Replication(lgcode, site, int(fields[1]), int(float(fields[3])), float(fields[2]))


def parse_backups(out: str) -> list[Backup]:
    """Newest checksum-clean backup per stanza from ``pgbackrest --output=json info``."""
    found = []
    for stanza in json.loads(out or "[]"):
        good = [b for b in stanza.get("backup") or [] if not b.get("error")]
        if good:
            b = good[-1]
            found.append(Backup(stanza["name"], b["label"], b["type"], int(b["timestamp"]["stop"])))
    return found


def probe(engine, stack: str, standby_sites: set[str], site: str | None = None,
          deep: bool = True, since_s: float | None = None, usage: bool = True) -> Facts:
    """Measure the stack's units on ``engine`` (one site's when ``site`` is given); with ``deep``
    also replication on every running primary, the repository's backups and, with ``usage``,
    every running unit's usage (``engine.stats``). ``since_s``: see ``classify``."""
    labels = [f"municloud.stack={stack}"] + ([f"municloud.site={site}"] if site else [])
    facts = Facts(stack, time.time())
    # the stack's units only: a container an operation runs once (ONE_OFF_LABEL) is none, nor is
    # one without a component (not made by the program)
    entries = [e for e in engine.containers(labels) if is_unit(e.get("Labels") or {})]
    facts.units = sorted((classify(e, frozenset(standby_sites), since_s) for e in entries),
                         key=lambda u: (u.lgcode, u.site, u.component))
    if not deep:
        return facts
    by_name = {(e.get("Names") or ["/"])[0].lstrip("/"): e for e in entries}
    for u in facts.units:
        if usage and by_name[u.name].get("State") == "running":
            used = parse_stats(u, engine.stats(by_name[u.name]["Id"]) or {})
            if used is not None:
                facts.usage.append(used)
        if not u.up:
            continue
        cid = by_name[u.name]["Id"]
        if u.component in POSTGRES_COMPONENTS:
            code, out = engine.exec(cid, ["psql", "-X", "-qAt", "-F", "\t", "-d", "postgres", "-c", REPLICATION_SQL],
                                    user="postgres")
            if code != 0:
                facts.errors.append(f"replication of {u.name} could not be read (psql exit {code})")
                continue
            row = parse_replication(u.lgcode, u.site, out)
            if row is not None:
                facts.replication.append(row)
        elif u.component == BACKUP_COMPONENT:
            code, out = engine.exec(cid, ["pgbackrest", "--output=json", "info"], user="postgres")
            if code != 0:
                facts.errors.append(f"backups in {u.name} could not be read (pgbackrest exit {code})")
                continue
            facts.backups = parse_backups(out)
    return facts


def _labels(**kv: str) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in kv.items()) + "}"


def exposition(facts: Facts) -> str:
    """The Prometheus text format (version 0.0.4) of one probe."""
    lines = ["# HELP municloud_unit_up 1 when the unit runs and its healthcheck passes, 0 when it is down "
             "(pilot-light units at the standby site are not exported here).",
             "# TYPE municloud_unit_up gauge"]
    for u in facts.units:
        if u.state != "standby":
            lines.append(f"municloud_unit_up{_labels(site=u.site, lgcode=u.lgcode, component=u.component)} "
                         f"{1 if u.up else 0}")
    lines += ["# HELP municloud_unit_standby 1 for a pilot-light unit waiting stopped at the standby site.",
              "# TYPE municloud_unit_standby gauge"]
    lines += [f"municloud_unit_standby{_labels(site=u.site, lgcode=u.lgcode, component=u.component)} 1"
              for u in facts.units if u.state == "standby"]
    lines += ["# HELP municloud_replication_standbys Streaming standbys of a running primary.",
              "# TYPE municloud_replication_standbys gauge"]
    lines += [f"municloud_replication_standbys{_labels(site=r.site, lgcode=r.lgcode)} {r.standbys}"
              for r in facts.replication]
    lines += ["# HELP municloud_replication_lag_bytes WAL not yet replayed by the standby (pg_stat_replication).",
              "# TYPE municloud_replication_lag_bytes gauge"]
    lines += [f"municloud_replication_lag_bytes{_labels(site=r.site, lgcode=r.lgcode)} {r.lag_bytes}"
              for r in facts.replication if r.standbys]
    lines += ["# HELP municloud_replication_lag_seconds replay_lag of pg_stat_replication (0 when idle).",
              "# TYPE municloud_replication_lag_seconds gauge"]
    lines += [f"municloud_replication_lag_seconds{_labels(site=r.site, lgcode=r.lgcode)} {r.lag_seconds:.3f}"
              for r in facts.replication if r.standbys]
    lines += ["# HELP municloud_backup_last_verified_timestamp_seconds End of the newest backup pgBackRest "
              "completed without a checksum error.",
              "# TYPE municloud_backup_last_verified_timestamp_seconds gauge"]
    lines += [f"municloud_backup_last_verified_timestamp_seconds{_labels(stanza=b.stanza, type=b.kind)} {b.stop_epoch}"
              for b in facts.backups]
    lines += ["# HELP municloud_unit_cpu_seconds_total CPU time of a running unit since its container started "
              "(the engine's stats).", "# TYPE municloud_unit_cpu_seconds_total counter"]
    lines += [f"municloud_unit_cpu_seconds_total{_labels(site=u.site, lgcode=u.lgcode, component=u.component)} "
              f"{u.cpu_seconds:.3f}" for u in facts.usage]
    lines += ["# HELP municloud_unit_memory_bytes Memory a running unit uses, less the inactive file cache.",
              "# TYPE municloud_unit_memory_bytes gauge"]
    lines += [f"municloud_unit_memory_bytes{_labels(site=u.site, lgcode=u.lgcode, component=u.component)} "
              f"{u.memory_bytes}" for u in facts.usage]
    lines += ["# HELP municloud_probe_errors Facts the last probe could not read.",
              "# TYPE municloud_probe_errors gauge", f"municloud_probe_errors {len(facts.errors)}",
              "# HELP municloud_probe_timestamp_seconds When the last probe ran.",
              "# TYPE municloud_probe_timestamp_seconds gauge", f"municloud_probe_timestamp_seconds {facts.at:.3f}"]
    return "\n".join(lines) + "\n"
