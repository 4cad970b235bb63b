"""StatusPage: the consortium's live status page (サービス稼働状況), public and read only at
``<frontdoor>/status`` (docs/operator-guide.md, "The status page").

- a prober per site (``municloud.status.prober``): the site's units, replication on its running
  primaries, the backups in its repository, measured through the site engine's socket and served
  as ``/metrics`` on the site's monitoring network (internal; its bridge holds no host address
  under ``engine_host_isolation``);
- Prometheus (Debian's package, images/prometheus) at the primary site: scrapes every prober and
  itself every 5 s and keeps 31 days on its own volume;
- the page (``municloud.status.web``) on the primary's monitoring network, which both gateways
  join: each gateway routes ``GET /status`` to it; it renders HTML from Prometheus' answers, no
  script, no personal data. The page's component is made before the sites (their gateways join
  its network).

With the sites on hosts of their own (a routed WAN, stacks/wan.py) a container joins networks of
its own engine only: the other sites' probers are also on their host's WAN network at a fixed
address, Prometheus on the primary host's, and it scrapes them there across the WAN; only the
primary's gateway joins the page's network (decision 0047).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from municloud.naming import SERVICE_PORT
from municloud.status.prober import PROBER_PORT
from municloud.status.web import SCRAPE_INTERVAL_S
from stacks.naming import docker_name, labels, urn_name
from stacks.providers.container import Container
from stacks.providers.network import Network, host_isolation
from stacks.providers.volume import Volume
from stacks.tls import plain_file

if TYPE_CHECKING:
    from stacks.wan import RoutedWan

APP_UID = 10001  # the python image's "app" user
#: the python image's bash health check (images/python/healthcheck.sh): no Python start per check
HEALTHCHECK = "/usr/local/bin/mc-healthcheck"
#: as the services': every 10 s, unhealthy after 3 misses; the engine runs each check in the
#: container for as long as the stack runs (docs/benchmarks.md "The idle stack and the load gate")
HEALTH_EVERY = {"interval_s": 10, "timeout_s": 5, "retries": 3}
PROMETHEUS_PORT = 9090
#: the page shows 30 days; a day more so the 30-day window is always full once it has been
RETENTION = "31d"
STATUS_COMPONENT = "status"
#: the page's member list (lgcode and name, in config order), updated in place
MEMBERS_FILE = "/etc/municloud/status/members.json"


def status_host(stack: str, primary_site: str) -> str:
    """The page's container name, which both gateways route ``/status`` to."""
    return docker_name(stack, primary_site, STATUS_COMPONENT)


