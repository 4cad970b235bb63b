"""Docker network as a dynamic resource (per municipality internal, per site edge, WAN)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CreateResult, ReadResult, Resource, UpdateResult

from ._base import ValidatingProvider, check_labels, docker_client, engine_props, is_unknown


#: bridge driver option: the bridge takes no address in the network's subnet, so nothing on the
#: network reaches the engine host (Docker 20.10 gives an internal network's containers a default
#: route via that address; without it the route leads nowhere)
NO_HOST_ADDRESS = {"com.docker.network.bridge.inhibit_ipv4": "true"}


def host_isolation(setting: bool | str, applies: bool = True) -> tuple[dict[str, str] | None, list[str] | None]:
    """(driver options, ``ignore_changes``) of a tenant, hub or monitoring network for the config
    value ``municloud:engine_host_isolation`` (docs/operator-guide.md "Which network reaches what").

    ``"new-networks"`` (the default): a network created from now on holds no host address, and one
    a stack already has keeps what it was made with (Pulumi ignores a change of its options, so
    upgrading a stack plans no replacement of a network or a database). ``True``: enforced (a
    network without it is planned for replacement, with its containers). ``False``: off.
    ``applies`` False (a member with egress): off.
    """
    if not applies or setting is False:
        return None, None
    return dict(NO_HOST_ADDRESS), (None if setting is True else ["options"])


class NetworkProvider(ValidatingProvider):
    KIND = "network"
    REQUIRED = {"name": str, "docker_host": str, "labels": dict}
    OPTIONAL = {"internal": bool, "subnet": str, "ip_range": str, "docker_tls": dict, "options": dict}
    REPLACE_ON = ("name", "docker_host", "labels", "internal", "subnet", "ip_range", "options")

    def validate(self, news):
        failures = check_labels(news)
        subnet = news.get("subnet")
        if subnet and not is_unknown(subnet):
            try:
                ipaddress.ip_network(subnet)
            except ValueError:
                failures.append(CheckFailure("subnet", f"network {news['name']}: 'subnet' is not a CIDR: {subnet!r}"))
        ip_range = news.get("ip_range")
        if ip_range and not is_unknown(ip_range):
            try:
                inside = subnet and not is_unknown(subnet) and ipaddress.ip_network(ip_range).subnet_of(
                    ipaddress.ip_network(subnet))
            except (ValueError, TypeError):
                inside = False
            if not inside:
                failures.append(CheckFailure("ip_range", f"network {news['name']}: 'ip_range' {ip_range!r} must be "
                                                         f"a CIDR inside 'subnet'"))
        return failures

    def create(self, props: dict[str, Any]) -> CreateResult:
        import docker.errors

        client = docker_client(props)
        for existing in client.networks.list(names=[props["name"]]):
            # A leftover of an interrupted run of the same stack is adopted, anything else is an error.
            if existing.name == props["name"]:
                if existing.attrs.get("Labels") != props["labels"]:
                    raise docker.errors.APIError(
                        f"network {props['name']} already exists on {props['docker_host']} and is not ours")
                differs = _differences(existing.attrs, props)
                if differs:
                    # same name and labels, other settings (made by hand, or left by an interrupted
                    # replacement): adopting it would record settings it does not have
                    raise docker.errors.APIError(
                        f"network {props['name']} exists with other settings ({'; '.join(differs)}); Docker "
                        f"cannot change them in place: remove it (and its containers) or keep the setting "
                        f"(docs/operator-guide.md \"Which network reaches what\")")
                return CreateResult(existing.id, dict(props))
        ipam = None
        if props.get("subnet"):
            from docker.types import IPAMConfig, IPAMPool

            # ip_range: where Docker picks addresses; the rest of the subnet is for fixed addresses.
            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=props["subnet"], iprange=props.get("ip_range"))])
        net = client.networks.create(props["name"], driver="bridge", internal=bool(props.get("internal")),
                                     labels=props["labels"], check_duplicate=True, ipam=ipam,
                                     options=props.get("options") or None)
        return CreateResult(net.id, dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        import docker.errors

        try:
            net = docker_client(props).networks.get(id_)
        except docker.errors.NotFound:
            return ReadResult("", {})
        live = {**props, "name": net.name, "labels": net.attrs.get("Labels") or {},
                "internal": bool(net.attrs.get("Internal"))}
        if "options" in props:  # the driver options the program set, as the engine holds them
            held = net.attrs.get("Options") or {}
            live["options"] = {k: held[k] for k in props["options"] if k in held}
        return ReadResult(id_, live)

    def update(self, _id, _olds, news) -> UpdateResult:
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        import docker.errors

        try:
            docker_client(props).networks.get(id_).remove()
        except docker.errors.NotFound:
            pass


def _differences(attrs: dict[str, Any], props: dict[str, Any]) -> list[str]:
    """What an existing network (``docker network inspect``) holds other than ``props`` asks for:
    internal, subnet, the driver options the program sets."""
    found = []
    if bool(attrs.get("Internal")) != bool(props.get("internal")):
        found.append(f"internal {bool(attrs.get('Internal'))}, wanted {bool(props.get('internal'))}")
    subnets = [c.get("Subnet") for c in (attrs.get("IPAM") or {}).get("Config") or []]
    if props.get("subnet") and props["subnet"] not in subnets:
        found.append(f"subnet {subnets}, wanted {props['subnet']}")
    held = attrs.get("Options") or {}
    for key, value in sorted((props.get("options") or {}).items()):
        if held.get(key) != value:
            found.append(f"option {key}={held.get(key)!r}, wanted {value!r}")
    return found


class Network(Resource, module="municloud", name="Network"):
    """A Docker network; ``internal`` networks have no route out of the engine. With ``ip_range``
    Docker assigns addresses only inside it, leaving the rest of ``subnet`` for fixed addresses."""

    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: pulumi.Input[str], docker_host: pulumi.Input[str],
                 labels: pulumi.Input[dict], internal: bool = True, subnet: str = "", ip_range: str = "",
                 options: dict[str, str] | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"name": name, "docker_host": docker_host, "labels": labels, "internal": internal, "subnet": subnet}
        if ip_range:  # only when given: networks created without one keep their state unchanged
            props["ip_range"] = ip_range
        if options:  # likewise (bridge driver options, e.g. no masquerade on a routed network)
            props["options"] = dict(options)
        props |= engine_props(docker_host)
        super().__init__(NetworkProvider(), resource_name, props, opts)
