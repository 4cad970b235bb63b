"""The meter: samples the engine's own statistics of every container of a stack and persists them,
so that usage per member can be summed over any period (`municloud cost meter`, `cost usage`).

Decision (docs/decisions/0027-cost-meter.md): a sampler the operator starts with the CLI, next
to the stack, not a container of the stack — a meter container would need the engine's socket,
which is root on the host. It reads each site's engine through its Docker API (docker-py
`stats(one_shot=True)`), so remote site engines work the same, and writes to SQLite under
`.state/meter/<stack>.sqlite`.

What one sample records, attributed by the labels every project container carries
(stacks/naming.py: municloud.stack, municloud.site, municloud.lgcode = a member's code or
`shared`, municloud.component):
- per container: cumulative CPU time (ns), memory in use (usage − inactive file cache), bytes
  received and sent over all its interfaces;
- storage: each PostgreSQL data directory and its pg_wal (du inside the container), and the backup
  repository per stanza (a member's code, or `hub` = shared);
- requests: the gateways' access-log lines since the previous sample, by the `tenant=` field
  (roles/gateway log_format: the municipality whose route served it; hub and the rest: shared).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from municloud_ops.cost.usage import RESOURCES, SHARED, UsageSummary

SCHEMA = """
CREATE TABLE IF NOT EXISTS containers (ts REAL, id TEXT, name TEXT, site TEXT, owner TEXT, component TEXT,
                                       cpu_ns INTEGER, mem_bytes INTEGER, rx_bytes INTEGER, tx_bytes INTEGER);
