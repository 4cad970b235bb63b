"""Find a stack's containers by their labels (municloud.stack/site/lgcode/component).

A *cluster* is one PostgreSQL pair and the services on it: a municipality (its lgcode) or the
platform hub (``HUB``: component hub_postgres, lgcode "shared", at either site; services = the hub
container)."""

from __future__ import annotations

from dataclasses import dataclass, field

DATABASE_COMPONENTS = ("postgres", "standby")
SERVICE_COMPONENTS = ("residents_registry", "tax", "nhi")
PRIMARY, DR = "primary", "dr"
SITE_INDEPENDENT = ("frontdoor",)
HUB = "hub"  # the platform hub's cluster key (not an lgcode: lgcodes are 6 digits)
SHARED = "shared"


def docker_client(docker_host: str | None = None):
    import docker

    if docker_host:
        return docker.DockerClient(base_url=docker_host, timeout=120)
    return docker.from_env(timeout=120)


@dataclass
class Inventory:
    """The containers of one stack on one engine (both sites share an engine in a rehearsal)."""

    stack: str
    client: object = field(default_factory=docker_client)

    def find(self, **labels: str) -> list:
        filters = [f"municloud.stack={self.stack}"] + [f"municloud.{k}={v}" for k, v in labels.items()]
        return sorted(self.client.containers.list(all=True, filters={"label": filters}), key=lambda c: c.name)

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
