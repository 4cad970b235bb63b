"""The operational steps of failover and failback. Each returns a StepResult sentence and is safe
to re-run: it first checks whether its goal is already reached."""

from __future__ import annotations

import re
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

from municloud.naming import ONE_OFF_LABEL
from municloud_ops.dr import postgres as pg
from municloud_ops.dr.inventory import DR, PRIMARY, Inventory, env_of, is_running
from municloud_ops.dr.steps import StepFailed, StepResult, Stopwatch


#: containers stopped at once when a site is fenced (each stop mostly waits on its process)
FENCE_PARALLEL = 8


def fence_site(inv: Inventory, site: str, lgcodes: list[str] | None = None) -> StepResult:
    """Stop every running container of ``site`` (only those of ``lgcodes`` if given) so the fenced
    side cannot accept a write. Stop, not remove: its volumes stay for the failback."""
    why = inv.unreachable(site)
    if why is not None:
        # A powered-off host runs nothing. In synchronous mode a host cut off by the WAN cannot
        # acknowledge a write either (its standby is gone); when it answers again, a re-run of the
        # failover stops its containers before any of them is rejoined.
        return StepResult(f"site {site} unreachable ({why}): nothing of it can be stopped now; re-run the "
                          f"failover when it answers to fence it", 0.0, False)
    with Stopwatch() as t:
        targets = [c for c in inv.site_containers(site)
                   if lgcodes is None or c.labels.get("municloud.lgcode") in lgcodes]
        running = [c for c in targets if is_running(c)]
        # side by side: a host just powered on again restarts its units by their restart policies,
        # and a unit stopped while it starts may take its whole grace period; one after another,
        # 19 of them took 97.5 s on the two-host rehearsal (docs/sla-report.md)
        with ThreadPoolExecutor(max_workers=FENCE_PARALLEL, thread_name_prefix="dr-fence") as pool:
            list(pool.map(lambda c: c.stop(timeout=20), running))
    scope = "site " + site if lgcodes is None else f"{site} of {', '.join(lgcodes)}"
    if not running:
        return StepResult(f"{scope} already fenced ({len(targets)} containers, none running)", t.seconds, False)
    return StepResult(f"fenced {scope}: stopped {len(running)} containers in {t.seconds:.1f} s", t.seconds)


def promote(inv: Inventory, site: str, lgcode: str, timeout: float = 60.0) -> StepResult:
    """Promote the standby of ``lgcode`` at ``site``. It then runs without a synchronous standby
    (its peer is fenced): writes are accepted at once; failback re-establishes synchronous mode."""
    db = inv.require_database(site, lgcode)
    with Stopwatch() as t:
        if not is_running(db):
            db.start()
        pg.wait_accepting(db, timeout)
        if not pg.in_recovery(db):
            return StepResult(f"{site} {lgcode} already primary", t.elapsed, False)
        pg.set_synchronous_standby_names(db, "")
        if pg.scalar(db, f"SELECT pg_promote(true, {int(timeout)})") != "t":
            raise StepFailed(f"promotion of {site} {lgcode} did not finish within {timeout:.0f} s")
    return StepResult(f"promoted standby {lgcode} at {site} in {t.seconds:.1f} s", t.seconds)


def start_services(inv: Inventory, site: str, lgcode: str) -> StepResult:
    """Start (pilot light) or restart (warm) the services of ``lgcode``; they come up read-write on a
    primary database and read-only on a standby (the sentence says which)."""
    with Stopwatch() as t:
        services = inv.services(site, lgcode)
        started, restarted = [], []
        for c in services:
            if is_running(c):
                c.restart(timeout=10)
                restarted.append(c)
            else:
                c.start()
                started.append(c)
    if not services:
        return StepResult(f"no service containers for {lgcode} at {site}", t.seconds, False)
    db = inv.database(site, lgcode)
    mode = "read-only (their database is a standby)" if db is not None and pg.in_recovery(db) else "read-write"
    return StepResult(f"started {len(started)} and restarted {len(restarted)} services of {lgcode} at "
                      f"{site} {mode} in {t.seconds:.1f} s", t.seconds)


def stop_services(inv: Inventory, site: str, lgcode: str) -> StepResult:
    with Stopwatch() as t:
        running = [c for c in inv.services(site, lgcode) if is_running(c)]
        for c in running:
            c.stop(timeout=10)
    return StepResult(f"stopped {len(running)} services of {lgcode} at {site} in {t.seconds:.1f} s",
                      t.seconds, bool(running))


