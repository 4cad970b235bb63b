"""A network is adopted under its name only when it is the one the program asks for.

A leftover of an interrupted run of the same stack (same name, labels and settings) is adopted; a
network of the same name and labels with other settings (made by hand, or left by an interrupted
replacement after an option such as ``municloud:engine_host_isolation`` changed) is an error
naming the difference - adopting it would record settings it does not have - and nothing is
created.
"""

from __future__ import annotations

import os
import uuid

import docker
import pytest

from stacks.providers.network import NO_HOST_ADDRESS, NetworkProvider, _differences

LABELS = {"municloud.stack": "x", "municloud.site": "primary", "municloud.lgcode": "053031",
          "municloud.component": "network"}


@pytest.mark.unit
def test_the_differences_name_internal_subnet_and_options():
    attrs = {"Internal": True, "IPAM": {"Config": [{"Subnet": "10.9.1.0/24"}]}, "Options": {}}
    same = {"internal": True, "subnet": "10.9.1.0/24"}
    assert _differences(attrs, same) == []  # the twin
    assert _differences(attrs, same | {"options": dict(NO_HOST_ADDRESS)}) == [
        "option com.docker.network.bridge.inhibit_ipv4=None, wanted 'true'"]
    assert _differences(attrs, {"internal": False, "subnet": "10.9.2.0/24"}) == [
        "internal True, wanted False", "subnet ['10.9.1.0/24'], wanted 10.9.2.0/24"]


@pytest.mark.integration
def test_a_network_of_the_same_name_with_another_option_is_refused_and_the_same_one_adopted():
    stack = f"netadopt{os.getpid()}{uuid.uuid4().hex[:4]}"
    name = f"mc-{stack}-053031"
    props = {"name": name, "docker_host": "unix:///var/run/docker.sock", "labels": LABELS | {"municloud.stack": stack},
             "internal": True, "subnet": "10.254.77.0/29"}
    provider, client = NetworkProvider(), docker.from_env()
    made = provider.create(dict(props))
    try:
        assert provider.create(dict(props)).id == made.id  # the twin: the leftover is adopted
        with pytest.raises(docker.errors.APIError, match="inhibit_ipv4=None, wanted 'true'"):
            provider.create(props | {"options": dict(NO_HOST_ADDRESS)})
        assert [n.id for n in client.networks.list(names=[name])] == [made.id]  # nothing created
    finally:
        for net in client.networks.list(names=[name]):
            net.remove()