def prometheus_config(stack: str, probers: dict[str, str]) -> str:
    """prometheus.yml (JSON is YAML): every site's prober and Prometheus itself, every 5 s."""
    interval = f"{SCRAPE_INTERVAL_S:.0f}s"
    return json.dumps({
        "global": {"scrape_interval": interval, "evaluation_interval": interval,
                   "external_labels": {"consortium": stack}},
        "scrape_configs": [
            {"job_name": "prober", "static_configs": [
                {"targets": [f"{host}:{PROBER_PORT}"], "labels": {"prober_site": site}}
                for site, host in sorted(probers.items())]},
            {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{PROMETHEUS_PORT}"]}]},
        ]}, indent=2, ensure_ascii=False) + "\n"


@dataclass
class SiteEntry:
    """What the status page needs of one site."""

    name: str
    """site name"""
    docker_host: str
    """its engine"""
    engine_socket: bool | str
    """the engine's socket for the prober: ``True`` (a unix:// docker_host's), or its path on the
    site host (providers.container ``engine_socket``)"""
    python_image: pulumi.Input[str]
    """the python image at that engine"""
    monitoring_subnet: str
    """the /24 of its monitoring network (the address plan's, stacks/config.py)"""


@dataclass
class StatusPageArgs:
    """Inputs of the status page."""

    stack: str
    """stack (consortium) name"""
    primary: SiteEntry
    """the primary site: Prometheus and the page run here"""
    others: list[SiteEntry]
    """the other sites (the DR site): a prober each"""
    standby_sites: list[str]
    """sites whose services wait as a pilot light"""
    prometheus_image: pulumi.Input[str]
    """the prometheus image at the primary's engine"""
    members: list[tuple[str, str]]
    """(lgcode, name) of every member, in config order"""
    health_timeout_s: int = 180
    """container health wait"""
    isolate_engine_host: bool | str = "new-networks"
    """config engine_host_isolation (providers.network.host_isolation): the monitoring networks'
    bridges hold no address (the probers read the engine through its socket, not the network)"""
    routed_wan: "RoutedWan | None" = None
    """sites on hosts of their own: the WAN networks and the address plan on them (stacks/wan.py)"""


class StatusPage(pulumi.ComponentResource):
    """Probers, Prometheus and the page of one consortium."""

    def __init__(self, name: str, args: StatusPageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:StatusPage", name, None, opts)
        a, child = args, pulumi.ResourceOptions(parent=self)
        primary = a.primary.name
        self.networks: dict[str, Network] = {}
        self.probers: dict[str, Container] = {}
        isolation, keep = host_isolation(a.isolate_engine_host)
        for site in [a.primary, *a.others]:
            net = Network(urn_name(site.name, "monitoring"), name=docker_name(a.stack, site.name, "monitoring"),
                          docker_host=site.docker_host, labels=labels(a.stack, site.name, "monitoring"),
                          internal=True, subnet=site.monitoring_subnet, options=isolation,
                          opts=pulumi.ResourceOptions(parent=self, ignore_changes=keep))
            self.networks[site.name] = net
            command = ["python", "-m", "municloud.status.prober", "--stack", a.stack, "--site", site.name]
            for s in a.standby_sites:
                command += ["--standby-site", s]
            networks = [{"name": net.name, "aliases": []}]
            if a.routed_wan is not None and site.name != primary:  # scraped across the WAN
                networks.append(a.routed_wan.endpoint(site.name, "prober"))
            self.probers[site.name] = Container(
                urn_name(site.name, "prober"), name=docker_name(a.stack, site.name, "prober"),
                docker_host=site.docker_host, image=site.python_image, labels=labels(a.stack, site.name, "prober"),
                networks=networks, command=command, user=str(APP_UID), read_only=True,
                engine_socket=site.engine_socket,
                healthcheck={"test": [HEALTHCHECK, "/metrics", str(PROBER_PORT)], **HEALTH_EVERY},
                health_timeout=a.health_timeout_s, opts=child)
        prometheus_name = docker_name(a.stack, primary, "prometheus")
        targets = {s: docker_name(a.stack, s, "prober") for s in self.networks}
        prometheus_networks = [{"name": n.name, "aliases": []} for n in self.networks.values()]
        if a.routed_wan is not None:
            targets.update({s.name: a.routed_wan.address(s.name, "prober") for s in a.others})
            prometheus_networks = [{"name": self.networks[primary].name, "aliases": []},
                                   a.routed_wan.endpoint(primary, "prometheus")]
        config = prometheus_config(a.stack, targets)
        self.volume = Volume(urn_name(primary, "prometheus-data"), name=docker_name(a.stack, primary, "prometheus-data"),
                             docker_host=a.primary.docker_host, labels=labels(a.stack, primary, "prometheus"),
                             opts=child)
        self.prometheus = Container(
            urn_name(primary, "prometheus"), name=prometheus_name, docker_host=a.primary.docker_host,
            image=a.prometheus_image, labels=labels(a.stack, primary, "prometheus"),
            networks=prometheus_networks,
            command=["prometheus", "--config.file=/etc/municloud/prometheus.yml", "--storage.tsdb.path=/prometheus",
                     f"--storage.tsdb.retention.time={RETENTION}", f"--web.listen-address=:{PROMETHEUS_PORT}"],
            mounts=[{"source": self.volume.name, "target": "/prometheus"}], read_only=True,
            tmpfs={"/tmp": "rw,noexec,nosuid,size=16m"}, files=[plain_file("/etc/municloud/prometheus.yml", config)],
            health_timeout=a.health_timeout_s, opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.probers.values())))
        # the members as a file the page reads for each request: a member joining or leaving updates
        # it in place (the reload only checks it), the container stays (docs/operator-guide.md,
        # "Members join and leave")
        command = ["python", "-m", "municloud.status.web", "--consortium", a.stack,
                   "--prometheus", f"http://{prometheus_name}:{PROMETHEUS_PORT}", "--members-file", MEMBERS_FILE]
        members = plain_file(MEMBERS_FILE, json.dumps([list(m) for m in a.members], ensure_ascii=False))
        self.container_name = status_host(a.stack, primary)
        self.page = Container(
            urn_name(primary, STATUS_COMPONENT), name=self.container_name, docker_host=a.primary.docker_host,
            image=a.primary.python_image, labels=labels(a.stack, primary, STATUS_COMPONENT),
            networks=[{"name": self.networks[primary].name, "aliases": []}],
            command=command, user=str(APP_UID), read_only=True, files=[members],
            reload=["python", "-c", f"from municloud.status.web import read_members; read_members({MEMBERS_FILE!r})"],
            healthcheck={"test": [HEALTHCHECK, "/status/healthz", str(SERVICE_PORT)], **HEALTH_EVERY},
            health_timeout=a.health_timeout_s, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.prometheus]))
        self.register_outputs({"page": self.page.name, "prometheus": self.prometheus.name,
                               "probers": {s: c.name for s, c in self.probers.items()}})
