"""The consortium on two Docker hosts: `pulumi up` of the program with each site on its own engine
(stacks/configs/two-sites.yaml: the primary and dr site hosts of this machine, tcp+TLS, the routed
WAN with its delay line between them), then the whole-site rehearsals of docs/dr.md "Two site
hosts", in order, each starting from where the one before left the stack:
(a) the primary host powered off, promotion at the DR site with `municloud dr failover`, RTO/RPO
    against the SLA, the old primary powered on again and fenced;
(c) failback across the hosts: the old primary rewound by pg_rewind (the hub, whose source refuses
    pg_rewind's file functions, by a base backup with the reason said), then switched back;
(b) the primary site cut off from everything with its host running (WAN partition, management
    cable out): failover at the DR site, the isolated primary acknowledging nothing, fenced when it
    answers again, and after the failback none of its unacknowledged writes anywhere.

In `make test` and alone by `make rehearse-two-sites`. The stack is the package's (`two_sites`,
tests/dr/sites/conftest.py): the e2e flows and infra checks on it come first.
"""

from __future__ import annotations

import os
import time

import pytest

from municloud.naming import ONE_OFF_LABEL
from municloud_ops.dr import postgres as pg
from support import sites
from support.stack import suite_stack

pytestmark = [pytest.mark.live, pytest.mark.dr]

STACK = suite_stack("MC_TWO_SITE_STACK")
TABLE = "two_site_writes"
#: what a rehearsal leaves for the next one (they run in file order on one stack)
RUN: dict = {}


def _inv():
    from municloud_ops.dr.inventory import Inventory

    return Inventory.for_sites(STACK, sites.two_site_config()["municloud:sites"])


def _cli(*args: str) -> str:
    """`municloud <args>` as the operator runs it; returns its output (exit 0 asserted)."""
    from typer.testing import CliRunner

    from municloud_ops.cli.main import app

    result = CliRunner().invoke(app, list(args))
    print(result.output)
    assert result.exit_code == 0, result.output
    return result.output


def _lgcode(stack) -> str:
    return next(iter(stack.municipalities))


def test_every_resource_is_on_its_own_sites_engine(two_sites):
    for name in ("primary", "dr"):
        client = sites.host(name).client(timeout=60)
        found = client.containers.list(all=True, filters={"label": f"municloud.stack={STACK}"})
        assert found and {c.labels["municloud.site"] for c in found} == {name}, [c.name for c in found]
    # nothing of the stack on the machine's own engine
    import docker

    assert not docker.from_env().containers.list(all=True, filters={"label": f"municloud.stack={STACK}"})


def test_the_frontdoor_on_the_primary_host_serves_this_machine_at_its_loopback(two_sites):
    """A resident registered through the published frontdoor (127.0.0.1 of this machine, DNAT to the
    frontdoor on the primary host's WAN address) and read back through it, with the consortium CA."""
    from e2e.e2e_support import Frontdoor, fresh_household, move_in

    lg = _lgcode(two_sites)
    assert two_sites.frontdoor_url.startswith("https://127.0.0.1:"), two_sites.frontdoor_url
    assert not two_sites.outputs["frontdoor_url"].startswith("https://127.0.0.1:")  # its own address
    with Frontdoor(two_sites) as fd:
        atenas = [m["atena_number"] for m in move_in(fd, fresh_household(lg))["movements"]]
        read = fd.get(lg, "residents_registry", f"/api/v1/residents/{atenas[0]}", purpose="resident_record")
        assert read.status_code == 200, read.text
        assert read.json()["status"] == "active"
        # the twin: the member's own token for another service is refused on this route
        wrong = two_sites.token(lg, "tax", purpose="resident_record")
        other = fd.client.get(f"/{lg}/residents_registry/api/v1/residents/{atenas[0]}",
                              headers={"Authorization": f"Bearer {wrong}"})
        assert other.status_code in (401, 403), other.text


