"""Network isolation without passwords on the live stack (docs/security.md "Which network reaches what").

From each tier - a service, a member's PostgreSQL, the hub - a connection to each forbidden address
times out or is refused, and its allowed twin connects: another member's servers on the WAN, the
backup repository's PostgreSQL port and the engine host's address on every network of a service or
a database are forbidden; the own standby, the repository's pgBackRest port and the own PostgreSQL
are allowed. The edge network keeps the host's address (the frontdoor, on the host network,
reaches the gateways through it) and holds the gateway alone: the gateway reaches the host there
(the twin of every host check), the hub, the status page and everything else nowhere. pg_hba admits
replication from the peer's exact address only. "No default route" is read from the routing table
inside each container, never tried by sending packets out. Probes: 2 s each, a few dozen in all.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import threading

import pytest

pytestmark = [pytest.mark.live, pytest.mark.infra, pytest.mark.security]

#: one connection attempt, 2 s at most: 0 connected, 1 refused or unreachable, 124 timed out
PROBE = "(timeout 2 bash -c 'exec 3<>/dev/tcp/{host}/{port}' 2>/dev/null; echo \"{host}:{port} $?\") &"
OPEN = "0"


def _probes(container, targets: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """Each (host, port) tried from ``container`` at once (2 s in all): '0' when it connected,
    else the failure's exit code."""
    script = " ".join(PROBE.format(host=h, port=p) for h, p in targets) + " wait"
    code, out = container.exec_run(["bash", "-c", script])
    assert code == 0, (container.name, out)
    got = {}
    for line in out.decode().split("\n"):
        if line.strip():
            target, rc = line.rsplit(" ", 1)
            host, port = target.rsplit(":", 1)
            got[host, int(port)] = rc
    assert set(got) == set(targets), (container.name, out)
    return got


def _probe(container, host: str, port: int) -> str:
    return _probes(container, [(host, port)])[host, port]


def _none_open(container, targets) -> None:
    opened = [t for t, rc in _probes(container, list(targets)).items() if rc == OPEN]
    assert not opened, (container.name, opened)


def _one(containers, component: str, lgcode: str | None = None, site: str = "primary"):
    found = [c for c in containers.values() if c.labels["municloud.component"] == component
             and c.labels["municloud.site"] == site and (lgcode is None or c.labels["municloud.lgcode"] == lgcode)]
    assert len(found) == 1, (component, lgcode, site, [c.name for c in found])
    return found[0]


def _addresses(container) -> dict[str, str]:
    """network name -> the container's address on it"""
    container.reload()
    return {n: v["IPAddress"] for n, v in container.attrs["NetworkSettings"]["Networks"].items()}


def _segment(addresses: dict[str, str]) -> str:
    """The container's address on its WAN segment (the one network named ``...-wan``)."""
    (address,) = [a for n, a in addresses.items() if n.endswith("-wan")]
    return address


def _host_addresses() -> set[str]:
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split()[3].split("/")[0] for line in out.splitlines()}


def _routes(container) -> list[tuple[str, ipaddress.IPv4Network, str | None]]:
    """(interface, destination, gateway or None) from /proc/net/route inside the container."""
    code, out = container.exec_run(["cat", "/proc/net/route"])
    assert code == 0, (container.name, out)
    routes = []
    for line in out.decode().splitlines()[1:]:
        iface, dest, gw, _flags, _r, _u, _m, mask = line.split()[:8]

        def ip(h: str) -> str:
            return socket.inet_ntoa(int(h, 16).to_bytes(4, "little"))

        net = ipaddress.ip_network(f"{ip(dest)}/{ip(mask)}")
        routes.append((iface, net, ip(gw) if int(gw, 16) else None))
    return routes


def _reaches_host(container, host_addrs: set[str]) -> list[str]:
    """The routes of ``container`` that lead to the engine host: a default route via a host
    address, or an on-link network holding one."""
    found = []
    for iface, net, gw in _routes(container):
        if gw is not None and gw in host_addrs:
            found.append(f"{iface} {net} via {gw}")
        elif gw is None and any(ipaddress.ip_address(a) in net for a in host_addrs):
            found.append(f"{iface} {net} on link with the host")
    return found


