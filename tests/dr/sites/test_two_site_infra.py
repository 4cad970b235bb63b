"""testinfra on each site host, through that host's engine address (tcp+TLS with the consortium
CA's client certificate: tests/infra/infra_helpers.py `EngineDockerBackend`), on the package's
stack across the two hosts (`two_sites`). The isolation and container checks of tests/infra run
here unchanged: a container is entered on the engine it was found on. Then what only two hosts
have: each engine holds its own site's objects and nothing of the other's, the engines' server
certificates, and the other host's engine API out of reach of the stack's containers.

Not here, and why: the checks of the engine host's own addresses (tests/infra
test_network_isolation's host tests) read this machine's interfaces and listen on them; a site
host's are its namespace's (tests/infra/test_site_hosts.py, test_wan_link.py). The frontdoor's
loopback-only listener is the one-engine topology's; on a site host it listens on the host's WAN
address (decision 0045).

The per-member WAN segmentation tests of tests/infra run here too: across hosts the members share
one WAN-facing network per host, and the hosts' firewall lets a server start flows to its peer and
the backup repository only (tools/bootstrap/wan.sh `pair_rules`, decision 0048), where one engine
gives each pair a segment of its own (decision 0041).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from infra_helpers import engine_args, host
from test_containers import (  # noqa: F401  (collected here)
    test_certificates_valid_for_their_names_and_chained_to_the_ca,
    test_each_service_role_reaches_only_its_own_database,
    test_only_expected_ports_listen,
    test_postgres_settings,
    test_services_do_not_run_as_root,
    test_twin_postgres_container_can_be_entered_as_root,
)
from test_isolation import (  # noqa: F401
    test_no_credential_of_b_in_a,
    test_other_municipality_unreachable,
    test_own_postgres_is_reachable_from_a_service,
)
from test_name_resolution import test_a_missing_peer_name_fails_within_four_seconds  # noqa: F401
from test_network_isolation import (  # noqa: F401
    _addresses,
    _probe,
    _segment,
    OPEN,
    test_a_members_postgres_reaches_its_own_standby_and_the_repository_only,
    test_a_service_and_the_hub_reach_their_own_postgres_and_nothing_on_the_wan,
    test_pg_hba_admits_replication_from_the_peers_exact_address_only,
    test_the_hubs_postgres_reaches_its_own_standby_and_no_members,
    tiers,
)

from support import sites

pytestmark = [pytest.mark.live, pytest.mark.dr]

SITES = ("primary", "dr")


@pytest.fixture(scope="module")
def containers(two_sites):
    """Every running container of the stack on both hosts, by name, each from its own engine."""
    found = {}
    for site in SITES:
        listed = two_sites.engine(site).containers.list(filters={"label": f"municloud.stack={two_sites.name}"})
        assert listed, f"nothing of {two_sites.name} runs on the {site} host"
        found.update({c.name: c for c in listed})
    return found


@pytest.fixture(scope="module")
def lgcodes(containers) -> list[str]:
    return sorted({c.labels["municloud.lgcode"] for c in containers.values()} - {"shared"})


def test_testinfra_enters_each_container_on_its_own_sites_engine(two_sites, containers):
    """The command runs in the container on the site host (its hostname is the container's ID);
    the machine's own engine has no container of that name, and the engine flags name the host's
    own address, never the machine's socket. The frontdoor, on the primary host's network, answers
    with that host's own name."""
    import docker

    local = docker.from_env()
    for site in SITES:
        c = next(c for c in containers.values() if c.labels["municloud.site"] == site
                 and c.attrs["HostConfig"]["NetworkMode"] != "host")
        flags = engine_args(c.client)
        assert flags[:2] == ["-H", sites.host(site).docker_host] and "--tlsverify" in flags, flags
        assert host(c).check_output("hostname").strip() == c.id[:12], c.name
        with pytest.raises(docker.errors.NotFound):
            local.containers.get(c.name)
    frontdoor = two_sites.container("frontdoor")
    assert host(frontdoor).check_output("hostname").strip() == sites.host("primary").namespace


def test_each_engine_holds_its_own_sites_objects_only(two_sites):
    """Containers, networks and volumes of the stack on each host carry that host's site, and each
    host's WAN-facing network is that host's routed block of the stack's config."""
    config = two_sites.config("municloud:sites")
    for site in SITES:
        engine = two_sites.engine(site)
        label = {"label": f"municloud.stack={two_sites.name}"}
        objects = {"container": engine.containers.list(all=True, filters=label),
                   "network": engine.networks.list(filters=label), "volume": engine.volumes.list(filters=label)}
        for kind, found in objects.items():
            assert found, (site, kind)
            wrong = [o.name for o in found if (o.attrs.get("Labels") or o.attrs.get("Config", {}).get("Labels")
                                               or {}).get("municloud.site") != site]
            assert not wrong, f"{kind}s on the {site} host labelled for another site: {wrong}"
        wan = [n for n in objects["network"] if n.name.endswith(f"{site}-wan")]
        assert len(wan) == 1, [n.name for n in objects["network"]]
        subnet = wan[0].attrs["IPAM"]["Config"][0]["Subnet"]
        assert ipaddress.ip_network(subnet) == ipaddress.ip_network(config[site]["wan_subnet"]), (site, subnet)


def test_each_engines_certificate_is_the_consortium_cas_for_its_address(two_sites):
    """The engine's server certificate, read in the TLS handshake at its own address with the
    client certificate: chained to the consortium CA, valid for the address, not near its end."""
    tls = sites.SiteHost.tls()
    ca = x509.load_pem_x509_certificate(open(tls["ca_cert"], "rb").read())
    for site in SITES:
        h = sites.host(site)
        context = ssl.create_default_context(cafile=tls["ca_cert"])
        context.load_cert_chain(tls["cert"], tls["key"])
        with socket.create_connection((h.address, h.port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=h.address) as conn:  # hostname checked
            der = conn.getpeercert(binary_form=True)
        cert = x509.load_der_x509_certificate(der)
        assert cert.issuer == ca.subject, (site, cert.issuer)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert ipaddress.ip_address(h.address) in sans.get_values_for_type(x509.IPAddress), (site, sans)
        assert cert.not_valid_after_utc > datetime.now(UTC) + timedelta(days=7), (site, cert.not_valid_after_utc)
        other = sites.host(next(s for s in SITES if s != site))
        assert ipaddress.ip_address(other.address) not in sans.get_values_for_type(x509.IPAddress)


def test_no_container_reaches_either_engines_api(two_sites, tiers):
    """From a member's database on the primary host and its standby on the DR host, neither host's
    engine API answers (it listens on the management link only); the twin, the member's own
    standby across the WAN, does."""
    ports = {site: (sites.host(site).address, sites.host(site).port) for site in SITES}
    for tier in ("postgres", "a_standby"):
        for site, (address, port) in ports.items():
            assert _probe(tiers[tier], address, port) != OPEN, (tiers[tier].name, site, address, port)
    assert _probe(tiers["postgres"], _segment(_addresses(tiers["a_standby"])), 5432) == OPEN