def test_a_unit_killed_on_a_site_host_is_started_again_by_that_sites_supervisor(two_sites):
    """`docker kill` is a manual stop for the engine, which leaves the unit down; the site's
    supervisor, on the site host's own engine through that engine's socket there
    (sites.<name>.engine_socket), starts it again within the SLA's local recovery bound."""
    bound = float((two_sites.config("municloud:sla") or {}).get("local_recovery_seconds", 30))
    for site, component in (("primary", "nhi"), ("dr", "backup_repo")):
        victim = two_sites.container(component, _lgcode(two_sites) if component == "nhi" else "shared", site)
        supervisor = two_sites.container("supervisor", "shared", site)
        t0 = time.monotonic()
        victim.kill()
        while True:
            victim.reload()
            if victim.status == "running" and time.monotonic() - t0 > 0.5:
                break
            assert time.monotonic() - t0 < bound, (
                f"{victim.name} on the {site} host not running {bound:.0f} s after the kill ({victim.status}); "
                f"its supervisor said: {supervisor.logs(tail=50).decode(errors='replace')[-800:]}")
            time.sleep(0.2)
        # the supervisor says so right after the start it asked for: its line may follow by a moment
        deadline = time.monotonic() + 10
        while f"started {victim.name} again" not in (said := supervisor.logs(tail=200).decode(errors="replace")):
            assert time.monotonic() < deadline, f"{victim.name} running again, not by its supervisor: {said[-800:]}"
            time.sleep(0.2)
        print(f"[municloud] {victim.name} killed on the {site} host: running again after "
              f"{time.monotonic() - t0:.1f} s, started by {supervisor.name}")


def test_the_status_page_shows_both_hosts_units_through_the_published_frontdoor(two_sites):
    """The page at the primary host, through the frontdoor published at this machine's loopback:
    every unit of both hosts up, the DR host's read by its prober and scraped by Prometheus across
    the WAN (its fixed WAN address: decision 0047)."""
    import json
    import re

    from e2e.e2e_support import Frontdoor

    lg = _lgcode(two_sites)
    prom = two_sites.container("prometheus")
    deadline, html, targets = time.monotonic() + 180, "", {}
    with Frontdoor(two_sites) as fd:
        while time.monotonic() < deadline:
            code, out = prom.exec_run(["curl", "-fsS", "--max-time", "10",
                                       "http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22prober%22%7D"])
            if code == 0:
                targets = {r["metric"]["prober_site"]: (r["metric"]["instance"], r["value"][1])
                           for r in json.loads(out)["data"]["result"]}
            html = fd.client.get("/status", timeout=60.0).text
            if "All units up." in html and {v for _i, v in targets.values()} == {"1"} and len(targets) == 2:
                break
            time.sleep(2)
    assert "All units up." in html, re.search(r'<p class="summary[^>]*>(.*?)</p>', html, re.S)
    cfg = two_sites.config("municloud:sites")
    dr_prober = two_sites.container("prober", "shared", "dr")
    dr_wan = dr_prober.attrs["NetworkSettings"]["Networks"][f"mc-{two_sites.name}-dr-wan"]["IPAddress"]
    assert targets == {"primary": (f"mc-{two_sites.name}-primary-prober:{targets['primary'][0].split(':')[1]}", "1"),
                       "dr": (f"{dr_wan}:{targets['dr'][0].split(':')[1]}", "1")}, targets
    import ipaddress

    assert ipaddress.ip_address(dr_wan) in ipaddress.ip_network(cfg["dr"]["wan_subnet"])
    member = re.search(rf'<section id="m-{lg}">(.*?)</section>', html, re.S).group(1)
    assert re.search(r"<td>standby</td><td>dr</td><td class=\"up\">up</td>", member), member[:1500]
    assert re.search(r"<td>postgres</td><td>primary</td><td class=\"up\">up</td>", member), member[:1500]


