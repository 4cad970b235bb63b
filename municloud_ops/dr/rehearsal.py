"""`dr rehearse`: continuous numbered writes, an injected site failure, failover, measurement of
RTO / RPO / availability, optional failback; JSON result and the SLA report rows."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from municloud_ops.dr import postgres as pg
from municloud_ops.dr.failback import failback
from municloud_ops.dr.failover import failover
from municloud_ops.dr.inventory import DR, PRIMARY, Inventory, is_running
from municloud_ops.dr.steps import Reporter, StepResult, Stopwatch, report
from municloud_ops.dr.writer import FrontdoorWriteTarget, WriteLoop
from municloud.supervisor import COMPONENT as SUPERVISOR


@dataclass(frozen=True)
class RehearsalPlan:
    """Bounds and timings of one rehearsal."""

    warmup_writes: int = 20
    """acknowledged writes before the failure is injected..."""
    warmup_seconds: float = 30.0
    """...or at most this long"""
    detection_seconds: float = 0.0
    """simulated time to detect the failure before failover starts"""
    after_writes: int = 10
    """acknowledged writes at the DR site before the writing stops..."""
    after_seconds: float = 30.0
    """...or at most this long after the first one"""
    interval: float = 0.05
    """pause between writes"""
    max_writes: int = 2000
    max_seconds: float = 180.0
    failback: bool = True
    """switch back to the primary site at the end (and check DR-site writes survive)"""
    dr_services: str = "pilot_light"


@dataclass
class RehearsalResult:
    stack: str
    lgcode: str
    mode: str
    run_id: str
    started_at: str
    writes_attempted: int
    writes_acknowledged: int
    rto_seconds: float | None
    rpo_lost_writes: int
    rpo_seconds: float
    availability: float
    failover_seconds: float
    steps: list[str] = field(default_factory=list)
    failback_seconds: float | None = None
    failback_kept_dr_writes: bool | None = None
    dr_writes: int = 0
    host_load_average: float | None = None
    """1-minute load average of the machine when the failure was injected (context for the figures)"""

    def meets(self, sla) -> bool:
        """RTO within sla.rto_seconds; RPO 0 writes (synchronous) or within sla.max_lag_seconds."""
        rpo_ok = (self.rpo_lost_writes == 0 if self.mode == "synchronous"
                  else self.rpo_seconds <= sla.max_lag_seconds)
        return self.rto_seconds is not None and self.rto_seconds <= sla.rto_seconds and rpo_ok

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


def inject_site_failure(inv: Inventory, site: str = PRIMARY) -> StepResult:
    """Power-cut simulation: SIGKILL every running container of the site at once (in parallel, no
    clean shutdown; `docker kill` counts as stopped by hand, so the restart policy stays out). The
    site supervisor goes first: a power cut takes it down too, and alive it would start the killed
    containers again (municloud/supervisor.py)."""
    from concurrent.futures import ThreadPoolExecutor

    running = [c for c in inv.site_containers(site) if is_running(c)]
    supervisors = [c for c in running if c.labels.get("municloud.component") == SUPERVISOR]
    for c in supervisors:
        c.kill()
    rest = [c for c in running if c not in supervisors]
    with Stopwatch() as t, ThreadPoolExecutor(max_workers=max(1, min(16, len(rest)))) as pool:
        list(pool.map(lambda c: c.kill(), rest))
    return StepResult(f"injected failure: killed {len(running)} containers at site {site}", t.seconds)


def _acked(loop: WriteLoop, site: str | None = None) -> int:
    return sum(1 for a in list(loop.attempts) if a.ok and (site is None or a.site == site))


def _wait_for(condition, seconds: float, loop: WriteLoop) -> None:
    """Wait (bounded) for ``condition`` while the write loop still runs."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline and loop._thread.is_alive():
        time.sleep(0.1)


def rehearse(inv: Inventory, target: FrontdoorWriteTarget, plan: RehearsalPlan = RehearsalPlan(),
             reporter: Reporter | None = None) -> RehearsalResult:
    """Writes go to ``target`` (the DR probe of ``target.lgcode`` behind the frontdoor)."""
    lg = target.lgcode
    primary = inv.require_database(PRIMARY, lg)
    mode = "synchronous" if pg.scalar(primary, "SHOW synchronous_standby_names") else "asynchronous"
    loop = WriteLoop(target, plan.max_writes, plan.max_seconds, plan.interval)
    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    loop.start()
    steps: list[StepResult] = []
    try:
        _wait_for(lambda: _acked(loop) >= plan.warmup_writes, plan.warmup_seconds, loop)
        failure_at = time.monotonic()
        load = round(os.getloadavg()[0], 1)
        steps.append(report(inject_site_failure(inv, PRIMARY), reporter))
        failure_done = time.monotonic()
        time.sleep(plan.detection_seconds)
        with Stopwatch() as fo:
            steps += failover(inv, reporter=reporter)
        _wait_for(lambda: loop.first_success_after(failure_at, DR) is not None, plan.max_seconds, loop)
        _wait_for(lambda: _acked(loop, DR) >= plan.after_writes, plan.after_seconds, loop)
    finally:
        loop.stop()
    attempts = list(loop.attempts)
    acked = {a.n: a for a in attempts if a.ok}
    present = target.present(loop.run_id, DR)
    lost = sorted(set(acked) - present)
    first_ok = loop.first_success_after(failure_at, DR)
    # RTO counts from the start of the injection (conservative); RPO back from its end
    rpo_seconds = (failure_done - min(acked[n].finished for n in lost)) if lost else 0.0
    result = RehearsalResult(
        stack=inv.stack, lgcode=lg, mode=mode, run_id=loop.run_id, started_at=started_at,
        writes_attempted=len(attempts), writes_acknowledged=len(acked),
        rto_seconds=round(first_ok.finished - failure_at, 2) if first_ok else None,
        rpo_lost_writes=len(lost), rpo_seconds=round(max(rpo_seconds, 0.0), 2),
        availability=round(len(acked) / len(attempts), 4) if attempts else 0.0,
        failover_seconds=round(fo.seconds, 2),
        dr_writes=sum(1 for a in acked.values() if a.site == DR), host_load_average=load,
    )
    report(StepResult(f"rehearsal {mode}: RTO {result.rto_seconds} s, RPO {result.rpo_lost_writes} writes "
                      f"({result.rpo_seconds} s), availability {result.availability:.2%} over "
                      f"{result.writes_attempted} writes", fo.seconds), reporter)
    if plan.failback:
        with Stopwatch() as fb:
            steps += failback(inv, reporter=reporter, dr_services=plan.dr_services)
        back = target.present(loop.run_id, PRIMARY)
        result.failback_seconds = round(fb.seconds, 2)
        result.failback_kept_dr_writes = {n for n, a in acked.items() if a.site == DR} <= back
        report(StepResult(f"failback kept {'every' if result.failback_kept_dr_writes else 'NOT every'} "
                          f"DR-site write ({result.dr_writes})", fb.seconds), reporter)
    result.steps = [s.sentence for s in steps]
    return result


def write_json(result: RehearsalResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.to_json() + "\n")
    return path
