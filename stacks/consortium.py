"""Consortium (一部事務組合 / 協議会): the whole environment of one stack.

Composes the CA, images, the WAN (stacks/wan.py), the backup repository at the DR site
(stacks/backup_repository.py), both sites (stacks/site.py: the DR site standing by for every
member and the hub of the primary site, docs/dr.md) and the frontdoor.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.backup_repository import BackupRepository, BackupRepositoryArgs
from stacks.config import SERVICES, StackConfig
from stacks.frontdoor import Backend, Frontdoor, FrontdoorArgs
from stacks.municipality import ServiceImage
from stacks.naming import urn_name
from stacks.postgres_cluster import postgres_name
from stacks.providers._base import register_engines
from stacks.providers.image import Image
from stacks.providers.network import Network
from stacks.providers.pki import CertificateAuthority
from stacks.site import DrSite, PrimarySite, SiteArgs
from stacks.status_page import SiteEntry, StatusPage, StatusPageArgs
from stacks.wan import RoutedWan, WanSegments


@dataclass
class ConsortiumArgs:
    """Inputs of the consortium."""

    config: StackConfig
    """the validated stack config"""
    built_services: frozenset[str]
    """services whose Dockerfile exists (others run the health-checked placeholder)"""


class Consortium(pulumi.ComponentResource):
    """Every resource of the stack."""

    def __init__(self, name: str, args: ConsortiumArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:Consortium", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        primary, dr = cfg.primary_site, cfg.dr_site
        primary_host = cfg.sites[primary].docker_host
        register_engines({s.docker_host: s.tls() for s in cfg.sites.values()})
        self.ca = CertificateAuthority("consortium-ca", common_name=f"municloud {cfg.stack} consortium CA",
                                       opts=child)

        def image(name: str, site: str) -> Image:
            return Image(urn_name(site, "image", name), image=name, docker_host=cfg.sites[site].docker_host,
                         opts=child)

        def images_for(site: str) -> tuple[dict, dict]:
            refs = {n: image(n, site).ref for n in ("postgres", "nginx", "python")}
            service_images: dict[str, ServiceImage] = {}
            for svc in (*SERVICES, "platform_hub"):
                if svc in args.built_services:
                    service_images[svc] = ServiceImage(image(svc, site).ref)
                else:  # the python image runs the health-checked placeholder
                    service_images[svc] = ServiceImage(refs["python"], placeholder=True)
            return refs, service_images

        # WAN: replication and backup traffic only, between the sites' PostgreSQL and the repository:
        # on a shared engine a segment per pair (a primary, its standby, the repository), or a
        # routed network per site host (stacks/wan.py).
        self.routed_wan = RoutedWan.create(cfg, self) if cfg.routed_wan else None
        self.wan_segments = WanSegments.create(cfg, self) if self.routed_wan is None else None
        wan_of: dict[str, Network | None] = (dict(self.routed_wan.networks) if self.routed_wan is not None
                                             else {primary: None, dr: None})
        site_images = {site: images_for(site) for site in (primary, dr)}
        stanzas = {**{m.lgcode: [postgres_name(cfg.stack, primary, m.lgcode), postgres_name(cfg.stack, dr, m.lgcode)]
                      for m in cfg.municipalities},
                   "hub": [postgres_name(cfg.stack, primary, None), postgres_name(cfg.stack, dr, None)]}
        repo_wan, repo_hosts = None, None
        if self.wan_segments is not None:
            repo_wan = self.wan_segments.repository_endpoints()
        else:
            w = self.routed_wan
            repo_wan = [w.endpoint(dr, "backup_repo")]
            repo_hosts = w.hosts(dr, [(postgres_name(cfg.stack, site, m.lgcode), site, m.address_slot)
                                      for m in cfg.municipalities for site in (primary, dr)]
                                 + [(postgres_name(cfg.stack, site, None), site, "hub_postgres") for site in (primary, dr)])
        # Remote backup (遠隔バックアップ): one stanza per municipality, either site's database may hold it.
        self.backup_repo = BackupRepository("backup-repo", BackupRepositoryArgs(
            stack=cfg.stack, site=dr, docker_host=cfg.sites[dr].docker_host, image=site_images[dr][0]["postgres"],
            ca=self.ca, wan_network=wan_of[dr], stanzas=stanzas, wan_endpoint=repo_wan, extra_hosts=repo_hosts,
            retention_full=cfg.sla.backup_retention_full, retention_diff=cfg.sla.backup_retention_diff,
            full_every_hours=cfg.sla.backup_full_every_hours, diff_every_hours=cfg.sla.backup_diff_every_hours,
            health_timeout_s=cfg.health_timeout_s), child)
        # The status page (サービス稼働状況): a prober per site, Prometheus and the page at the primary,
        # on monitoring networks of their own; the gateways join the primary's to reach the page (on
        # sites of their own hosts the primary's gateway only, and Prometheus scrapes the other
        # sites' probers across the WAN: decision 0047).
        def entry(site: str) -> SiteEntry:
            s = cfg.sites[site]
            return SiteEntry(site, s.docker_host, s.socket_mount(),
                             site_images[site][0]["python"], cfg.subnet(site, kind="monitoring"))
        self.status_page = StatusPage("status-page", StatusPageArgs(
            stack=cfg.stack, primary=entry(primary), others=[entry(dr)], standby_sites=[dr],
            prometheus_image=image("prometheus", primary).ref,
            members=[(m.lgcode, m.name) for m in cfg.municipalities], health_timeout_s=cfg.health_timeout_s,
            isolate_engine_host=cfg.engine_host_isolation, routed_wan=self.routed_wan), child)

        def monitoring(site: str) -> tuple:
            same_engine = cfg.sites[site].docker_host == cfg.sites[primary].docker_host
            return (self.status_page.networks[primary],) if same_engine else ()

        def site_args(site: str) -> SiteArgs:
            refs, service_images = site_images[site]
            return SiteArgs(config=cfg, site=site, ca=self.ca, images=refs, service_images=service_images,
                            wan_network=wan_of[site], backup_repo=self.backup_repo.container_name,
                            routed_wan=self.routed_wan, wan_segments=self.wan_segments,
                            monitoring_networks=monitoring(site))

        primary_site = PrimarySite(urn_name(primary), site_args(primary), child)
        self.sites: dict[str, PrimarySite | DrSite] = {
            primary: primary_site, dr: DrSite(urn_name(dr), site_args(dr), primary_site, child)}
        # the frontdoor on the host network of the primary site's engine (decision 0019), each gateway
        # at its fixed edge address; with sites on hosts of their own the DR gateway across the WAN
        # at its fixed address there. Where it listens and connects from: StackConfig.
        dr_address, after = cfg.gateway_address(dr), [self.sites[s].edge_network for s in (primary, dr)]
        if self.routed_wan is not None:
            dr_address, after = self.routed_wan.address(dr, "gateway"), [self.sites[primary].edge_network,
                                                                         wan_of[primary]]
        self.frontdoor = Frontdoor("frontdoor", FrontdoorArgs(
            stack=cfg.stack, site=primary, docker_host=primary_host, image=image("haproxy", primary).ref, ca=self.ca,
            backends=[Backend(primary, cfg.gateway_address(primary), cfg.frontdoor_source(primary), backup=False),
                      Backend(dr, dr_address, cfg.frontdoor_source(dr), backup=True)],
            bind_address=cfg.frontdoor_listen_address(), host_port=cfg.frontdoor_port,
            depends_on=[self.sites[primary].gateway.container, self.sites[dr].gateway.container, *after],
            health_timeout_s=cfg.health_timeout_s), child)
        self.url = self.frontdoor.url
        self.register_outputs({"frontdoor_url": self.url, "ca_cert_pem": self.ca.cert_pem})