def test_each_client_reaches_the_gateway_on_the_primary_host_as_an_address_of_its_own(two_sites):
    """Clients at 127.0.0.2 and 127.0.0.3 of this machine are logged by the primary gateway as
    10.250.254.2 and .3 (the published port maps each loopback address one to one; the frontdoor
    hands the client's address on by PROXY protocol), never as one shared address."""
    import ipaddress
    import socket
    import ssl
    import uuid

    lg, port = _lgcode(two_sites), int(two_sites.frontdoor_url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=str(two_sites.ca_file))
    context.check_hostname = False  # the gateway's name, not the address it is reached at
    markers = {}
    for last in (2, 3):
        markers[last] = f"client-{uuid.uuid4().hex[:12]}"
        raw = socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(f"127.0.0.{last}", 0))
        with context.wrap_socket(raw, server_hostname="gateway.municloud") as tls:
            tls.sendall(f"GET /{lg}/residents_registry/{markers[last]} HTTP/1.1\r\nHost: gateway.municloud\r\n"
                        f"Connection: close\r\n\r\n".encode())
            assert tls.recv(64).split(b" ")[1] == b"404"  # the member's registry knows no such path
    gateway = two_sites.container("gateway")
    deadline = time.monotonic() + 15  # the access log is flushed every 2 s
    seen: dict[int, set[str]] = {}
    while time.monotonic() < deadline and len(seen) < 2:
        lines = gateway.logs(tail=2000).decode(errors="replace").splitlines()
        seen = {last: {ln.split()[0] for ln in lines if m in ln} for last, m in markers.items()}
        seen = {k: v for k, v in seen.items() if v}
        time.sleep(0.5)
    clients = ipaddress.ip_network(os.environ.get("MC_SITE_CLIENT_NET", "10.250.254.0/24"))
    assert seen == {2: {str(clients[2])}, 3: {str(clients[3])}}, seen


def test_a_write_at_the_member_is_on_its_dr_standby_across_the_wan(two_sites):
    """Synchronous replication across the delay line: the standby is `sync`, streams from its fixed
    address on the DR host's block, and a committed row is on it when COMMIT returns."""
    from municloud_ops.dr.inventory import DR, PRIMARY

    lg, inv = _lgcode(two_sites), _inv()
    primary, standby = inv.require_database(PRIMARY, lg), inv.require_database(DR, lg)
    [row] = pg.replication(primary)
    assert (row.state, row.sync_state) == ("streaming", "sync"), row
    peer = pg.scalar(primary, "SELECT client_addr FROM pg_stat_replication")
    assert peer == sites.two_site_config()["municloud:sites"]["dr"]["wan_subnet"].replace(".0/24", ".11"), peer
    pg.psql(primary, f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigint PRIMARY KEY, at timestamptz DEFAULT now())",
            database="residents_registry")
    t0 = time.monotonic()
    pg.psql(primary, f"INSERT INTO {TABLE} (id) VALUES (1)", database="residents_registry")
    commit_ms = (time.monotonic() - t0) * 1000
    # synchronous: the row is on the standby once COMMIT returned (remote_apply is not asked for,
    # so replay may trail by a moment; the WAL is there)
    deadline = time.monotonic() + 10
    while pg.scalar(standby, f"SELECT count(*) FROM {TABLE} WHERE id = 1", database="residents_registry") != "1":
        assert time.monotonic() < deadline, "the committed row did not reach the DR standby within 10 s"
        time.sleep(0.05)
    visible_ms = (time.monotonic() - t0) * 1000
    [row] = pg.replication(primary)
    print(f"write at {lg}: COMMIT {commit_ms:.0f} ms (docker exec included), on the DR standby after "
          f"{visible_ms:.0f} ms; replication lag now {row.lag_bytes} B / {row.lag_seconds * 1000:.1f} ms; "
          f"{sites.wan_status()}")
    assert row.lag_bytes == 0 or row.sync_state == "sync"


def test_the_backup_repository_on_the_dr_host_holds_a_verified_backup(two_sites, sites_file):
    """The repository runs on the DR host; the schedule's first full backup of the member crosses
    the WAN from the primary host (it starts when the repository does), and verify restores it."""
    import json

    lg = _lgcode(two_sites)
    repo = _inv().backup_repo()
    assert repo.client.api.base_url.endswith(sites.host("dr").address + ":2376")  # on the DR host
    deadline = time.monotonic() + 900
    while True:
        stanzas = {s["name"]: s for s in json.loads(_cli("backup", "list", "--stack", STACK, "--sites",
                                                         str(sites_file), "--json"))}
        if stanzas.get(lg, {}).get("backup"):
            break
        assert time.monotonic() < deadline, f"no backup of {lg} in the repository after 900 s"
        time.sleep(10)
    out = _cli("backup", "verify", "--stack", STACK, "--sites", str(sites_file), "--lgcode", lg)
    assert "FAILED" not in out and f"verified backup of {lg}" in out, out


