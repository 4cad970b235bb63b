"""Whom the gateways believe about the client address, under pulumi.runtime.set_mocks: the PROXY
protocol header only from the frontdoor's fixed address on each site's edge network, an address
Docker never hands to another container there (it lies outside the network's dynamic range)."""

from __future__ import annotations

import ipaddress

import pytest

from test_dr_wiring import _compose, _containers  # same directory

pytestmark = pytest.mark.unit


def test_gateways_believe_the_proxy_header_of_the_frontdoor_address_only(dev_raw):
    made = _compose(dev_raw)
    c = _containers(made)
    networks = {i["name"]: i for k, _n, i in made.created if k == "Network"}
    frontdoor = {n["name"]: n.get("ipv4_address") for n in c["mc-dev-frontdoor"]["networks"]}
    gateway_vars = {i["instance"]: i["variables"] for k, _n, i in made.created
                    if k == "RenderedConfig" and i["role"] == "gateway"}
    for site in ("primary", "dr"):
        edge = networks[f"mc-dev-{site}-edge"]
        address = ipaddress.ip_address(frontdoor[f"mc-dev-{site}-edge"])
        assert address in ipaddress.ip_network(edge["subnet"])
        assert address not in ipaddress.ip_network(edge["ip_range"])  # never given to another container
        trusted = next(v["gateway_real_ip_from"] for inst, v in gateway_vars.items() if f"-{site}-" in inst)
        assert trusted == [f"{address}/32"]
        # the twin: the whole edge subnet (where the hub and other containers live) is not trusted
        assert edge["subnet"] not in trusted
    assert frontdoor["mc-dev-frontdoor-net"] is None  # the published network: Docker picks the address


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
