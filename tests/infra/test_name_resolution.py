"""A name that is not on the stack's networks (a peer whose container is gone: the killed primary a
standby's WAL receiver looks up during failover) fails fast in every container of the stack;
the twin, a container on the same internal network with the resolver's defaults, hangs."""

from __future__ import annotations

import time

import docker
import pytest

from stacks.providers.container import DNS_OPTIONS

pytestmark = [pytest.mark.live, pytest.mark.infra]

MISSING = "mc-missing-peer-postgres"  # what a stopped primary's name looks like to its standby


def _lookup_seconds(container, bound_s: int) -> tuple[int, float]:
    t0 = time.monotonic()
    # ahosts = getaddrinfo(AF_UNSPEC), A and AAAA side by side, as libpq looks a host up
    rc, _ = container.exec_run(["timeout", str(bound_s), "getent", "ahosts", MISSING])
    return rc, time.monotonic() - t0


@pytest.mark.parametrize("component", ["postgres", "standby", "residents_registry", "gateway"])
def test_a_missing_peer_name_fails_within_four_seconds(containers, component):
    target = next(c for c in containers.values() if c.labels["municloud.component"] == component)
    target.reload()
    assert set(DNS_OPTIONS) <= set(target.attrs["HostConfig"].get("DnsOptions") or [])
    rc, seconds = _lookup_seconds(target, 15)
    assert rc == 2, f"{target.name}: getent exit {rc} (2 = name not found, 124 = still waiting at 15 s)"
    assert seconds < 4.0, f"{target.name}: a missing name took {seconds:.1f} s to fail"  # ~2 s; 20 s before


def test_twin_the_resolver_defaults_on_the_same_network_hang(containers):
    """Same image and internal network, without the options: the lookup is still waiting at 6 s."""
    pg = next(c for c in containers.values() if c.labels["municloud.component"] == "postgres")
    network = next(iter(pg.attrs["NetworkSettings"]["Networks"]))
    twin = docker.from_env().containers.run(
        pg.image.id, ["sleep", "60"], entrypoint=[], detach=True, network=network, remove=True,
        labels={**pg.labels, "municloud.component": "dns-twin"}, cap_drop=["ALL"],
        security_opt=["no-new-privileges:true"])
    try:
        rc, seconds = _lookup_seconds(twin, 6)
        assert rc == 124 and seconds >= 5.5, f"defaults answered in {seconds:.1f} s (exit {rc})"
    finally:
        twin.remove(force=True)
