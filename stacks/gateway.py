"""Gateway: a site's TLS entry point; ``/<lgcode>/<service>/`` reaches only that municipality.

It joins every municipality network of its site (the gateway link) and the site's edge network
(hub; the frontdoor reaches it there from its engine's host, at the gateway's fixed address). Its
nginx configuration is rendered by roles/gateway. Two listeners: the public one
(GATEWAY_PUBLIC_PORT, the frontdoor's only backend; PROXY protocol believed from the address the
frontdoor connects from only, so rate limiting and the access log see the real client) serves the
staff routes; the
internal one (GATEWAY_PORT, not published, what HUB_URL and the hub's INBOX_URL_TEMPLATE name)
serves the machine paths: the hub API ``/hub/``, the platform inboxes and admin endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from stacks.naming import docker_name, labels, urn_name
from stacks.providers.container import Container
from stacks.providers.network import Network
from stacks.providers.pki import Certificate, CertificateAuthority
from stacks.providers.rendered import RenderedConfig
from stacks.tls import plain_file, tls_files

WWW_DATA_UID = 33
#: a changed configuration (routes, a municipality joining or leaving) is tested, then reloaded
RELOAD = ["/bin/sh", "-c", "nginx -q -t -c /etc/municloud/nginx.conf && nginx -c /etc/municloud/nginx.conf -s reload"]
GATEWAY_PORT = 8443  # internal listener: hub and services on the site's Docker networks
GATEWAY_PUBLIC_PORT = 8444  # public listener: the frontdoor's backend, PROXY protocol
SERVER_NAME = "gateway.municloud"


@dataclass
class Route:
    """One tenant route."""

    lgcode: str
    """municipality code"""
    service: str
    """service name"""
    host: str
    """the service container's name"""
    port: int
    """its port"""


@dataclass
class GatewayArgs:
    """Inputs of a site gateway."""

    stack: str
    """stack name"""
    site: str
    """site name"""
    docker_host: str
    """Docker engine of the site"""
    image: pulumi.Input[str]
    """nginx image reference"""
    ca: CertificateAuthority
    """consortium CA"""
    edge_network: Network
    """the site's edge network"""
    edge_address: str
    """its fixed address there (the frontdoor, on the host network, has no DNS to find it by)"""
    tenant_networks: list[Network]
    """municipality networks the gateway links to"""
    backend_networks: list[Network]
    """the networks of its other upstreams: the site's hub network, the status page's monitoring
    network (they are on no network with the host's address: the edge is the gateway's alone)"""
    routes: list[Route]
    """tenant routes"""
    hub: dict | None
    """{host, port} of the platform hub, or None"""
    rate_per_second: int
    """requests/s per client address"""
    burst: int
    """burst above the rate"""
    depends_on: list[pulumi.Resource]
    """containers that must exist first (upstreams)"""
    health_timeout_s: int = 180
    """container health wait"""
    trusted_proxies: list[str] = field(default_factory=list)
    """CIDRs whose PROXY protocol header is believed (the host address the frontdoor connects from)"""
    cert_validity_days: int = 30
    """lifetime of its TLS certificate (short-lived instead of OCSP)"""
    cert_renew_before_days: int = 10
    """``up`` renews the certificate once less than this many days remain"""
    status: dict | None = None
    """{host, port} of the status page (``GET /status`` on the public listener), or None"""
    wan_endpoint: dict | None = None
    """sites on hosts of their own, the DR gateway: its place on its host's WAN network (the primary
    site's frontdoor reaches it there)"""


class Gateway(pulumi.ComponentResource):
    """nginx with TLS from the consortium CA, tenant routing and rate limiting per source."""

    def __init__(self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:Gateway", name, None, opts)
        a = args
        child = pulumi.ResourceOptions(parent=self)
        self.container_name = docker_name(a.stack, a.site, "gateway")
        self.cert = Certificate(urn_name(a.site, "gateway-cert"), ca=a.ca, common_name=SERVER_NAME,
                                dns_names=[SERVER_NAME, self.container_name, "localhost", "127.0.0.1"],
                                validity_days=a.cert_validity_days, renew_before_days=a.cert_renew_before_days,
                                opts=child)
        variables = {
            "gateway_listen_port": GATEWAY_PUBLIC_PORT, "gateway_server_name": SERVER_NAME,
            "gateway_rate_per_second": a.rate_per_second, "gateway_burst": a.burst,
            "gateway_routes": [{"lgcode": r.lgcode, "service": r.service, "host": r.host, "port": r.port}
                               for r in sorted(a.routes, key=lambda r: (r.lgcode, r.service))],
            "gateway_hub": a.hub or {},
            "gateway_status": a.status or {},
            "gateway_internal_port": GATEWAY_PORT, "gateway_real_ip_from": list(a.trusted_proxies),
        }
        self.config = RenderedConfig(urn_name(a.site, "gateway-config"), role="gateway",
                                     instance=f"{a.stack}-{a.site}-gateway", output_var="gateway_output_dir",
                                     variables=variables, opts=child)
        files = [plain_file("/etc/municloud/nginx.conf", self.config.files.apply(lambda f: f["nginx.conf"]))]
        files += tls_files("/run/secrets/gateway-tls", a.ca, self.cert, WWW_DATA_UID)
        networks = [{"name": a.edge_network.name, "aliases": [], "ipv4_address": a.edge_address}] + [
            {"name": n.name, "aliases": []} for n in [*a.tenant_networks, *a.backend_networks]]
        if a.wan_endpoint:
            networks.append(dict(a.wan_endpoint))
        self.container = Container(
            urn_name(a.site, "gateway"), name=self.container_name, docker_host=a.docker_host, image=a.image,
            labels=labels(a.stack, a.site, "gateway"), networks=networks, user=str(WWW_DATA_UID),
            read_only=True, tmpfs={"/tmp": "rw,noexec,nosuid,size=64m"}, files=files,
            health_timeout=a.health_timeout_s, reload=RELOAD,
            opts=pulumi.ResourceOptions(parent=self, depends_on=a.depends_on))
        self.register_outputs({"container": self.container.name, "routes": len(a.routes)})


def internal_url(gateway_name: str) -> str:
    """Base URL of a gateway's internal listener (hub and services use it, never the frontdoor)."""
    return f"https://{gateway_name}:{GATEWAY_PORT}"