def test_synchronous_commit_costs_a_wan_round_trip_at_the_stacks_primary(two_sites):
    """The price of RPO 0 over distance, measured at the stack's own primary in one run: the same
    inserts with synchronous_commit on (wait for the DR standby across the delay line) and local."""
    import json

    from municloud_ops.dr.inventory import PRIMARY
    from municloud_ops.images import STATE_DIR
    from tests.support.dr_lab import commit_latency_ms

    primary = _inv().require_database(PRIMARY, _lgcode(two_sites))
    pg.psql(primary, f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigint PRIMARY KEY, at timestamptz DEFAULT now())",
            database="residents_registry")
    wan = sites.wan_status()
    one_way = float(wan.split("one-way delay ")[1].split(" ms")[0])
    sync_ms, local_ms = commit_latency_ms(primary, TABLE, True), commit_latency_ms(primary, TABLE, False)
    row = {"one_way_ms": one_way, "rtt_ms": 2 * one_way, "sync_ms": sync_ms, "local_ms": local_ms,
           "ratio": round(sync_ms / local_ms, 1)}
    report = STATE_DIR / "reports" / "two-site-commit-latency.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(row, indent=1))
    print(f"two-site stack, WAN {wan}: commit {sync_ms:.2f} ms synchronous vs {local_ms:.2f} ms local "
          f"(x{row['ratio']}, +{sync_ms - local_ms:.2f} ms)")
    # each synchronous COMMIT waits at least one round trip to the DR host; a local one does not
    assert sync_ms >= 2 * one_way and sync_ms > local_ms


#: the RTO probe on the DR host: the DR gateway's public listener at its WAN address, as the
#: frontdoor reaches it (PROXY header, TLS), one new connection per probe; prints "ok <time>" per 200
PROBE = r"""
import socket, ssl, sys, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
for _ in range(3000):
    try:
        with socket.create_connection((host, port), timeout=2) as raw:
            me = raw.getsockname()
            raw.sendall(f"PROXY TCP4 {me[0]} {host} {me[1]} {port}\r\n".encode())
            with ctx.wrap_socket(raw, server_hostname="gateway.municloud") as tls:
                tls.sendall(f"GET {path} HTTP/1.1\r\nHost: gateway.municloud\r\nConnection: close\r\n\r\n".encode())
                status = tls.recv(64).split(b" ")[1]
        print(("ok " if status == b"200" else f"no {status.decode()} ") + f"{time.time():.3f}", flush=True)
    except Exception as exc:
        print(f"err {time.time():.3f} {type(exc).__name__}", flush=True)
    time.sleep(0.2)
"""


def _insert(container, n: int, timeout_s: int = 5) -> int:
    rc, _ = container.exec_run(["timeout", str(timeout_s), "psql", "-XAtq", "-d", "residents_registry", "-c",
                                f"INSERT INTO {TABLE} (id) VALUES ({n})"], user="postgres")
    return rc