CREATE TABLE IF NOT EXISTS storage (ts REAL, owner TEXT, site TEXT, kind TEXT, bytes INTEGER);
CREATE TABLE IF NOT EXISTS requests (ts_from REAL, ts_to REAL, owner TEXT, count INTEGER);
CREATE INDEX IF NOT EXISTS containers_ts ON containers (ts);
"""
PGDATA = "/var/lib/postgresql/data"
REPO = "/var/lib/pgbackrest"
GIB = 1 << 30
MONTH_S = 365.25 / 12 * 86400
_REQUEST_LINE = re.compile(r" tenant=(\d{6})$")  # roles/gateway log_format: the route's municipality


def _stats(c) -> tuple[int, int, int, int] | None:
    """(cumulative CPU ns, memory in use, bytes received, bytes sent) of one container, or None
    when it stopped between the listing and the read."""
    try:
        s = c.stats(stream=False, one_shot=True)
        mem = s.get("memory_stats", {})
        mstats = mem.get("stats", {})
        in_use = mem.get("usage", 0) - mstats.get("total_inactive_file", mstats.get("inactive_file", 0))
        nets = (s.get("networks") or {}).values()
        return (s["cpu_stats"]["cpu_usage"]["total_usage"], max(in_use, 0),
                sum(n.get("rx_bytes", 0) for n in nets), sum(n.get("tx_bytes", 0) for n in nets))
    except Exception:  # docker.errors.NotFound / APIError, or a stats body without counters
        return None


def store_path(stack: str) -> Path:
    from municloud_ops.images import STATE_DIR

    return STATE_DIR / "meter" / f"{stack}.sqlite"


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    return db


def _engines(stack: str) -> list:
    """A client of each engine of the stack's sites (tcp+TLS ones with the sites' files)."""
    import docker

    from municloud_ops.dr.sla import load_stack_config
    from stacks.providers._base import engine_client

    cfg = load_stack_config(stack)
    sites = {s.docker_host: s for s in cfg.sites.values()} if cfg else {}
    return ([engine_client(host, site.tls(), timeout=60) for host, site in sorted(sites.items())]
            or [docker.from_env(timeout=60)])


@dataclass
class Meter:
    stack: str
    path: Path
    engines: list
    last_ts: float | None = None

    @classmethod
    def open(cls, stack: str, path: Path | None = None, engines: list | None = None) -> "Meter":
        return cls(stack, path or store_path(stack), engines if engines is not None else _engines(stack))

    def sample(self, after_counters=None) -> str:
        """Take one sample of every container of the stack; returns a sentence.

        The counters of all containers are read first, side by side, so that one sample is one
        moment; the slower storage and log reads follow (their own CPU, `du` in the containers,
        falls after the moment). ``after_counters()`` is called in between (a check reads the
        kernel's view at the same moment)."""
        from concurrent.futures import ThreadPoolExecutor

        t0 = time.monotonic()
        containers = [c for engine in self.engines
                      for c in engine.containers.list(filters={"label": f"municloud.stack={self.stack}"})]
        ts = time.time()
        with ThreadPoolExecutor(max_workers=8) as pool:
            stats = list(pool.map(_stats, containers))
        rows, storage, requests = [], [], defaultdict(int)
        for c, s in zip(containers, stats, strict=True):
            labels = c.labels
            owner, site = labels.get("municloud.lgcode", SHARED), labels.get("municloud.site", "")
            if s is not None:
                rows.append((ts, c.id, c.name, site, owner, labels.get("municloud.component", ""), *s))
        sweep_s = time.monotonic() - t0
        if after_counters is not None:
            after_counters()
        for c in containers:
            labels = c.labels
            owner, site = labels.get("municloud.lgcode", SHARED), labels.get("municloud.site", "")
            component = labels.get("municloud.component", "")
            with contextlib.suppress(Exception):  # a container stopping meanwhile: nothing to add
                if component in ("postgres", "standby", "hub_postgres"):
                    storage += self._postgres_storage(c, owner, site, ts)
                elif component == "backup_repo":
                    storage += self._repository_storage(c, site, ts)
                elif component == "gateway" and self.last_ts is not None:
                    for owner_code, n in self._requests(c, ts).items():
                        requests[owner_code] += n
        db = _connect(self.path)
        with db:
            db.executemany("INSERT INTO containers VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            db.executemany("INSERT INTO storage VALUES (?,?,?,?,?)", storage)
            if self.last_ts is not None:
                db.executemany("INSERT INTO requests VALUES (?,?,?,?)",
                               [(self.last_ts, ts, o, n) for o, n in requests.items()])
        db.close()
        previous, self.last_ts = self.last_ts, ts
        return (f"sampled {len(rows)} containers of {self.stack} in {time.monotonic() - t0:.1f} s "
                f"(counters in {sweep_s:.1f} s; {len(storage)} storage figures, {sum(requests.values())} "
                f"requests since {'the previous sample' if previous else 'start (not counted)'})")

    def _postgres_storage(self, c, owner: str, site: str, ts: float) -> list[tuple]:
        rc, out = c.exec_run(["sh", "-c", f"du -sb {PGDATA} 2>/dev/null; du -sb {PGDATA}/pg_wal "
                                          f"{PGDATA}/*/pg_wal 2>/dev/null"])
        sizes = [int(line.split()[0]) for line in out.decode().splitlines() if line.split()[:1] and line.split()[0].isdigit()]
        if not sizes:
            return []
        return [(ts, owner, site, "database", sizes[0]), (ts, owner, site, "wal", sum(sizes[1:]))]

    def _repository_storage(self, c, site: str, ts: float) -> list[tuple]:
        rc, out = c.exec_run(["sh", "-c", f"du -sb {REPO}/backup/* {REPO}/archive/* 2>/dev/null"])
        per: dict[str, int] = defaultdict(int)
        for line in out.decode().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0].isdigit():
                stanza = parts[1].rstrip("/").rsplit("/", 1)[-1]
                per[stanza if re.fullmatch(r"\d{6}", stanza) else SHARED] += int(parts[0])
        return [(ts, owner, site, "backup", n) for owner, n in per.items()]

    def _requests(self, c, until: float) -> dict[str, int]:
        # [previous sample, this sample): each access-log line counted once (engine timestamps)
        logs = c.logs(stdout=True, stderr=False, since=self.last_ts, until=until,
                      timestamps=False).decode(errors="replace")
        counts: dict[str, int] = defaultdict(int)
        for line in logs.splitlines():
            if " tenant=" not in line:
                continue  # nginx's own messages
            m = _REQUEST_LINE.search(line.rstrip())
            counts[m.group(1) if m else SHARED] += 1
        return counts

    def run(self, interval_s: float, duration_s: float, echo=print) -> int:
        """Sample every ``interval_s`` for ``duration_s`` (bounded); returns the number of samples."""
        deadline = time.monotonic() + duration_s
        n = 0
        while True:
            started = time.monotonic()
            echo(self.sample())
            n += 1
            if started + interval_s > deadline:
                return n
            time.sleep(max(0.0, interval_s - (time.monotonic() - started)))


def usage(stack: str, start: datetime, end: datetime, path: Path | None = None) -> UsageSummary:
    """Usage per owner between ``start`` and ``end`` from the persisted samples (LookupError when
    the meter has fewer than two samples in the period)."""
    path = path or store_path(stack)
    if not path.is_file():
        raise LookupError(f"the meter has no samples of stack {stack} ({path} does not exist); "
                          f"run `municloud cost meter --stack {stack}`")
    db = _connect(path)
    t0, t1 = start.timestamp(), end.timestamp()
    rows = db.execute("SELECT ts, id, owner, site, cpu_ns, mem_bytes, rx_bytes FROM containers "
                      "WHERE ts BETWEEN ? AND ? ORDER BY id, ts", (t0, t1)).fetchall()
    stamps = sorted({r[0] for r in rows})
    if len(stamps) < 2:
        db.close()
        raise LookupError(f"the meter has {len(stamps)} samples of stack {stack} between "
                          f"{start.isoformat()} and {end.isoformat()}; run `municloud cost meter --stack {stack}`")
    q: dict[str, dict[str, float]] = defaultdict(lambda: {r: 0.0 for r in RESOURCES})
    q_extra: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    prev: dict[str, tuple] = {}
    for ts, cid, owner, site, cpu, mem, rx in rows:
        if cid in prev:
            pts, pcpu, pmem, prx = prev[cid]
            dt = ts - pts
            q[owner]["cpu_core_hour"] += (cpu - pcpu if cpu >= pcpu else cpu) / 1e9 / 3600
            q[owner]["memory_gib_hour"] += pmem * dt / GIB / 3600
            if site == "dr":  # what a member's DR-site containers receive: replication and backups
                q[owner]["dr_network_gib"] += (rx - prx if rx >= prx else rx) / GIB
        prev[cid] = (ts, cpu, mem, rx)
    srows = db.execute("SELECT ts, owner, site, kind, bytes FROM storage WHERE ts BETWEEN ? AND ? "
                       "ORDER BY owner, site, kind, ts", (t0, t1)).fetchall()
    sprev: dict[tuple, tuple] = {}
    for ts, owner, site, kind, size in srows:
        key = (owner, site, kind)
        if key in sprev:
            pts, psize = sprev[key]
            if kind != "wal":  # pg_wal is inside the data directory: shown, not priced twice
                q[owner]["storage_gib_month"] += psize * (ts - pts) / GIB / MONTH_S
            q_extra[owner][f"{kind}_gib_month"] += psize * (ts - pts) / GIB / MONTH_S
        sprev[key] = (ts, size)
    for owner, count in db.execute("SELECT owner, sum(count) FROM requests WHERE ts_from >= ? AND ts_to <= ? "
                                   "GROUP BY owner", (stamps[0], stamps[-1])):
        q[owner]["million_requests"] += count / 1e6
        q_extra[owner]["requests"] += count
    db.close()
    owners = {o: {**v, **{f"detail_{k}": x for k, x in q_extra[o].items()}} for o, v in q.items()}
    return UsageSummary(stack, datetime.fromtimestamp(stamps[0], UTC), datetime.fromtimestamp(stamps[-1], UTC),
                        owners, samples=len(stamps))


def fiscal_year_usage(stack: str, fiscal_year: int) -> UsageSummary:
    from zoneinfo import ZoneInfo

    jst = ZoneInfo("Asia/Tokyo")
    return usage(stack, datetime(fiscal_year, 4, 1, tzinfo=jst), datetime(fiscal_year + 1, 4, 1, tzinfo=jst))


def parse_period(text: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """`last:1h` / `last:30m` / `last:2d`, or `START/END` in ISO 8601 (a date = 00:00 JST)."""
    from zoneinfo import ZoneInfo

    now = now or datetime.now(UTC)
    m = re.fullmatch(r"last:(\d+)([mhd])", text)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return now - timedelta(**{unit: int(m.group(1))}), now
    if "/" in text:
        a, b = text.split("/", 1)
        try:
            start, end = datetime.fromisoformat(a), datetime.fromisoformat(b)
        except ValueError:
            raise ValueError(f"--period: {text!r} is not START/END in ISO 8601") from None
        jst = ZoneInfo("Asia/Tokyo")
        start, end = (d if d.tzinfo else d.replace(tzinfo=jst) for d in (start, end))
        if end <= start:
            raise ValueError("--period: END must be after START")
        return start, end
    raise ValueError(f"--period: {text!r}; use last:<n>m|h|d or START/END (ISO 8601)")
