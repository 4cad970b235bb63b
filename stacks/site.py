"""Site: one Docker engine of the consortium (primary or DR) and what runs there.

Primary: the edge network, every municipality, the platform hub and the gateway linking them.
DR: the edge network and a standby gateway; with ``primary`` given, per municipality a slice
standing by for the primary's (streaming standby + DR services, routed by the DR gateway), and the
hub's standby with a pilot-light hub the DR gateway routes ``/hub/`` to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from stacks.config import SERVICES, StackConfig
from stacks.dr_standby import primary_postgres_env
from stacks.gateway import Gateway, GatewayArgs, Route
from stacks.municipality import SERVICE_PORT, DrPairing, Municipality, MunicipalityArgs, ServiceImage
from stacks.naming import docker_name, labels, urn_name
from stacks.platform_hub import HubDrPairing, PlatformHub, PlatformHubArgs
from stacks.providers.network import Network
from stacks.platform_keys import HUB_UNIT, member_keys, peer_entries, registry_entry
from stacks.providers.pki import CertificateAuthority
from stacks.providers.secrets import Ed25519KeyPair
from stacks.supervisor import SiteSupervisor, SupervisorArgs


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
    wan_network: Network
    """the WAN network (replication + backup)"""
    extra_routes: list[Route] = field(default_factory=list)
    """additional tenant routes (DR services)"""
    extra_networks: list[Network] = field(default_factory=list)
    """additional tenant networks the gateway links to (DR)"""
    standbys: bool = False
    """pair each municipality's PostgreSQL with a streaming standby at the DR site (SLA replication_mode)"""
    backup_repo: str | None = None
    """backup repository container name: the databases archive WAL to it"""
    dr_postgres_image: pulumi.Input[str] | None = None
    """primary site with ``standbys``: the postgres image reference at the DR site"""
    primary: "Site | None" = None
    """DR site: the primary Site whose municipalities it stands by for"""