@pytest.fixture(scope="module")
def tiers(containers, lgcodes):
    a, b = lgcodes[:2]
    return {"service": _one(containers, "tax", a), "postgres": _one(containers, "postgres", a),
            "hub": _one(containers, "hub"), "a_standby": _one(containers, "standby", a, site="dr"),
            "b_postgres": _one(containers, "postgres", b), "b_standby": _one(containers, "standby", b, site="dr"),
            "hub_postgres": _one(containers, "hub_postgres"),
            "hub_standby": _one(containers, "hub_postgres", site="dr"),
            "repo": _one(containers, "backup_repo", site="dr"), "gateway": _one(containers, "gateway"),
            "status": _one(containers, "status"), "prometheus": _one(containers, "prometheus")}


@pytest.fixture(scope="module")
def host_isolated(tiers):
    """The host tests need a stack made with ``municloud:engine_host_isolation`` on (the default):
    a stack made before the default (or with it false) keeps the host's address on its tenant, hub
    and monitoring bridges - a failure that says so, not a skip."""
    import docker

    client = docker.from_env()
    for tier in ("service", "postgres", "hub", "status"):  # tenant, hub and monitoring networks
        for net in [n for n in _addresses(tiers[tier]) if not n.endswith("-wan")]:
            options = client.networks.get(net).attrs.get("Options") or {}
            assert options.get("com.docker.network.bridge.inhibit_ipv4") == "true", (
                f"{net}: its bridge holds the engine host's address; the network was made without "
                f"municloud:engine_host_isolation (set it true to apply it: docs/operator-guide.md "
                f"\"Which network reaches what\")")


@pytest.fixture(scope="module")
def host_listener():
    """A listener on every address of the engine host, for the duration of the module."""
    srv = socket.create_server(("0.0.0.0", 0))
    srv.settimeout(0.5)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                conn.close()
            except OSError:
                continue

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    srv.close()


def _edge_bridge(gateway) -> str:
    """The engine host's address on the site's edge network (the frontdoor, on the host network,
    reaches the gateway through it: the edge keeps it)."""
    (gw,) = [v["Gateway"] for n, v in gateway.attrs["NetworkSettings"]["Networks"].items() if n.endswith("-edge")]
    return gw


#: every tier but the gateway: no route to the host, no listener of the host reached
HOSTLESS = ("service", "postgres", "a_standby", "repo", "hub", "status", "prometheus")


def test_no_tier_has_a_route_to_the_engine_host(tiers, host_isolated):
    host_addrs = _host_addresses()
    for tier in HOSTLESS:
        assert not _reaches_host(tiers[tier], host_addrs), (tiers[tier].name, _routes(tiers[tier]))
    # the twin: the gateway is on the edge network, whose bridge keeps the host's address
    assert _reaches_host(tiers["gateway"], host_addrs)


def test_no_tier_reaches_a_listener_of_the_engine_host(tiers, host_isolated, host_listener):
    edge = _edge_bridge(tiers["gateway"])
    for tier in ("service", "postgres", "hub", "status"):
        c = tiers[tier]
        # the host's address on each of its networks (where the engine would put one) and on the edge
        targets = {str(ipaddress.ip_network(f"{v['IPAddress']}/{v['IPPrefixLen']}", strict=False).network_address + 1)
                   for v in c.attrs["NetworkSettings"]["Networks"].values()}
        _none_open(c, [(target, host_listener) for target in sorted(targets | {edge})])
    # the twin: the listener answers the gateway at the edge bridge's address
    assert _probe(tiers["gateway"], edge, host_listener) == OPEN


def _repository_for(repo: dict[str, str], seg: str) -> tuple[str, list[str]]:
    """The repository's address where a server on WAN network ``seg`` meets it, and its addresses
    on other pairs' segments: on one engine a segment per pair (decision 0041); on site hosts one
    WAN-facing network per host, where the repository has one address (decision 0034)."""
    if seg in repo:
        return repo[seg], [a for n, a in repo.items() if n.endswith("-wan") and n != seg and not n.endswith("hub-wan")]
    return _segment(repo), []


