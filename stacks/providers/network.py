"""Docker network as a dynamic resource (per municipality internal, per site edge, WAN)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CreateResult, ReadResult, Resource, UpdateResult

from ._base import ValidatingProvider, check_labels, docker_client, is_unknown


class NetworkProvider(ValidatingProvider):
    KIND = "network"
    REQUIRED = {"name": str, "docker_host": str, "labels": dict}
    OPTIONAL = {"internal": bool, "subnet": str}
    REPLACE_ON = ("name", "docker_host", "labels", "internal", "subnet")

    def validate(self, news):
        failures = check_labels(news)
        subnet = news.get("subnet")
        if subnet and not is_unknown(subnet):
            try:
                ipaddress.ip_network(subnet)
            except ValueError:
                failures.append(CheckFailure("subnet", f"network {news['name']}: 'subnet' is not a CIDR: {subnet!r}"))
        return failures

    def create(self, props: dict[str, Any]) -> CreateResult:
        import docker.errors

        client = docker_client(props)
        for existing in client.networks.list(names=[props["name"]]):
            # A leftover of an interrupted run of the same stack is adopted, anything else is an error.
            if existing.name == props["name"]:
                if existing.attrs.get("Labels") == props["labels"]:
                    return CreateResult(existing.id, dict(props))
                raise docker.errors.APIError(
                    f"network {props['name']} already exists on {props['docker_host']} and is not ours")
        ipam = None
        if props.get("subnet"):
            from docker.types import IPAMConfig, IPAMPool

            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=props["subnet"])])
        net = client.networks.create(props["name"], driver="bridge", internal=bool(props.get("internal")),
                                     labels=props["labels"], check_duplicate=True, ipam=ipam)
        return CreateResult(net.id, dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        import docker.errors

        try:
            net = docker_client(props).networks.get(id_)
        except docker.errors.NotFound:
            return ReadResult("", {})
        return ReadResult(id_, {**props, "name": net.name, "labels": net.attrs.get("Labels") or {},
                                "internal": bool(net.attrs.get("Internal"))})

    def update(self, _id, _olds, news) -> UpdateResult:
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        import docker.errors

        try:
            docker_client(props).networks.get(id_).remove()
        except docker.errors.NotFound:
            pass


class Network(Resource, module="municloud", name="Network"):
    """A Docker network; ``internal`` networks have no route out of the engine."""

    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: pulumi.Input[str], docker_host: pulumi.Input[str],
                 labels: pulumi.Input[dict], internal: bool = True, subnet: str = "",
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(NetworkProvider(), resource_name,
                         {"name": name, "docker_host": docker_host, "labels": labels, "internal": internal,
                          "subnet": subnet}, opts)