class Site(pulumi.ComponentResource):
    """Everything of one site."""

    def __init__(self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:Site", name, None, opts)
        a, cfg = args, args.config
        child = pulumi.ResourceOptions(parent=self)
        site_cfg = cfg.sites[a.site]
        self.name = a.site
        self.docker_host = site_cfg.docker_host
        self.edge_network = Network(urn_name(a.site, "edge"), name=docker_name(cfg.stack, a.site, "edge"),
                                    docker_host=site_cfg.docker_host, labels=labels(cfg.stack, a.site, "edge"),
                                    internal=True, subnet=cfg.subnet(a.site, kind="edge"),
                                    ip_range=cfg.edge_dynamic_range(a.site), opts=child)
        self.municipalities: dict[str, Municipality] = {}
        self.hub: PlatformHub | None = None
        routes = list(a.extra_routes)
        upstreams: list[pulumi.Resource] = []
        gateway_name = docker_name(cfg.stack, a.site, "gateway")
        if site_cfg.role == "primary":
            hub_key = Ed25519KeyPair(urn_name(a.site, "hub-platform-key"),
                                     keepers={"stack": cfg.stack, "site": a.site, "unit": HUB_UNIT}, opts=child)
            hub_entry = registry_entry("*", HUB_UNIT, hub_key.public_key_b64)
            all_entries = [hub_entry]
            # every member's platform keys first: each residents_registry trusts the others' (転出→転入)
            keys = member_keys(cfg.stack, a.site, [m.lgcode for m in cfg.municipalities], self)
            for i, m in enumerate(cfg.municipalities):
                sync = cfg.sla.replication_mode == "synchronous"
                pairing = primary_postgres_env(cfg.stack, a.site, cfg.dr_site, m.lgcode, synchronous=sync,
                                               backup_repo=a.backup_repo) if a.standbys else {}
                dr = DrPairing(site=cfg.dr_site, docker_host=cfg.sites[cfg.dr_site].docker_host,
                               subnet=cfg.subnet(cfg.dr_site, i), image=a.dr_postgres_image or a.images["postgres"],
                               synchronous=sync, backup_repo=a.backup_repo) if a.standbys else None
                mun = Municipality(urn_name(a.site, m.lgcode), MunicipalityArgs(
                    stack=cfg.stack, site=a.site, docker_host=site_cfg.docker_host, municipality=m,
                    subnet=cfg.subnet(a.site, i), ca=a.ca, postgres_image=a.images["postgres"],
                    service_images=a.service_images, hub_url=f"https://{gateway_name}:8443/hub",
                    wan_network=a.wan_network, wan_subnet=cfg.subnet(a.site, kind="wan"),
                    hub_key_entry=hub_entry, platform_keys=keys[m.lgcode], peer_entries=peer_entries(keys, m.lgcode),
                    health_timeout_s=cfg.health_timeout_s, extra_service_env={"SITE": a.site},
                    extra_postgres_env=pairing, dr=dr), child)
                self.municipalities[m.lgcode] = mun
                all_entries += mun.registry_entries
                routes += [Route(m.lgcode, svc, mun.service_names[svc], SERVICE_PORT) for svc in SERVICES]
                upstreams += list(mun.services.values())
        elif a.primary is not None and a.standbys:
            # DR slices: same codes, the DR site's own /24s; services reach the standby, the gateway them.
            for i, m in enumerate(cfg.municipalities):
                mun = Municipality(urn_name(a.site, m.lgcode), MunicipalityArgs(
                    stack=cfg.stack, site=a.site, docker_host=site_cfg.docker_host, municipality=m,
                    subnet=cfg.subnet(a.site, i), ca=a.ca, postgres_image=a.images["postgres"],
                    service_images=a.service_images, wan_network=a.wan_network,
                    wan_subnet=cfg.subnet(cfg.primary_site, kind="wan"), health_timeout_s=cfg.health_timeout_s,
                    standby_of=a.primary.municipalities[m.lgcode], start_services=cfg.sla.dr_services == "warm",
                    hub_url=f"https://{gateway_name}:8443/hub" if a.primary.hub else None,
                    extra_service_env={"SITE": a.site}),
                    child)
                self.municipalities[m.lgcode] = mun
                routes += [Route(m.lgcode, svc, mun.service_names[svc], SERVICE_PORT) for svc in SERVICES]
                upstreams += list(mun.services.values())
        if site_cfg.role == "primary":
            hub_dr = HubDrPairing(site=cfg.dr_site, docker_host=cfg.sites[cfg.dr_site].docker_host,
                                  subnet=cfg.subnet(cfg.dr_site, kind="hub"),
                                  image=a.dr_postgres_image or a.images["postgres"],
                                  synchronous=cfg.sla.replication_mode == "synchronous",
                                  backup_repo=a.backup_repo) if a.standbys else None
            self.hub = PlatformHub(urn_name(a.site, "hub"), PlatformHubArgs(
                stack=cfg.stack, site=a.site, docker_host=site_cfg.docker_host, subnet=cfg.subnet(a.site, kind="hub"),
                ca=a.ca, edge_network=self.edge_network, postgres_image=a.images["postgres"],
                image=a.service_images["platform_hub"], key=hub_key, registry_entries=all_entries,
                gateway_name=gateway_name, health_timeout_s=cfg.health_timeout_s, wan_network=a.wan_network,
                wan_subnet=cfg.subnet(a.site, kind="wan"), dr=hub_dr), child)
            upstreams.append(self.hub.container)
        elif a.primary is not None and a.standbys and a.primary.hub is not None:
            # the hub's DR twin: pilot light on the hub standby, same key and registry as the primary's
            src = a.primary.hub
            self.hub = PlatformHub(urn_name(a.site, "hub"), PlatformHubArgs(
                stack=cfg.stack, site=a.site, docker_host=site_cfg.docker_host, subnet=cfg.subnet(a.site, kind="hub"),
                ca=a.ca, edge_network=self.edge_network, postgres_image=a.images["postgres"],
                image=a.service_images["platform_hub"], key=src.key, registry_entries=src.registry_entries,
                gateway_name=gateway_name, health_timeout_s=cfg.health_timeout_s, standby_of=src), child)
            upstreams.append(self.hub.container)
        tenant_networks = [m.network for m in self.municipalities.values()] + list(a.extra_networks)
        self.gateway = Gateway(urn_name(a.site, "gateway"), GatewayArgs(
            stack=cfg.stack, site=a.site, docker_host=site_cfg.docker_host, image=a.images["nginx"], ca=a.ca,
            edge_network=self.edge_network, tenant_networks=tenant_networks, routes=routes,
            hub={"host": self.hub.container_name, "port": SERVICE_PORT} if self.hub else None,
            rate_per_second=cfg.gateway_rate_per_second, burst=cfg.gateway_burst, depends_on=upstreams,
            health_timeout_s=cfg.health_timeout_s,
            # The frontdoor's PROXY header only: another container on the edge network (the hub)
            # cannot claim a client address of its choice (rate limits and logs key on it).
            trusted_proxies=[f"{cfg.frontdoor_address(a.site)}/32"],
            cert_validity_days=cfg.edge_cert_validity_days,
            cert_renew_before_days=cfg.edge_cert_renew_before_days), child)
        self.supervisor = SiteSupervisor(urn_name(a.site, "supervisor"), SupervisorArgs(
            stack=cfg.stack, site=a.site, docker_host=site_cfg.docker_host, image=a.images["python"]), child)
        self.register_outputs({"edge_network": self.edge_network.name, "gateway": self.gateway.container.name,
                               "municipalities": sorted(self.municipalities)})