def test_power_off_of_the_primary_host_then_failover_at_the_dr_site(two_sites, sites_file):
    """Rehearsal (a): every process of the primary host SIGKILLed at once; `municloud dr failover`
    promotes at the DR site (the primary's engine does not answer); RTO = power-off until the DR
    gateway serves the member at its WAN address and the promoted database accepts a write; RPO =
    acknowledged writes missing at DR. Then the host comes back: its old primary acknowledges no
    write (synchronous, its standby is gone) and the re-run failover fences it."""
    import threading

    from municloud_ops.dr.inventory import DR, PRIMARY
    from municloud_ops.dr.sla import sla_targets

    sla = sla_targets("dev")  # the overlay keeps the dev consortium's SLA (stacks/configs/two-sites.yaml)
    lg, inv = _lgcode(two_sites), _inv()
    primary = inv.require_database(PRIMARY, lg)
    pg.psql(primary, f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigint PRIMARY KEY, at timestamptz DEFAULT now())",
            database="residents_registry")
    dr = sites.host("dr").client(timeout=120)
    python_image = inv.find(site=DR, lgcode=lg, component="tax")[0].attrs["Config"]["Image"]
    block = sites.two_site_config()["municloud:sites"]["dr"]["wan_subnet"]
    gateway = block.replace(".0/24", ".242")
    probe = dr.containers.create(python_image, ["python", "-c", PROBE, gateway, "8444",
                                                f"/{lg}/residents_registry/readyz"],
                                 name=f"mc-{STACK}-dr-rto-probe", labels={"municloud.stack": STACK, ONE_OFF_LABEL: "rehearsal probe"}, user="10001",
                                 network=f"mc-{STACK}-dr-wan")
    try:
        net = dr.networks.get(f"mc-{STACK}-dr-wan")
        net.disconnect(probe)
        net.connect(probe, ipv4_address=block.replace(".0/24", f".{sites.CLIENT_HOST}"))
        probe.start()
        # writes acknowledged at the primary until its host dies (each COMMIT waits for the DR standby)
        acked: list[int] = []
        stop = threading.Event()

        def writer():
            n = 1000
            while not stop.is_set():
                n += 1
                try:
                    if _insert(primary, n) == 0:
                        acked.append(n)
                except Exception:  # the engine went away mid-call: not acknowledged
                    return

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while len(acked) < 5:
            assert time.monotonic() < deadline, "no write acknowledged at the primary within 60 s"
            time.sleep(0.2)
        print(sites.power_off("primary"))
        t_off = time.time()
        stop.set()
        thread.join(timeout=30)

        out = _cli("dr", "failover", "--stack", STACK, "--sites", str(sites_file))
        assert "site primary unreachable" in out and f"promoted standby {lg} at dr" in out
        new_primary = inv.require_database(DR, lg)
        while _insert(new_primary, -1) != 0:
            assert time.time() - t_off < 120, "the promoted database accepted no write within 120 s"
            time.sleep(0.2)
        t_write = time.time()
        t_read = None
        while t_read is None:
            oks = [float(line.split()[1]) for line in probe.logs().decode().splitlines() if line.startswith("ok ")]
            t_read = next((t for t in oks if t > t_off), None)
            assert t_read is not None or time.time() - t_off < 120, probe.logs(tail=10).decode()
            time.sleep(0.2)
        rto = max(t_write, t_read) - t_off
        rows = {n for n in _ids(new_primary) if n > 1000}
        lost = sorted(set(acked) - rows)
        print(f"power-off of the primary host: {len(acked)} acknowledged writes, {len(lost)} lost (RPO); RTO "
              f"{rto:.1f} s (DR gateway serving {t_read - t_off:.1f} s, promoted database writable "
              f"{t_write - t_off:.1f} s after the power-off; SLA RTO {sla.rto_seconds} s, RPO {sla.rpo_seconds} s)")
        assert not lost
        RUN["acked"] = acked
    finally:
        probe.remove(force=True)

    # the old primary's host powers on again: its containers restart with it, but its PostgreSQL
    # acknowledges no write (its synchronous standby was promoted and never connects back) ...
    print(sites.up("primary"))
    old = None
    deadline = time.monotonic() + 120
    while old is None:
        try:
            old = _inv().require_database(PRIMARY, lg)
            pg.wait_accepting(old, 60)
        except Exception:
            old = None
            assert time.monotonic() < deadline, "the old primary's container did not come back with its host"
            time.sleep(1)
    assert _insert(old, -2, timeout_s=5) == 124  # still waiting for a standby when the client gave up
    # ... and the failover, re-run, fences it: stopped, its writes nowhere
    out = _cli("dr", "failover", "--stack", STACK, "--sites", str(sites_file))
    assert "fenced site primary: stopped" in out and f"dr {lg} already primary" in out
    old.reload()
    assert old.status != "running"
    assert pg.scalar(inv.require_database(DR, lg), f"SELECT count(*) FROM {TABLE} WHERE id = -2",
                     database="residents_registry") == "0"
    assert rto <= sla.rto_seconds, f"RTO {rto:.1f} s above the SLA's {sla.rto_seconds} s"


def _ids(container) -> set[int]:
    return {int(r[0]) for r in pg.psql(container, f"SELECT id FROM {TABLE}", database="residents_registry")}


