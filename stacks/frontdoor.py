"""Frontdoor: the consortium's one published endpoint (HAProxy), 127.0.0.1:<port> of its engine's host.

TCP pass-through to the site gateways' public listeners with TLS health checks, the client's
address sent ahead by PROXY protocol (v2); the primary site's gateway takes all traffic while
healthy, the DR gateway is a backup server. Config rendered by roles/frontdoor.

It runs on the host network of the primary site's engine (decision 0019): no userland proxy
between the client and HAProxy, so the address it hands on is the client's own. There Docker's
DNS does not answer, so each gateway is reached at its fixed address, and from a fixed address of
the host (``Backend.source``) - the one its gateway believes the PROXY header from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.gateway import GATEWAY_PUBLIC_PORT
from stacks.naming import docker_name, labels, urn_name
from stacks.providers.container import HOST_NETWORK, Container
from stacks.providers.pki import CertificateAuthority
from stacks.providers.rendered import RenderedConfig
from stacks.tls import plain_file

#: the frontdoor's own /healthz (HAProxy monitor-uri): a unix socket in the container's /tmp, so that
#: on the host network it takes no port of the host (every stack on an engine has a frontdoor)
HEALTH_SOCKET = "/tmp/frontdoor-health.sock"


@dataclass
class Backend:
    """A gateway behind the frontdoor."""

    name: str
    """server name in HAProxy (the site)"""
    address: str
    """the gateway's fixed address (on its edge network, or across the WAN)"""
    source: str
    """the host address the frontdoor connects from: the one the gateway believes the PROXY header from"""
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
    """Docker engine it runs on (on that engine's host network)"""
    image: pulumi.Input[str]
    """haproxy image reference"""
    ca: CertificateAuthority
    """consortium CA (verifies gateway certificates in health checks)"""
    backends: list[Backend]
    """gateways, primary first"""
    bind_address: str
    """host address it listens on: 127.0.0.1, or on a site host of its own that host's WAN address"""
    host_port: int
    """port it listens on (``frontdoor_port``)"""
    depends_on: list[pulumi.Resource]
    """gateways, and the networks whose host-side addresses it binds or connects from"""
    health_timeout_s: int = 180
    """container health wait"""


class Frontdoor(pulumi.ComponentResource):
    """HAProxy on <bind_address>:<port> of its engine's host, primary gateway first, DR as backup."""

    def __init__(self, name: str, args: FrontdoorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:Frontdoor", name, None, opts)
        a = args
        child = pulumi.ResourceOptions(parent=self)
        self.container_name = docker_name(a.stack, None, "frontdoor")
        self.listen = f"{a.bind_address}:{a.host_port}"
        variables = {"frontdoor_bind_address": a.bind_address, "frontdoor_listen_port": a.host_port,
                     "frontdoor_health_socket": HEALTH_SOCKET,
                     "frontdoor_backends": [{"name": b.name, "host": b.address, "port": GATEWAY_PUBLIC_PORT,
                                             "source": b.source, "backup": b.backup} for b in a.backends]}
        self.config = RenderedConfig(urn_name("frontdoor-config"), role="frontdoor",
                                     instance=f"{a.stack}-frontdoor", output_var="frontdoor_output_dir",
                                     variables=variables, opts=child)
        files = [plain_file("/etc/municloud/haproxy.cfg", self.config.files.apply(lambda f: f["haproxy.cfg"])),
                 plain_file("/run/secrets/frontdoor-tls/ca.crt", a.ca.cert_pem)]
        self.container = Container(
            urn_name("frontdoor"), name=self.container_name, docker_host=a.docker_host, image=a.image,
            labels=labels(a.stack, a.site, "frontdoor"), networks=[], network_mode=HOST_NETWORK,
            # where it listens, for the operator tooling (municloud dr): nothing is published to read it from
            env={"FRONTDOOR_LISTEN": self.listen}, read_only=True,
            tmpfs={"/tmp": "rw,noexec,nosuid,size=16m"}, files=files,
            health_timeout=a.health_timeout_s, opts=pulumi.ResourceOptions(parent=self, depends_on=a.depends_on))
        self.url = f"https://{self.listen}"
        self.register_outputs({"container": self.container.name, "url": self.url})