def test_a_members_postgres_reaches_its_own_standby_and_the_repository_only(tiers):
    pg = tiers["postgres"]
    own = _addresses(pg)
    seg = next(n for n in own if n.endswith("-wan"))
    repo, repo_elsewhere = _repository_for(_addresses(tiers["repo"]), seg)
    # allowed: its own standby and the repository's pgBackRest port, on its own segment
    assert _probe(pg, _segment(_addresses(tiers["a_standby"])), 5432) == OPEN
    assert _probe(pg, repo, 8432) == OPEN
    # forbidden: the other member's servers (on their segment and their tenant network), the hub's,
    # the repository's PostgreSQL port and its place on another pair's segment
    b = _addresses(tiers["b_postgres"])
    forbidden = [(_segment(b), 5432), (_segment(_addresses(tiers["b_standby"])), 5432),
                 (_segment(b), 8432), (_segment(_addresses(tiers["b_standby"])), 8432),
                 (next(a for n, a in b.items() if not n.endswith("-wan")), 5432),
                 (_segment(_addresses(tiers["hub_postgres"])), 5432), (repo, 5432),
                 *[(a, 8432) for a in repo_elsewhere[:1]]]
    _none_open(pg, forbidden)


def test_the_hubs_postgres_reaches_its_own_standby_and_no_members(tiers):
    hub_pg = tiers["hub_postgres"]
    assert _probe(hub_pg, _segment(_addresses(tiers["hub_standby"])), 5432) == OPEN  # the twin
    _none_open(hub_pg, [(_segment(_addresses(tiers[m])), 5432) for m in ("postgres", "a_standby", "b_postgres")])


def test_a_service_and_the_hub_reach_their_own_postgres_and_nothing_on_the_wan(tiers):
    svc, hub = tiers["service"], tiers["hub"]
    assert _probe(svc, tiers["postgres"].name, 5432) == OPEN  # the twins
    assert _probe(hub, tiers["hub_postgres"].name, 5432) == OPEN
    seg_a = next(n for n in _addresses(tiers["postgres"]) if n.endswith("-wan"))
    repo_a, _ = _repository_for(_addresses(tiers["repo"]), seg_a)
    for c in (svc, hub):
        _none_open(c, [(_segment(_addresses(tiers["postgres"])), 5432), (_segment(_addresses(tiers["a_standby"])), 5432),
                       (_segment(_addresses(tiers["hub_postgres"])), 5432), (repo_a, 8432)])


REPLICATION_LOGIN = ("PGPASSFILE=/dev/null PGCONNECT_TIMEOUT=2 psql -X -w "
                     "'host={host} port=5432 user=replicator dbname=replication replication=true "
                     "sslmode=require' -c 'IDENTIFY_SYSTEM' 2>&1 || true")


def test_pg_hba_admits_replication_from_the_peers_exact_address_only(tiers):
    pg, standby, repo = tiers["postgres"], tiers["a_standby"], tiers["repo"]
    peer = _segment(_addresses(standby))
    code, out = pg.exec_run(["psql", "-X", "-At", "-h", "/var/run/postgresql", "-U", "postgres", "-c",
                             "select address || '/' || netmask from pg_hba_file_rules "
                             "where 'replication' = any(database) and type like 'host%'"], user="postgres")
    assert code == 0, out
    assert out.decode().split() == [f"{peer}/255.255.255.255"]
    # the peer streams from exactly that address
    code, out = pg.exec_run(["psql", "-X", "-At", "-h", "/var/run/postgresql", "-U", "postgres", "-c",
                             f"select client_addr from pg_stat_replication where application_name = '{standby.name}'"],
                            user="postgres")
    assert out.decode().split() == [peer], out
    target = _segment(_addresses(pg))
    # without a password: from the repository (on the same segment) pg_hba refuses the connection
    # itself; from the standby it is admitted and only the password is missing (the twin). Across
    # site hosts the repository meets the server on no segment of theirs: the hosts' firewall drops
    # a connection from it to a server's PostgreSQL port before pg_hba sees it (decision 0048)
    seg = next(n for n in _addresses(pg) if n.endswith("-wan"))
    _, refused = repo.exec_run(["sh", "-c", REPLICATION_LOGIN.format(host=target)], user="postgres")
    if seg in _addresses(repo):
        assert b"no pg_hba.conf entry for replication connection" in refused, refused
    else:
        assert b"timeout expired" in refused, refused
    _, admitted = standby.exec_run(["sh", "-c", REPLICATION_LOGIN.format(host=target)], user="postgres")
    assert b"no password supplied" in admitted and b"pg_hba.conf" not in admitted, admitted