def test_failback_across_the_hosts_rewinds_the_old_primary(two_sites, sites_file):
    """Rehearsal (c): `municloud dr failback` brings the fenced old primary back as a standby of the
    promoted DR database by pg_rewind (only what changed since the timelines diverged crosses the
    WAN), then switches over with no lost write. The twin: the hub's promoted database refuses
    pg_rewind's file functions to the replicator (as a stack created before they were granted
    does), so the hub falls back to a base backup and the step says why."""
    from municloud_ops.dr.inventory import DR, HUB, PRIMARY

    lg, inv = _lgcode(two_sites), _inv()
    assert RUN.get("acked"), "rehearsal (a) did not run before this one"
    revoke = "EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean)"
    pg.psql(inv.require_database(DR, HUB), f"REVOKE {revoke} FROM replicator")
    out = _cli("dr", "failback", "--stack", STACK, "--sites", str(sites_file))
    assert f"rewound {PRIMARY} {lg} onto {DR}'s timeline by pg_rewind" in out
    assert f"rebuilt {PRIMARY} {HUB} by base backup (pg_rewind not possible: " in out
    assert "permission denied for function pg_ls_dir" in out
    assert f"switched {lg} over to {PRIMARY}" in out and f"switched {HUB} over to {PRIMARY}" in out
    inv = _inv()
    primary = inv.require_database(PRIMARY, lg)
    assert not pg.in_recovery(primary)
    [row] = pg.replication(primary)
    assert (row.state, row.sync_state) == ("streaming", "sync"), row
    ids = _ids(primary)
    # every write acknowledged before the power-off and the one taken at DR are back at the primary;
    # the old primary's own unacknowledged write (-2) went with its timeline
    assert set(RUN["acked"]) <= ids and -1 in ids and -2 not in ids
    pg.psql(inv.require_database(PRIMARY, HUB), f"GRANT {revoke} TO replicator")


#: a client at the primary site (the database's own socket): tries inserts until told to stop or
#: 150 s have passed, "try N T" before each and "ack N T" when COMMIT returned (T epoch seconds)
PARTITION_WRITER = r"""
end=$((SECONDS + 150)); n=3000
while [ $SECONDS -lt $end ] && [ ! -e /tmp/partition-stop ]; do
  n=$((n + 1)); echo "try $n $(date +%s.%N)" >> /tmp/partition-writes
  if timeout 5 psql -XAtq -d residents_registry -c "INSERT INTO two_site_writes (id) VALUES ($n)" >/dev/null 2>&1; then
    echo "ack $n $(date +%s.%N)" >> /tmp/partition-writes
  fi
  sleep 0.1
done
"""


