"""Live containers: PostgreSQL settings, non-root services, listening ports, certificates."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from infra_helpers import SERVICES, by_component, host

pytestmark = [pytest.mark.live, pytest.mark.infra]


def _listening_ports(h) -> set[int]:
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        f = h.file(table)
        if not f.exists:
            continue
        for line in f.content_string.splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A":  # LISTEN
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def _psql(container, sql: str, db: str = "postgres") -> str:
    return host(container, "postgres").check_output(f"psql -d {db} -tAc \"{sql}\"").strip()


def test_postgres_settings(containers):
    for name in by_component(containers, "postgres") + by_component(containers, "hub_postgres"):
        pg = containers[name]
        assert _psql(pg, "show ssl") == "on", name
        assert _psql(pg, "show password_encryption") == "scram-sha-256", name
        assert _psql(pg, "show data_checksums") == "on", name
        rules = _psql(pg, "select type || ' ' || array_to_string(database, ',') || ' ' || auth_method "
                            "from pg_hba_file_rules")
        for rule in rules.splitlines():  # TCP only over TLS; a plain "host" line may only reject
            assert rule.startswith(("hostssl", "local")) or rule.endswith(" reject"), (name, rule)


def test_each_service_role_reaches_only_its_own_database(containers, lgcodes):
    for code in lgcodes:
        (pg,) = by_component(containers, "postgres", code)
        names = ",".join(f"'{s}'" for s in SERVICES)
        rows = _psql(containers[pg], f"select r.rolname || ':' || d.datname || ':' || has_database_privilege(r.rolname, "
                         f"d.datname, 'CONNECT') from pg_roles r cross join pg_database d "
                         f"where r.rolname in ({names}) and d.datname in ({names}, 'postgres')")
        seen = set()
        for row in rows.splitlines():
            role, db, allowed = row.split(":")
            seen.add((role, db))
            assert allowed == ("true" if role == db else "false"), (pg, role, db)
        assert len(seen) == len(SERVICES) * (len(SERVICES) + 1)


def test_services_do_not_run_as_root(containers, lgcodes):
    names = [n for code in lgcodes for s in SERVICES for n in by_component(containers, s, code)]
    names += by_component(containers, "hub") + by_component(containers, "gateway") + \
        by_component(containers, "frontdoor")
    assert names
    for name in names:
        assert host(containers[name]).check_output("id -u").strip() != "0", name


def test_twin_postgres_container_can_be_entered_as_root(containers):
    # the check above can fail: the same probe sees uid 0 when asked as root
    (pg, *_rest) = by_component(containers, "postgres")
    assert host(containers[pg], "root").check_output("id -u").strip() == "0"


@pytest.mark.parametrize("component,expected", [
    # 8432: the pgBackRest TLS server the DR site's repository talks to (archiving, backups)
    ("postgres", {5432, 8432}), ("standby", {5432, 8432}), ("backup_repo", {8432}),
    ("hub_postgres", {5432, 8432}), ("gateway", {8443, 8444}),
    ("residents_registry", {8000}), ("tax", {8000}), ("nhi", {8000}), ("hub", {8000}),
])
def test_only_expected_ports_listen(containers, component, expected):
    names = by_component(containers, component)
    assert names, component
    for name in names:
        ports = _listening_ports(host(containers[name]))
        # Docker's embedded DNS listens on a random port inside every user-defined network
        ports = {p for p in ports if p < 32768}
        assert ports == expected, (name, ports)


def _own_listeners(h) -> set[tuple[str, int]]:
    """(address, port) of the TCP listeners the container's own processes hold. On the host network
    /proc/net/tcp lists every listener of the host, so only sockets whose inode one of the
    container's processes holds (its /proc shows its own processes only) are its own."""
    links = h.check_output("for f in /proc/[0-9]*/fd/*; do readlink \"$f\"; done 2>/dev/null; true")
    inodes = {line[len("socket:["):-1] for line in links.split() if line.startswith("socket:[")}
    found = set()
    for line in h.file("/proc/net/tcp").content_string.splitlines()[1:]:
        cols = line.split()
        if cols[3] == "0A" and cols[9] in inodes:  # LISTEN, and ours
            address, port = cols[1].split(":")
            found.add((".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)), int(port, 16)))
    return found


def test_the_frontdoor_on_the_host_network_listens_on_loopback_only(containers):
    """Decision 0019: HAProxy binds 127.0.0.1:<frontdoor_port> of the engine's host itself (nothing is
    published, no docker-proxy); its own /healthz is a unix socket, so it takes no other port."""
    (name,) = by_component(containers, "frontdoor")
    fd = containers[name]
    assert fd.attrs["HostConfig"]["NetworkMode"] == "host" and not fd.attrs["HostConfig"].get("PortBindings")
    listen = dict(e.split("=", 1) for e in fd.attrs["Config"]["Env"])["FRONTDOOR_LISTEN"]
    address, port = listen.rsplit(":", 1)
    assert _own_listeners(host(fd)) == {(address, int(port))} and address == "127.0.0.1"
    assert host(fd).file("/tmp/frontdoor-health.sock").is_socket
    assert host(fd).check_output("curl -fsS --unix-socket /tmp/frontdoor-health.sock http://frontdoor/healthz")
    # the twin: the same look at a gateway (a network namespace of its own) finds its two listeners
    (gateway, *_rest) = by_component(containers, "gateway")
    assert {p for _a, p in _own_listeners(host(containers[gateway]))} == {8443, 8444}


def _cert(container, path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(host(container).file(path).content)


@pytest.mark.parametrize("component,directory", [("postgres", "/run/secrets/postgres-tls"),
                                                 ("gateway", "/run/secrets/gateway-tls")])
def test_certificates_valid_for_their_names_and_chained_to_the_ca(containers, component, directory):
    for name in by_component(containers, component):
        ca = _cert(containers[name], f"{directory}/ca.crt")
        cert = _cert(containers[name], f"{directory}/server.crt")
        assert cert.issuer == ca.subject
        ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
        assert name in sans, (name, sans)
        other = next(n for n in by_component(containers, component) + ["mc-nobody"] if n != name)
        assert other not in sans  # the twin: a certificate is not valid for another container
