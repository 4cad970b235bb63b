"""Frontdoor: the consortium's one published endpoint, 127.0.0.1:<port> (HAProxy).

TCP pass-through to the site gateways' public listeners with TLS health checks, the client's
address sent ahead by PROXY protocol (v2); the primary site's gateway takes
all traffic while healthy, the DR gateway is a backup server. Config rendered by roles/frontdoor.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.gateway import GATEWAY_PUBLIC_PORT
from stacks.naming import docker_name, labels, urn_name
from stacks.providers.container import Container
from stacks.providers.network import Network
from stacks.providers.pki import CertificateAuthority
from stacks.providers.rendered import RenderedConfig
from stacks.tls import plain_file

HAPROXY_PORT = 8443


@dataclass
class Backend:
    """A gateway behind the frontdoor."""

    name: str
    """server name in HAProxy (the site)"""
    host: str
    """gateway container name"""
    backup: bool
    """True for the DR gateway"""


@dataclass
class FrontdoorArgs:
    """Inputs of the frontdoor."""

    stack: str
    """stack name"""
    site: str
    """site it runs at (label), the primary"""
    docker_host: str
    """Docker engine it runs on"""
    image: pulumi.Input[str]
    """haproxy image reference"""
    ca: CertificateAuthority
    """consortium CA (verifies gateway certificates in health checks)"""
    edge_networks: list[tuple[Network, str]]
    """edge network of every site, with the frontdoor's fixed address on it"""
    backends: list[Backend]
    """gateways, primary first"""
    host_port: int
    """published on 127.0.0.1 only"""
    depends_on: list[pulumi.Resource]
    """gateways"""
    health_timeout_s: int = 180
    """container health wait"""
    publish_on: tuple[Network, str] | None = None
    """sites on hosts of their own: the primary host's WAN network and the frontdoor's fixed address
    on it, its first network (the port is published from it, and the DR gateway is reached across
    it); None: a network of its own for publishing"""


class Frontdoor(pulumi.ComponentResource):
    """HAProxy on 127.0.0.1:<port>, primary gateway first, DR as backup."""

    def __init__(self, name: str, args: FrontdoorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:Frontdoor", name, None, opts)
        a = args
        child = pulumi.ResourceOptions(parent=self)
        self.container_name = docker_name(a.stack, None, "frontdoor")
        variables = {"frontdoor_listen_port": HAPROXY_PORT,
                     "frontdoor_backends": [{"name": b.name, "host": b.host, "port": GATEWAY_PUBLIC_PORT,
                                             "backup": b.backup} for b in a.backends]}
        self.config = RenderedConfig(urn_name("frontdoor-config"), role="frontdoor",
                                     instance=f"{a.stack}-frontdoor", output_var="frontdoor_output_dir",
                                     variables=variables, opts=child)
        files = [plain_file("/etc/municloud/haproxy.cfg", self.config.files.apply(lambda f: f["haproxy.cfg"])),
                 plain_file("/run/secrets/frontdoor-tls/ca.crt", a.ca.cert_pem)]
        # Docker publishes no port of a container on internal networks only (the edges are):
        # the frontdoor alone gets a non-internal network, first, to carry 127.0.0.1:<port>. With
        # sites on hosts of their own that is the primary host's routed WAN network: its default
        # route is then the WAN, where the DR gateway is.
        if a.publish_on is not None:
            self.publish_network, address = a.publish_on
            first = {"name": self.publish_network.name, "aliases": [], "ipv4_address": address}
        else:
            self.publish_network = Network(
                urn_name("frontdoor-net"), name=docker_name(a.stack, None, "frontdoor-net"),
                docker_host=a.docker_host, labels=labels(a.stack, a.site, "frontdoor"), internal=False,
                opts=child)
            first = {"name": self.publish_network.name, "aliases": []}
        self.container = Container(
            urn_name("frontdoor"), name=self.container_name, docker_host=a.docker_host, image=a.image,
            labels=labels(a.stack, a.site, "frontdoor"),
            networks=[first]
            + [{"name": n.name, "aliases": [], "ipv4_address": address} for n, address in a.edge_networks],
            ports=[{"container_port": HAPROXY_PORT, "host_port": a.host_port}], read_only=True,
            tmpfs={"/tmp": "rw,noexec,nosuid,size=16m"}, files=files,
            health_timeout=a.health_timeout_s, opts=pulumi.ResourceOptions(parent=self, depends_on=a.depends_on))
        self.url = f"https://127.0.0.1:{a.host_port}"
        self.register_outputs({"container": self.container.name, "url": self.url})