def test_a_partition_with_the_primary_running_leaves_one_writer(two_sites, sites_file):
    """Rehearsal (b): the primary site cut off from the DR site and from the operator (WAN
    partition, management cable out) while its host runs on and a client at the site keeps writing.
    The isolated primary acknowledges no write after the cut (synchronous: its standby is out of
    reach); the failover at the DR site promotes it there; when the cables are back the old primary
    still acknowledges nothing, the re-run failover fences it (a write to it is refused), and after
    the failback none of the writes it took after the cut is anywhere (a write in flight at the cut is
    in doubt, as for any client of a synchronous pair: it may be at DR, and nowhere else)."""
    import docker.errors

    from municloud_ops.dr.inventory import DR, PRIMARY
    from municloud_ops.dr.sla import sla_targets

    sla = sla_targets("dev")
    lg = _lgcode(two_sites)
    primary = _inv().require_database(PRIMARY, lg)
    [row] = pg.replication(primary)
    assert (row.state, row.sync_state) == ("streaming", "sync"), "rehearsal (c) did not leave a synchronous pair"
    primary.exec_run(["bash", "-c", PARTITION_WRITER], user="postgres", detach=True)

    def writes() -> tuple[dict[int, float], dict[int, float]]:
        """(acknowledged id -> when psql returned, tried id -> when it was sent)"""
        acked, tried = {}, {}
        for line in primary.exec_run(["cat", "/tmp/partition-writes"], user="postgres").output.decode().splitlines():
            kind, n, at = line.split()
            (tried if kind == "try" else acked)[int(n)] = float(at)
        return acked, tried

    deadline = time.monotonic() + 60
    while len(writes()[0]) < 5:
        assert time.monotonic() < deadline, "the client at the primary site got no acknowledgement within 60 s"
        time.sleep(0.3)
    print(sites.wan_partition(True))
    print(sites.isolate(PRIMARY, True))
    t_cut = time.time()
    try:
        out = _cli("dr", "failover", "--stack", STACK, "--sites", str(sites_file))
        assert f"site {PRIMARY} unreachable" in out and f"promoted standby {lg} at {DR}" in out
        new_primary = _inv().require_database(DR, lg)
        while _insert(new_primary, -3) != 0:
            assert time.time() - t_cut < 120, "the promoted database accepted no write within 120 s"
            time.sleep(0.2)
        writable = time.time() - t_cut
        time.sleep(3)  # the client at the cut-off site goes on trying meanwhile
    finally:
        print(sites.isolate(PRIMARY, False))
        print(sites.wan_partition(False))
    print(f"partition: DR database writable {writable:.1f} s after the cut (SLA RTO {sla.rto_seconds} s)")

    # the cables are back: the old primary runs and is still a primary, but acknowledges nothing
    deadline = time.monotonic() + 60
    while True:
        try:
            old = _inv().require_database(PRIMARY, lg)
            break
        except LookupError:
            assert time.monotonic() < deadline, "the primary host's engine did not answer again within 60 s"
            time.sleep(1)
    assert old.status == "running" and not pg.in_recovery(old)
    assert _insert(old, -4) == 124  # still waiting for a standby when the client gave up
    old.exec_run(["touch", "/tmp/partition-stop"], user="postgres")
    acked, tried = writes()
    # "ack" is written when psql has returned: on a loaded machine a second or two after the COMMIT
    # it records; a cut-off primary that acknowledged writes would do so for the whole partition
    late = sorted(n for n, at in acked.items() if at > t_cut + 3.0)
    assert not late, f"the cut-off primary acknowledged {late} after the cut"
    at_dr = _ids(_inv().require_database(DR, lg))
    assert set(acked) <= at_dr, f"acknowledged writes missing at DR: {sorted(set(acked) - at_dr)}"
    # Tried after the cut: the cut-off primary could make none of them durable anywhere. Tried
    # before it without the client seeing an acknowledgement (psql given up by `timeout 5` on a
    # loaded machine, or its COMMIT in flight at the cut): in doubt, as for any client of a
    # synchronous pair, and only those may be at DR.
    unacknowledged = set(tried) - set(acked)
    after_cut = {n for n in unacknowledged if tried[n] >= t_cut}
    assert after_cut and not (after_cut & at_dr), sorted(after_cut & at_dr)
    in_doubt_at_dr = unacknowledged & at_dr
    assert all(tried[n] < t_cut for n in in_doubt_at_dr), sorted(in_doubt_at_dr)
    print(f"partition: {len(acked)} writes acknowledged at the primary before the cut, all at DR, none "
          f"after it; {len(after_cut)} tried at the cut-off primary after the cut, none at DR; "
          f"{len(in_doubt_at_dr)} tried before the cut without the client seeing the COMMIT return, at DR")

    # fenced when it answers: stopped, a write to it refused
    out = _cli("dr", "failover", "--stack", STACK, "--sites", str(sites_file))
    assert f"fenced site {PRIMARY}: stopped" in out and f"{DR} {lg} already primary" in out
    old.reload()
    assert old.status != "running"
    with pytest.raises(docker.errors.APIError, match="is not running"):
        old.exec_run(["psql", "-XAtq", "-d", "residents_registry", "-c", f"INSERT INTO {TABLE} (id) VALUES (-5)"],
                     user="postgres")

    # failback: rewound again; what the cut-off primary took without acknowledging is nowhere
    out = _cli("dr", "failback", "--stack", STACK, "--sites", str(sites_file))
    assert f"rewound {PRIMARY} {lg} onto {DR}'s timeline by pg_rewind" in out
    ids = _ids(_inv().require_database(PRIMARY, lg))
    assert set(acked) <= ids and -3 in ids
    assert not ({-4} | after_cut) & ids, sorted(({-4} | after_cut) & ids)
    assert (unacknowledged & ids) <= in_doubt_at_dr  # the old primary kept nothing of its own
    assert writable <= sla.rto_seconds, f"DR database writable {writable:.1f} s after the cut: above the SLA's " \
                                        f"{sla.rto_seconds} s"
