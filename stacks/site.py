"""Sites: one Docker engine of the consortium each, and what runs there (docs/dr.md).

``PrimarySite``: the edge network, every member's slice (Municipality: network + PostgreSQL
cluster + services), the platform hub and the gateway linking them; each cluster is paired with
its DR standby (SLA ``replication_mode``).

``DrSite`` (災害対策サイト): the edge network and a standby gateway, and for every slice of the
primary site its stand-in: a Municipality whose cluster is the primary cluster's streaming standby
and whose services wait as a pilot light (or run warm, SLA ``dr_services``), and the hub's standby
with a pilot-light hub the DR gateway routes ``/hub/`` to. Everything the DR site runs is made
here, under the DR site's component.

Both register as ``municloud:stack:Site`` (the URNs of existing stacks). The site's engine is
``cfg.sites[site].docker_host``, taken once here and handed to every component of the site.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.config import SERVICES, StackConfig
from stacks.gateway import Gateway, GatewayArgs, Route
from stacks.municipality import SERVICE_PORT, Municipality, MunicipalityArgs, ServiceImage
from stacks.naming import docker_name, labels, urn_name
from stacks.platform_hub import PlatformHub, PlatformHubArgs, routing_table
from stacks.platform_keys import HUB_UNIT, member_keys, peer_entries, registry_entry
from stacks.postgres_cluster import StandbyPairing
from stacks.providers.network import Network
from stacks.providers.pki import CertificateAuthority
from stacks.providers.secrets import Ed25519KeyPair
from stacks.status_page import status_host
from stacks.supervisor import SiteSupervisor, SupervisorArgs
from stacks.wan import RoutedWan, WanSegments

TYPE = "municloud:stack:Site"


@dataclass
class SiteArgs:
    """Inputs of one site."""

    config: StackConfig
    """the validated stack config"""
    site: str
    """site name"""
    ca: CertificateAuthority
    """consortium CA"""
    images: dict[str, pulumi.Input[str]]
    """image refs: postgres, nginx, python (the site supervisor)"""
    service_images: dict[str, ServiceImage]
    """per service (and platform_hub)"""
    wan_network: Network | None
    """the WAN network (replication + backup) of a routed WAN; None on one engine (``wan_segments``)"""
    backup_repo: str | None = None
    """backup repository container name: the databases archive WAL to it"""
    routed_wan: RoutedWan | None = None
    """sites on engines of their own (stacks/wan.py): per host WAN networks and the address plan on them"""
    wan_segments: WanSegments | None = None
    """sites on one engine (stacks/wan.py): a WAN segment per pair and the addresses on them"""
    monitoring_networks: tuple[Network, ...] = ()
    """the status page's network at the primary (stacks/status_page.py): the gateway reaches the
    page there"""


class _Site(pulumi.ComponentResource):
    """What both kinds of site have: the engine, the edge network, the gateway."""

    def __init__(self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(TYPE, name, None, opts)
        cfg = args.config
        self.config, self.name = cfg, args.site
        self.docker_host = cfg.sites[args.site].docker_host
        self.gateway_name = docker_name(cfg.stack, args.site, "gateway")
        self.hub_url = f"https://{self.gateway_name}:8443/hub"
        self.edge_network = Network(urn_name(args.site, "edge"), name=docker_name(cfg.stack, args.site, "edge"),
                                    docker_host=self.docker_host, labels=labels(cfg.stack, args.site, "edge"),
                                    internal=True, subnet=cfg.subnet(args.site, kind="edge"),
                                    ip_range=cfg.edge_dynamic_range(args.site),
                                    opts=pulumi.ResourceOptions(parent=self))
        self.municipalities: dict[str, Municipality] = {}
        self.hub: PlatformHub | None = None

    def _finish(self, a: SiteArgs) -> None:
        """The gateway: every member's three services by path, the hub on its internal listener."""
        cfg = a.config
        routes = [Route(code, svc, mun.service_names[svc], SERVICE_PORT)
                  for code, mun in self.municipalities.items() for svc in SERVICES]
        upstreams = [c for mun in self.municipalities.values() for c in mun.services.values()]
        if self.hub is not None:
            upstreams.append(self.hub.container)
        # The frontdoor runs on the host network of the primary site's engine (decision 0019) and
        # connects to a gateway on the same engine from the host side of its edge network (the
        # bridge's address, which no container gets); with sites on hosts of their own it reaches
        # the DR gateway across the WAN at its fixed address, from the primary host's WAN address.
        wan_endpoint = None
        if a.routed_wan is not None and a.site != cfg.primary_site:
            wan_endpoint = a.routed_wan.endpoint(a.site, "gateway")
        self.gateway = Gateway(urn_name(a.site, "gateway"), GatewayArgs(
            stack=cfg.stack, site=a.site, docker_host=self.docker_host, image=a.images["nginx"], ca=a.ca,
            edge_network=self.edge_network, edge_address=cfg.gateway_address(a.site),
            tenant_networks=[m.network for m in self.municipalities.values()],
            backend_networks=([self.hub.network] if self.hub else []) + list(a.monitoring_networks),
            routes=routes, hub={"host": self.hub.container_name, "port": SERVICE_PORT} if self.hub else None,
            # the page's network is on the primary's engine: a gateway elsewhere cannot reach it
            status={"host": status_host(cfg.stack, cfg.primary_site), "port": SERVICE_PORT}
            if a.monitoring_networks else None,
            rate_per_second=cfg.gateway_rate_per_second, burst=cfg.gateway_burst, depends_on=upstreams,
            health_timeout_s=cfg.health_timeout_s,
            # The frontdoor's PROXY header only: a container on the edge network (none but the
            # gateway is) cannot claim a client address of its choice (rate limits and logs key on it).
            trusted_proxies=[f"{cfg.frontdoor_source(a.site)}/32"], wan_endpoint=wan_endpoint,
            cert_validity_days=cfg.edge_cert_validity_days,
            cert_renew_before_days=cfg.edge_cert_renew_before_days), pulumi.ResourceOptions(parent=self))
        # The supervisor mounts its engine's unix socket: the path on the site host itself (on a
        # site reached over tcp+TLS, not a path of this machine: sites.<name>.engine_socket).
        self.supervisor = SiteSupervisor(urn_name(a.site, "supervisor"), SupervisorArgs(
            stack=cfg.stack, site=a.site, docker_host=self.docker_host,
            engine_socket=cfg.sites[a.site].socket_mount(), image=a.images["python"]),
            pulumi.ResourceOptions(parent=self))
        self.register_outputs({"edge_network": self.edge_network.name, "gateway": self.gateway.container.name,
                               "municipalities": sorted(self.municipalities)})