def check_frontdoor(inv: Inventory, lgcodes: list[str], port: int | None = None, timeout: float = 60.0) -> StepResult:
    """The frontdoor (HAProxy) sends traffic to the DR gateway by itself once the primary gateway
    fails its health check; this step waits until every municipality answers through it."""
    if inv.engines:  # sites on hosts of their own: the frontdoor publishes on the primary host, not here
        if inv.unreachable(PRIMARY) is not None:
            return StepResult(f"the frontdoor runs at site {PRIMARY}, whose engine does not answer: the DR "
                              f"gateway serves at its WAN address until a frontdoor reaches it", 0.0, False)
        return StepResult(f"the frontdoor runs at site {PRIMARY}'s host and publishes its port there: not probed "
                          f"from this machine (it sends to the DR gateway while the primary gateway is down)",
                          0.0, False)
    fd = inv.frontdoor()
    port = port or inv.frontdoor_port()
    with Stopwatch() as t:
        if fd is None:
            return StepResult(f"no frontdoor in stack {inv.stack}: nothing to switch", 0.0, False)
        if not is_running(fd):
            fd.start()
        import httpx

        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # reachability probe on 127.0.0.1 only
        pending = set(lgcodes)
        # a new connection per probe: the frontdoor passes TLS through, so a kept-alive connection
        # would stay with whichever gateway it first reached
        with httpx.Client(verify=ctx, timeout=3.0, limits=httpx.Limits(max_keepalive_connections=0)) as http:
            while pending and t.elapsed < timeout:
                for lg in sorted(pending):
                    try:
                        if http.get(f"https://127.0.0.1:{port}/{lg}/residents_registry/readyz").status_code == 200:
                            pending.discard(lg)
                    except httpx.HTTPError:
                        pass
                if pending:
                    time.sleep(0.5)
    if pending:
        raise StepFailed(f"frontdoor still not serving {', '.join(sorted(pending))} after {t.seconds:.0f} s")
    return StepResult(f"frontdoor serves {len(lgcodes)} municipalities from the active site after "
                      f"{t.seconds:.1f} s", t.seconds)


def application_name(container) -> str:
    return env_of(container).get("MC_PG_APPLICATION_NAME") or container.attrs["Config"]["Hostname"]


def configured_sync_names(container) -> str:
    """The synchronous_standby_names the stack config gives this server (its container env)."""
    return env_of(container).get("MC_PG_SYNCHRONOUS_STANDBY_NAMES", "")


def rebuild_as_standby(inv: Inventory, site: str, lgcode: str, source_site: str, timeout: float = 300.0) -> StepResult:
    """Make the database of ``lgcode`` at ``site`` a streaming standby of the one at ``source_site``,
    then start it. First by ``pg_rewind`` (only the blocks changed since the timelines diverged cross
    the WAN); where the timelines do not allow it, by a fresh base backup, with the reason in the
    sentence. Each is a one-off container with the server's mounts, env and networks
    (``MC_PG_MODE=rewind`` / ``rebuild``, images/postgres/entrypoint.sh). Skipped when the server
    already streams from the source."""
    db, source = inv.require_database(site, lgcode), inv.require_database(source_site, lgcode)
    me = application_name(db)
    with Stopwatch() as t:
        if is_running(db) and _streaming(source, me) and pg.in_recovery(db):
            return StepResult(f"{site} {lgcode} already streams from {source_site}", t.elapsed, False)
        if pg.in_recovery(source):
            raise StepFailed(f"{source_site} {lgcode} is not primary; cannot rebuild {site} from it")
        if is_running(db):
            db.stop(timeout=30)
        # pg_rewind reads the source's timeline from its control file, which a promotion updates
        # only at its next checkpoint: without one, a freshly promoted source looks like the old
        # timeline and pg_rewind finds "no rewind required"
        pg.psql(source, "CHECKPOINT")
        rc, logs = _run_one_off(db, "rewind", timeout)
        if rc == 0:
            how = f"rewound {site} {lgcode} onto {source_site}'s timeline by pg_rewind{rewind_volume(logs)}"
        else:
            why = rewind_refusal(rc, logs)
            rc, logs = _run_one_off(db, "rebuild", timeout)
            if rc != 0:
                raise StepFailed(f"base backup for {db.name} failed (exit {rc}): {_tail(logs)}")
            how = f"rebuilt {site} {lgcode} by base backup (pg_rewind not possible: {why})"
        db.start()
        pg.wait_accepting(db, timeout)
        wait_streaming(source, me, timeout)
    return StepResult(f"{how}, streaming from {source_site} after {t.seconds:.1f} s", t.seconds)


#: exit code of the entrypoint's rewind mode when pg_rewind cannot rewind, and the mark of the log
#: line with its reason (images/postgres/entrypoint.sh)
REWIND_NOT_POSSIBLE = 65
REWIND_MARK = "REWIND-NOT-POSSIBLE:"


def rewind_refusal(rc: int, logs: str) -> str:
    """The reason a rewind one-off gave for not rewinding, from its log (exit 65), else its exit code
    and last line."""
    marked = [line.split(REWIND_MARK, 1)[1].strip() for line in logs.splitlines() if REWIND_MARK in line]
    if rc == REWIND_NOT_POSSIBLE and marked:
        return marked[-1] or "pg_rewind failed without a message"
    return f"the rewind exited {rc}: {_tail(logs, 1)}"


def rewind_volume(logs: str) -> str:
    """What pg_rewind copied, from its log: " (copied 104 MB of the source's 141 MB)", or "" when
    it did not say (nothing to copy)."""
    found = re.search(r"need to copy (\d+) MB \(total source directory size is (\d+) MB\)", logs)
    return f" (copied {found[1]} MB of the source's {found[2]} MB)" if found else ""


