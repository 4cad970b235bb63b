"""The rehearsal's client: uniquely numbered writes, each one a probe of availability.

``DatabaseWriteTarget`` writes through ``docker exec`` into the active database of one
municipality, trying the primary site first and the DR site second (the same order as the
frontdoor's health-checked backends). A write counts as acknowledged only when COMMIT returned,
i.e. (in synchronous mode) after the standby confirmed it."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from municloud.dr import postgres as pg
from municloud.dr.inventory import DR, PRIMARY, Inventory

TABLE = "mc_rehearsal_write"


@dataclass
class Attempt:
    n: int
    started: float
    finished: float
    ok: bool
    site: str | None


class DatabaseWriteTarget:
    def __init__(self, inv: Inventory, lgcode: str) -> None:
        self.inv, self.lgcode = inv, lgcode
        self._containers = {s: inv.database(s, lgcode) for s in (PRIMARY, DR)}

    def prepare(self, run_id: str) -> None:
        from municloud.backup.verify import active_primary

        pg.psql(active_primary(self.inv, self.lgcode),
                f"CREATE TABLE IF NOT EXISTS {TABLE} (run_id text NOT NULL, n integer NOT NULL, "
                f"written_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, n))")

    def write(self, run_id: str, n: int) -> str | None:
        """Return the site that acknowledged write ``n``, or None."""
        for site, c in self._containers.items():
            if c is None:
                continue
            try:
                pg.psql(c, f"INSERT INTO {TABLE} (run_id, n) VALUES ('{run_id}', {n})", timeout_ms=5000)
                return site
            except Exception:  # stopped container (docker APIError), read-only standby (SqlError)
                continue
        return None

    def present(self, run_id: str, site: str) -> set[int]:
        rows = pg.psql(self.inv.require_database(site, self.lgcode),
                       f"SELECT n FROM {TABLE} WHERE run_id = '{run_id}'")
        return {int(r[0]) for r in rows}


@dataclass
class WriteLoop:
    """Writes 1, 2, 3... every ``interval`` s until stopped, ``max_writes`` or ``max_seconds``."""

    target: DatabaseWriteTarget
    max_writes: int = 2000
    max_seconds: float = 180.0
    interval: float = 0.05
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rehearsal-writer", daemon=True)

    def start(self) -> None:
        self.target.prepare(self.run_id)
        self._t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set() and n < self.max_writes and time.monotonic() - self._t0 < self.max_seconds:
            n += 1
            started = time.monotonic()
            site = self.target.write(self.run_id, n)
            self.attempts.append(Attempt(n, started, time.monotonic(), site is not None, site))
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def first_success_after(self, t: float) -> Attempt | None:
        return next((a for a in list(self.attempts) if a.ok and a.started >= t), None)
