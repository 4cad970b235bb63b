"""Find a stack's containers by their labels (municloud.stack/site/lgcode/component).

A *cluster* is one PostgreSQL pair and the services on it: a municipality (its lgcode) or the
platform hub (``HUB``: component hub_postgres, lgcode "shared", at either site; services = the hub
container)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DATABASE_COMPONENTS = ("postgres", "standby")
SERVICE_COMPONENTS = ("residents_registry", "tax", "nhi")
PRIMARY, DR = "primary", "dr"
SITE_INDEPENDENT = ("frontdoor",)
HUB = "hub"  # the platform hub's cluster key (not an lgcode: lgcodes are 6 digits)
SHARED = "shared"
#: a site host's engine port that accepts no connection within this is cut off (or off)
CONNECT_TIMEOUT_S = 3.0
#: how long a site found unreachable stays so before it is probed again (one operation's steps)
UNREACHABLE_RECHECK_S = 15.0


def docker_client(docker_host: str | None = None):
    import docker

    if docker_host:
        return docker.DockerClient(base_url=docker_host, timeout=120)
    return docker.from_env(timeout=120)


@dataclass
class Inventory:
    """The containers of one stack: on one engine (``client``), or with ``engines`` (site -> its
    ``municloud:sites`` entry) on each site's own engine, reached as the program reaches it."""

    stack: str
    client: object = field(default_factory=docker_client)
    engines: dict[str, dict] = field(default_factory=dict)
    _clients: dict[str, object] = field(default_factory=dict, repr=False)
    _down: dict[str, tuple[float, str]] = field(default_factory=dict, repr=False)

    @classmethod
    def for_sites(cls, stack: str, sites: dict[str, dict] | None) -> "Inventory":
        """The stack's containers on the engines of its ``municloud:sites`` value (None or one
        engine for every site: that engine)."""
        hosts = {s["docker_host"] for s in (sites or {}).values()}
        if len(hosts) <= 1:  # one engine: the local one (DOCKER_HOST for another), as always
            return cls(stack)
        return cls(stack, client=None, engines={name: dict(s) for name, s in sites.items()})

    def engine(self, site: str):
        """The Docker client of ``site``'s engine; EngineUnreachable when it does not answer (a
        powered-off or cut-off host)."""
        if not self.engines:
            return self.client
        if site not in self._clients:
            from stacks.providers._base import engine_client

            s = self.engines[site]
            tls = {"ca_cert": s["tls_ca_cert"], "cert": s["tls_cert"], "key": s["tls_key"]} \
                if s.get("tls_ca_cert") else None
            self._clients[site] = engine_client(s["docker_host"], tls, timeout=120)
        return self._clients[site]

    def unreachable(self, site: str) -> str | None:
        """Why ``site``'s engine cannot be reached, or None when it answers. A host that is cut off
        (no answer at all, not even a refusal) costs one short connection attempt per
        ``UNREACHABLE_RECHECK_S``, not a client timeout per call."""
        import docker.errors
        import requests

        from stacks.providers._base import EngineUnreachable

        if not self.engines:
            return None
        seen = self._down.get(site)
        if seen is not None and time.monotonic() - seen[0] < UNREACHABLE_RECHECK_S:
            return seen[1]
        address = urlsplit(self.engines[site]["docker_host"])
        try:
            socket.create_connection((address.hostname, address.port or 2376), timeout=CONNECT_TIMEOUT_S).close()
            self.engine(site).ping()
        except (OSError, EngineUnreachable, docker.errors.DockerException, requests.RequestException) as exc:
            self._clients.pop(site, None)
            why = f"engine {self.engines[site]['docker_host']} does not answer ({type(exc).__name__})"
            self._down[site] = (time.monotonic(), why)
            return why
        self._down.pop(site, None)
        return None

    def find(self, **labels: str) -> list:
        filters = [f"municloud.stack={self.stack}"] + [f"municloud.{k}={v}" for k, v in labels.items()]
        if not self.engines:
            clients = [self.client]
        else:  # a site's own engine, or every engine that answers
            sites = [labels["site"]] if "site" in labels else sorted(self.engines)
            clients = [self.engine(s) for s in sites if self.unreachable(s) is None]
        found = [c for client in clients for c in client.containers.list(all=True, filters={"label": filters})]
        return sorted(found, key=lambda c: c.name)

    def lgcodes(self) -> list[str]:
        codes = {c.labels.get("municloud.lgcode") for comp in DATABASE_COMPONENTS
                 for c in self.find(component=comp)}
        return sorted(c for c in codes if c and c != "shared")

    def clusters(self) -> list[str]:
        """Every municipality's lgcode, then ``HUB`` when the hub has a standby at the DR site."""
        return self.lgcodes() + ([HUB] if self.database(DR, HUB) is not None else [])

    def database(self, site: str, lgcode: str):
        """The PostgreSQL container of ``lgcode`` (or of the hub, ``HUB``) at ``site``, or None."""
        if lgcode == HUB:
            found = self.find(site=site, lgcode=SHARED, component="hub_postgres")
            return found[0] if found else None
        for comp in DATABASE_COMPONENTS:
            found = self.find(site=site, lgcode=lgcode, component=comp)
            if found:
                return found[0]
        return None

    def require_database(self, site: str, lgcode: str):
        c = self.database(site, lgcode)
        if c is None:
            raise LookupError(f"no PostgreSQL container for municipality {lgcode} at site {site} "
                              f"in stack {self.stack}")
        return c

    def services(self, site: str, lgcode: str) -> list:
        if lgcode == HUB:
            return self.find(site=site, lgcode=SHARED, component="hub")
        return [c for comp in SERVICE_COMPONENTS for c in self.find(site=site, lgcode=lgcode, component=comp)]

    def site_containers(self, site: str) -> list:
        """Containers of a site, without the frontdoor: it is the consortium's entry point (placed at
        the primary engine) and must survive a site failure to switch traffic."""
        return [c for c in self.find(site=site) if c.labels.get("municloud.component") not in SITE_INDEPENDENT]

    def backup_repo(self):
        found = self.find(component="backup_repo")
        if not found:
            raise LookupError(f"no backup repository container (component backup_repo) in stack {self.stack}")
        return found[0]

    def frontdoor(self):
        found = self.find(component="frontdoor")
        return found[0] if found else None

    def frontdoor_port(self, default: int = 8443) -> int:
        """The frontdoor's published port on 127.0.0.1 (a test stack has its own free one)."""
        fd = self.frontdoor()
        bindings = fd.attrs["HostConfig"].get("PortBindings") or {} if fd is not None else {}
        for published in bindings.values():
            for b in published or []:
                if b.get("HostPort"):
                    return int(b["HostPort"])
        return default


def env_of(container) -> dict[str, str]:
    """The container's (non-secret) environment as a dict."""
    out = {}
    for item in container.attrs["Config"].get("Env") or []:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def is_running(container) -> bool:
    container.reload()
    return container.status == "running"


def stack_inventory(stack: str, sites_file=None) -> Inventory:
    """The inventory the operator commands use: the engines of ``sites_file`` (a YAML file holding a
    ``municloud:sites`` value, e.g. .state/sites/sites.yaml), else of Pulumi.<stack>.yaml's sites,
    else the local engine."""
    import yaml

    if sites_file is not None:
        from pathlib import Path

        sites = yaml.safe_load(Path(sites_file).read_text(encoding="utf-8"))
        if not isinstance(sites, dict) or not all(isinstance(v, dict) and "docker_host" in v for v in sites.values()):
            raise ValueError(f"--sites {sites_file}: not a municloud:sites value (site name -> docker_host, role, ...)")
        return Inventory.for_sites(stack, sites)
    from municloud_ops.dr.sla import load_stack_config

    cfg = load_stack_config(stack)
    return Inventory.for_sites(stack, {n: s.model_dump() for n, s in cfg.sites.items()} if cfg else None)
