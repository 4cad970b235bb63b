"""Synchronous replication across the WAN between two site hosts (not a bridge on one engine):
commit latency against the WAN round trip, a partition with the primary running, and a power-off
of the whole primary host. One member's pair (tests/support/dr_lab.py wan_pair); the application
client runs at the DR site and is the only address the primary's pg_hba admits besides the peer.

Needs root and the local engine (images built there, shipped to both site hosts).
"""

from __future__ import annotations

import json
import time

import pytest

from municloud_ops.dr import postgres as pg
from municloud_ops.images import STATE_DIR
from tests.support import sites
from tests.support.dr_lab import commit_latency_ms, wan_pair
from stacks.providers._base import EngineUnreachable

pytestmark = [pytest.mark.integration, pytest.mark.dr]

#: one-way delays (ms) for round trips of 0, 5, 10 and 20 ms (docs/sla-report.md)
ONE_WAY_MS = (0, 2.5, 5, 10)
TABLE = "wan_writes"


@pytest.fixture(scope="module")
def pair():
    print(sites.up("primary", "dr"))
    print(sites.wan_up("primary", "dr"))
    print(sites.wan_set(delay_ms=5, jitter_ms=0, rate_mbit=0))
    clients = {n: sites.host(n).client(timeout=300) for n in ("primary", "dr")}
    try:
        with wan_pair(clients, {n: sites.wan_block(n, sites.LAB_BLOCK_SLOT) for n in clients}) as p:
            primary = p.container("primary")
            pg.psql(primary, f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY); "
                             f"GRANT SELECT, INSERT ON {TABLE} TO residents_registry", database="residents_registry")
            try:
                yield p
            finally:
                print(sites.up("primary"))  # a rehearsal may have powered it off; then its objects go
    finally:
        sites.wan_partition(False)
        sites.wan_set(delay_ms=5, jitter_ms=0, rate_mbit=0)


def test_synchronous_commit_latency_grows_with_the_wan_round_trip(pair):
    primary = pair.container("primary")
    rows = []
    for one_way in ONE_WAY_MS:
        print(sites.wan_set(delay_ms=one_way))
        assert pg.replication(primary)[0].sync_state == "sync"
        rows.append({"rtt_ms": one_way * 2, "sync_ms": commit_latency_ms(primary, TABLE, True), "local_ms": commit_latency_ms(primary, TABLE, False)})
    print(sites.wan_set(delay_ms=5))
    report = STATE_DIR / "reports" / "wan-commit-latency.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(rows, indent=1))
    for r in rows:
        print(f"WAN RTT {r['rtt_ms']:4.0f} ms: commit {r['sync_ms']:.2f} ms synchronous, {r['local_ms']:.2f} ms local "
              f"(+{r['sync_ms'] - r['local_ms']:.2f} ms)")
    by_rtt = {r["rtt_ms"]: r for r in rows}
    # each synchronous commit waits for one round trip at least; a local commit does not
    for rtt in (5, 10, 20):
        assert by_rtt[rtt]["sync_ms"] >= rtt, by_rtt[rtt]
        assert by_rtt[rtt]["local_ms"] < rtt, by_rtt[rtt]
    assert by_rtt[20]["sync_ms"] > by_rtt[0]["sync_ms"] + 15


def test_a_partitioned_primary_acknowledges_no_write_in_synchronous_mode(pair):
    primary = pair.container("primary")
    insert = ["timeout", "5", "psql", "-XAtq", "-d", "residents_registry",
              "-c", f"INSERT INTO {TABLE} VALUES (%d)"]
    print(sites.wan_partition(True))
    try:
        rc, out = primary.exec_run([*insert[:-1], insert[-1] % -1], user="postgres")
        assert rc == 124, out  # still waiting for the standby when the client gave up: no acknowledgement
    finally:
        print(sites.wan_partition(False))
    # the twin: with the link back, the same write is acknowledged
    rc, out = primary.exec_run([*insert[:-1], insert[-1] % -2], user="postgres")
    assert rc == 0, out


WRITER = r"""
pw=$(cat /run/secrets/postgres/residents_registry.password)
i=0
while [ $i -lt 100000 ]; do
  i=$((i+1))
  if PGPASSWORD="$pw" PGCONNECT_TIMEOUT=2 psql -XAtq "host=$1 dbname=residents_registry user=residents_registry sslmode=verify-ca sslrootcert=/run/secrets/postgres-tls/ca.crt" \
       -c "INSERT INTO wan_writes VALUES ($((1000000 + i)))" >/dev/null 2>&1; then echo "ack $((1000000 + i))"; fi
done
"""


def test_power_off_of_the_primary_host_loses_no_acknowledged_write(pair):
    """Rehearsal (a) on one member's pair: every process of the primary host SIGKILLed at once,
    the DR standby promoted; RTO from power-off to the first write accepted at DR."""
    dr_client, primary_name = pair.clients["dr"], pair.names["primary"]
    files = pair.lab.files[0]  # the primary's secrets + CA (the writer's password and trust)
    net = f"mc-{pair.lab.spec.stack}-dr-wan"
    writer = dr_client.containers.create(
        pair.container("dr").image.id, entrypoint=["bash", "-c", WRITER, "writer", primary_name], user="postgres",
        name=f"mc-{pair.lab.spec.stack}-dr-writer", labels={"municloud.stack": pair.lab.spec.stack},
        extra_hosts={primary_name: pair.addresses["primary"]}, volumes=files.volumes(), network=net)
    dr_client.networks.get(net).disconnect(writer)
    dr_client.networks.get(net).connect(writer, ipv4_address=pair.client_address)
    writer.start()
    deadline = time.monotonic() + 120
    while writer.logs().decode().count("ack") < 5:
        assert time.monotonic() < deadline, writer.logs(tail=20).decode()
        time.sleep(0.5)
    print(sites.power_off("primary"))
    t_off = time.monotonic()
    standby = pair.container("dr")
    rc, out = standby.exec_run(["psql", "-XAtc", "SELECT pg_promote(true, 30)"], user="postgres")
    assert rc == 0 and out.decode().strip() == "t", out
    # as the failover does (municloud_ops/dr): the new primary's own standby is gone, commits must not wait for it
    pg.set_synchronous_standby_names(standby, "")
    while True:  # the first write the promoted standby accepts
        rc, _ = standby.exec_run(["timeout", "5", "psql", "-XAtq", "-d", "residents_registry", "-c",
                                  f"INSERT INTO {TABLE} VALUES (-3)"], user="postgres")
        if rc == 0:
            break
        assert time.monotonic() - t_off < 60, "the promoted standby accepted no write within 60 s"
        time.sleep(0.1)
    rto = time.monotonic() - t_off
    writer.stop(timeout=1)
    acked = {int(line.split()[1]) for line in writer.logs().decode().splitlines() if line.startswith("ack")}
    rows = {int(r[0]) for r in pg.psql(standby, f"SELECT id FROM {TABLE} WHERE id > 1000000",
                                       database="residents_registry")}
    lost = acked - rows
    print(f"power-off rehearsal across the WAN: {len(acked)} acknowledged writes, {len(lost)} lost, "
          f"RTO {rto:.1f} s (power-off to the first write accepted at DR, promotion started at once)")
    assert acked and not lost
    assert rto <= 60
    writer.remove(force=True)
    with pytest.raises(EngineUnreachable):  # the primary host is really off
        sites.host("primary").client(timeout=5).ping()
