"""Whom the gateways believe about the client address, under pulumi.runtime.set_mocks (decision 0019).

The frontdoor runs on the host network of its engine, so no userland proxy stands between the
client and HAProxy; it reaches each gateway at the gateway's fixed edge address from the host side
of that edge network (the bridge's address, which Docker gives no container), and the gateway
believes the PROXY protocol header from that address only."""

from __future__ import annotations

import ipaddress

import pytest

from test_dr_wiring import _compose, _containers  # same directory

pytestmark = pytest.mark.unit


def test_frontdoor_on_the_host_network_reaches_each_gateway_at_its_planned_address(dev_raw):
    made = _compose(dev_raw)
    c = _containers(made)
    cfg = made.cfg
    fd = c["mc-dev-frontdoor"]
    assert (fd["network_mode"], fd["networks"], fd["ports"]) == ("host", [], [])  # nothing published
    assert fd["env"] == {"FRONTDOOR_LISTEN": f"127.0.0.1:{cfg.frontdoor_port}"}
    fd_vars = next(i["variables"] for k, n, i in made.created if k == "RenderedConfig" and n == "frontdoor-config")
    assert (fd_vars["frontdoor_bind_address"], fd_vars["frontdoor_listen_port"]) == ("127.0.0.1", cfg.frontdoor_port)
    networks = {i["name"]: i for k, _n, i in made.created if k == "Network"}
    assert "mc-dev-frontdoor-net" not in networks  # no network of its own to publish from
    backends = {b["name"]: b for b in fd_vars["frontdoor_backends"]}
    for site in ("primary", "dr"):
        edge = networks[f"mc-dev-{site}-edge"]
        gateway = c[f"mc-dev-{site}-gateway"]
        address = ipaddress.ip_address(cfg.gateway_address(site))
        assert address in ipaddress.ip_network(edge["subnet"])
        assert address not in ipaddress.ip_network(edge["ip_range"])  # never given to another container
        assert gateway["networks"][0] == {"name": edge["name"], "aliases": [], "ipv4_address": str(address)}
        assert (backends[site]["host"], backends[site]["source"]) == (str(address), cfg.edge_bridge_address(site))
        assert backends[site]["backup"] is (site == "dr")


def test_gateways_believe_the_proxy_header_of_the_host_side_of_their_edge_only(dev_raw):
    made = _compose(dev_raw)
    cfg = made.cfg
    networks = {i["name"]: i for k, _n, i in made.created if k == "Network"}
    gateway_vars = {i["instance"]: i["variables"] for k, _n, i in made.created
                    if k == "RenderedConfig" and i["role"] == "gateway"}
    for site in ("primary", "dr"):
        edge = ipaddress.ip_network(networks[f"mc-dev-{site}-edge"]["subnet"])
        bridge = ipaddress.ip_address(cfg.edge_bridge_address(site))
        assert bridge == edge.network_address + 1  # where Docker puts a bridge that names no gateway
        trusted = gateway_vars[f"dev-{site}-gateway"]["gateway_real_ip_from"]
        assert trusted == [f"{bridge}/32"]
        # the twin: neither the whole edge subnet (the hub and other containers live there) nor
        # the other site's edge is believed
        assert str(edge) not in trusted
        other = "dr" if site == "primary" else "primary"
        assert f"{cfg.edge_bridge_address(other)}/32" not in trusted


def test_network_and_container_inputs_are_checked():
    from stacks.providers.container import ContainerProvider
    from stacks.providers.network import NetworkProvider

    base = {"name": "n", "docker_host": "unix:///var/run/docker.sock",
            "labels": {"municloud.stack": "t", "municloud.site": "primary", "municloud.lgcode": "shared",
                       "municloud.component": "edge"}}
    bad = NetworkProvider().check({}, {**base, "subnet": "10.0.0.0/24", "ip_range": "10.0.1.0/25"})
    assert [f.property for f in bad.failures] == ["ip_range"]
    assert "inside 'subnet'" in bad.failures[0].reason
    good = NetworkProvider().check({}, {**base, "subnet": "10.0.0.0/24", "ip_range": "10.0.0.0/25"})
    assert good.failures == []
    container = {**base, "name": "c", "image": "x", "networks": [{"name": "n", "ipv4_address": "10.0.0.300"}]}
    bad = ContainerProvider().check({}, container)
    assert any("not an IPv4 address" in f.reason for f in bad.failures)
    container["networks"] = [{"name": "n", "ipv4_address": "10.0.0.250"}]
    assert not any("ipv4_address" in f.reason for f in ContainerProvider().check({}, container).failures)


@pytest.mark.parametrize("changes, prop, reason", [
    ({"network_mode": "bridge"}, "network_mode", "only 'host'"),
    ({"networks": [{"name": "n"}]}, "networks", "joins no other network"),
    ({"ports": [{"container_port": 8443, "host_port": 8443}]}, "ports", "nothing is published"),
])
def test_a_host_network_container_is_checked(changes, prop, reason):
    from stacks.providers.container import ContainerProvider

    container = {"name": "fd", "docker_host": "unix:///var/run/docker.sock", "image": "x", "networks": [],
                 "network_mode": "host",
                 "labels": {"municloud.stack": "t", "municloud.site": "primary", "municloud.lgcode": "shared",
                            "municloud.component": "frontdoor"}}
    assert ContainerProvider().check({}, container).failures == []  # the twin: host mode, no networks
    failures = ContainerProvider().check({}, {**container, **changes}).failures
    assert [f.property for f in failures] == [prop] and reason in failures[0].reason
    # without a mode, no network at all is still refused
    bare = {k: v for k, v in container.items() if k != "network_mode"}
    assert [f.property for f in ContainerProvider().check({}, bare).failures] == ["networks"]