class PrimarySite(_Site):
    """The site that serves: members, hub, gateway; every cluster paired with a DR standby."""

    def __init__(self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        a, cfg = args, args.config
        child = pulumi.ResourceOptions(parent=self)
        pairing = StandbyPairing(site=cfg.dr_site, synchronous=cfg.sla.replication_mode == "synchronous",
                                 backup_repo=a.backup_repo)
        wan_subnet = cfg.subnet(a.site, kind="wan")
        hub_key = Ed25519KeyPair(urn_name(a.site, "hub-platform-key"),
                                 keepers={"stack": cfg.stack, "site": a.site, "unit": HUB_UNIT}, opts=child)
        hub_entry = registry_entry("*", HUB_UNIT, hub_key.public_key_b64)
        all_entries = [hub_entry]
        # every member's platform keys first: each residents_registry trusts the others' (転出→転入)
        keys = member_keys(cfg.stack, a.site, [m.lgcode for m in cfg.municipalities], self)
        for m in cfg.municipalities:
            mun = Municipality(urn_name(a.site, m.lgcode), MunicipalityArgs(
                stack=cfg.stack, site=a.site, docker_host=self.docker_host, municipality=m,
                subnet=cfg.subnet(a.site, m.address_slot), ca=a.ca, postgres_image=a.images["postgres"],
                service_images=a.service_images, hub_url=self.hub_url, wan_network=a.wan_network,
                wan_subnet=wan_subnet, hub_key_entry=hub_entry, platform_keys=keys[m.lgcode],
                peer_entries=peer_entries(keys, m.lgcode), health_timeout_s=cfg.health_timeout_s,
                extra_service_env={"SITE": a.site}, pairing=pairing,
                egress=m.lgcode in cfg.tenant_egress, routed_wan=a.routed_wan,
                wan_segments=a.wan_segments, isolate_engine_host=cfg.engine_host_isolation), child)
            self.municipalities[m.lgcode] = mun
            all_entries += mun.registry_entries
        self.hub = PlatformHub(urn_name(a.site, "hub"), PlatformHubArgs(
            stack=cfg.stack, site=a.site, docker_host=self.docker_host, subnet=cfg.subnet(a.site, kind="hub"),
            ca=a.ca, postgres_image=a.images["postgres"],
            image=a.service_images["platform_hub"], key=hub_key, registry_entries=all_entries,
            routing_table=routing_table([m.lgcode for m in cfg.municipalities]), gateway_name=self.gateway_name,
            health_timeout_s=cfg.health_timeout_s, wan_network=a.wan_network,
            wan_subnet=wan_subnet, pairing=pairing, routed_wan=a.routed_wan,
            wan_segments=a.wan_segments, isolate_engine_host=cfg.engine_host_isolation), child)
        self._finish(a)


class DrSite(_Site):
    """The site that stands by: for every slice of ``primary`` its standby cluster and DR services."""

    def __init__(self, name: str, args: SiteArgs, primary: PrimarySite,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        a, cfg = args, args.config
        child = pulumi.ResourceOptions(parent=self)
        # replication reaches the standbys from the primaries' WAN addresses
        wan_subnet = cfg.subnet(primary.name, kind="wan")
        for m in cfg.municipalities:
            # same codes, the DR site's own /24s; services reach the standby, the gateway them
            mun = Municipality(urn_name(a.site, m.lgcode), MunicipalityArgs(
                stack=cfg.stack, site=a.site, docker_host=self.docker_host, municipality=m,
                subnet=cfg.subnet(a.site, m.address_slot), ca=a.ca, postgres_image=a.images["postgres"],
                service_images=a.service_images, wan_network=a.wan_network, wan_subnet=wan_subnet,
                health_timeout_s=cfg.health_timeout_s, standby_of=primary.municipalities[m.lgcode],
                start_services=cfg.sla.dr_services == "warm",
                hub_url=self.hub_url if primary.hub else None, extra_service_env={"SITE": a.site},
                egress=m.lgcode in cfg.tenant_egress, routed_wan=a.routed_wan,
                wan_segments=a.wan_segments, isolate_engine_host=cfg.engine_host_isolation), child)
            self.municipalities[m.lgcode] = mun
        if primary.hub is not None:
            # the hub's DR twin: pilot light on the hub's standby, same key and registry as the primary's
            src = primary.hub
            self.hub = PlatformHub(urn_name(a.site, "hub"), PlatformHubArgs(
                stack=cfg.stack, site=a.site, docker_host=self.docker_host, subnet=cfg.subnet(a.site, kind="hub"),
                ca=a.ca, postgres_image=a.images["postgres"],
                image=a.service_images["platform_hub"], key=src.key, registry_entries=src.registry_entries,
                routing_table=src.routing_table, gateway_name=self.gateway_name,
                health_timeout_s=cfg.health_timeout_s, wan_network=a.wan_network,
                wan_subnet=wan_subnet, standby_of=src, routed_wan=a.routed_wan,
                wan_segments=a.wan_segments, isolate_engine_host=cfg.engine_host_isolation), child)
        self._finish(a)