def _tail(logs: str, lines: int = 10) -> str:
    return "\n".join(logs.strip().splitlines()[-lines:])


def _streaming(primary, app_name: str) -> bool:
    return any(r.application_name == app_name and r.state == "streaming" for r in pg.replication(primary))


def wait_streaming(primary, app_name: str, timeout: float, sync: bool = False) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        rows = [r for r in pg.replication(primary) if r.application_name == app_name and r.state == "streaming"]
        if rows and (not sync or rows[0].sync_state == "sync"):
            return time.monotonic() - t0
        time.sleep(0.3)
    raise StepFailed(f"{app_name} not {'synchronous' if sync else 'streaming'} from {primary.name} "
                     f"after {timeout:.0f} s")


def _run_one_off(db, mode: str, timeout: float) -> tuple[int, str]:
    """Run the server's image once with ``MC_PG_MODE=mode`` on its data volume (the server stopped);
    returns the exit code and the log."""
    attrs = db.attrs
    env = [e for e in attrs["Config"]["Env"] if not e.startswith("MC_PG_MODE=")] + [f"MC_PG_MODE={mode}"]
    mounts = [f"{m['Name'] if m['Type'] == 'volume' else m['Source']}:{m['Destination']}:{'rw' if m['RW'] else 'ro'}"
              for m in attrs["Mounts"]]
    networks = list(attrs["NetworkSettings"]["Networks"])
    # the same place as the server: a fixed address (a routed WAN's pg_hba names it) and the other
    # site's names (/etc/hosts), on the server's own engine
    fixed = {n: ((attrs["NetworkSettings"]["Networks"][n].get("IPAMConfig") or {}).get("IPv4Address") or None)
             for n in networks}
    labels = {**attrs["Config"]["Labels"], "municloud.component": mode, ONE_OFF_LABEL: f"failback {mode}"}
    name = f"{db.name}-{mode}"
    client = db.client
    api = client.api
    for stale in client.containers.list(all=True, filters={"name": f"^{name}$"}):
        stale.remove(force=True)
    created = api.create_container(
        attrs["Config"]["Image"], name=name, hostname=attrs["Config"]["Hostname"], environment=env, labels=labels,
        host_config=api.create_host_config(binds=mounts, extra_hosts=attrs["HostConfig"].get("ExtraHosts") or None),
        networking_config=api.create_networking_config(
            {networks[0]: api.create_endpoint_config(ipv4_address=fixed[networks[0]])}),
    )
    one_off = client.containers.get(created["Id"])
    try:
        for net in networks[1:]:
            client.networks.get(net).connect(one_off, ipv4_address=fixed[net])
        one_off.start()
        rc = one_off.wait(timeout=timeout)["StatusCode"]
        return rc, one_off.logs().decode(errors="replace")
    finally:
        one_off.remove(force=True)


def switchover(inv: Inventory, lgcode: str, to_site: str, timeout: float = 120.0) -> StepResult:
    """Planned switchover of ``lgcode`` to ``to_site`` (its standby, streaming) with no lost write:
    the old primary waits for the standby synchronously, shuts down cleanly (all WAL sent), the
    standby is promoted, and the old primary restarts as its standby."""
    from_site = DR if to_site == PRIMARY else PRIMARY
    old, new = inv.require_database(from_site, lgcode), inv.require_database(to_site, lgcode)
    with Stopwatch() as t:
        if is_running(new) and not pg.in_recovery(new):
            return StepResult(f"{to_site} {lgcode} already primary", t.elapsed, False)
        new_name, old_name = application_name(new), application_name(old)
        pg.set_synchronous_standby_names(old, f'"{new_name}"')
        wait_streaming(old, new_name, timeout, sync=True)
        old.exec_run(["touch", "/var/lib/postgresql/data/standby.signal"], user="postgres")
        final_lsn = pg.current_lsn(old)
        old.stop(timeout=60)
        deadline = time.monotonic() + timeout
        while not pg.lsn_at_least(new, pg.replay_lsn(new), final_lsn):
            if time.monotonic() > deadline:
                raise StepFailed(f"{to_site} {lgcode} did not replay up to {final_lsn}")
            time.sleep(0.2)
        pg.set_synchronous_standby_names(new, "")
        pg.scalar(new, f"SELECT pg_promote(true, {int(timeout)})")
        old.start()
        pg.wait_accepting(old, timeout)
        pg.reset_synchronous_standby_names(old)
        wait_streaming(new, old_name, timeout)
        # back to the configured mode from the server's own configuration (not pinned by ALTER SYSTEM)
        wanted = configured_sync_names(new)
        pg.reset_synchronous_standby_names(new)
        if wanted:
            wait_streaming(new, old_name, timeout, sync=True)
    mode = "synchronous" if wanted else "asynchronous"
    return StepResult(f"switched {lgcode} over to {to_site} in {t.seconds:.1f} s "
                      f"({from_site} now {mode} standby, final LSN {final_lsn} replayed)", t.seconds)
