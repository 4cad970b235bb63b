"""DrStandby: one cluster's (a municipality's, or the hub's) PostgreSQL standby at the DR site.

It takes a base backup of the primary over the WAN network (TLS, ``replicator`` role) and then
streams; synchronous or asynchronous per the SLA config (``replication_mode``). The primary's
side of the pairing is env on the primary's PostgreSQL container: ``primary_postgres_env`` gives
it (merge it into the primary's env). Promotion, failback and rehearsal: municloud_ops.dr, docs/dr.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.naming import docker_name, labels, urn_name
from stacks.postgres_config import RELOAD, postgres_config
from stacks.providers.container import Container
from stacks.providers.network import Network
from stacks.providers.pki import Certificate, CertificateAuthority
from stacks.providers.secrets import RandomPassword
from stacks.providers.volume import Volume
from stacks.tls import secret_file, tls_files

POSTGRES_UID = 999  # docs/postgres-image.md


def postgres_name(stack: str, site: str, lgcode: str | None) -> str:
    """Container name of a cluster's PostgreSQL: a municipality's, or the hub's (lgcode None)."""
    return docker_name(stack, site, "postgres", lgcode) if lgcode else docker_name(stack, site, "hub-postgres")


def stanza_name(lgcode: str | None) -> str:
    return lgcode or "hub"


def primary_postgres_env(stack: str, primary_site: str, dr_site: str, lgcode: str | None, synchronous: bool,
                         backup_repo: str | None) -> dict[str, str]:
    """Env to merge into the primary's PostgreSQL container: its peer (the DR standby), synchronous
    mode, and WAL archiving to the repository."""
    standby = postgres_name(stack, dr_site, lgcode)
    env = {"MC_PG_PEER_HOST": standby,
           "MC_PG_SYNCHRONOUS_STANDBY_NAMES": f'"{standby}"' if synchronous else ""}
    if backup_repo:
        env |= {"MC_PGBACKREST_STANZA": stanza_name(lgcode), "MC_PGBACKREST_REPO_HOST": backup_repo}
    return env


@dataclass
class DrStandbyArgs:
    """Inputs of one standby."""

    stack: str
    """stack (consortium) name"""
    site: str
    """the DR site"""
    primary_site: str
    """the primary site"""
    docker_host: str
    """Docker engine of the DR site"""
    lgcode: str | None
    """municipality code; None for the platform hub's cluster"""
    databases: list[str]
    """service databases of the cluster (residents_registry, tax, nhi / platform_hub)"""
    passwords: dict[str, RandomPassword]
    """the primary's role passwords (postgres, replicator, services): the standby is a copy of it"""
    ca: CertificateAuthority
    """consortium CA"""
    image: pulumi.Input[str]
    """postgres image reference"""
    network: Network
    """the cluster's network at the DR site (where DR services reach it)"""
    subnet: str
    """its CIDR (allowed to log in after promotion)"""
    wan_network: Network
    """WAN network (replication + backup)"""
    wan_subnet: str
    """its CIDR (replication allowed from it)"""
    synchronous: bool
    """SLA replication_mode == synchronous: after a failback this side waits for the other"""
    backup_repo: str | None
    """backup repository container name (WAL archiving after promotion), or None"""
    primary: pulumi.Resource | None = None
    """the primary's container (the base backup needs it up)"""
    health_timeout_s: int = 300
    memory_mb: int | None = None
    """memory budget of the primary's roles/postgres configuration, which the standby mirrors (its
    max_connections must not be below the primary's); None = the image's env-derived configuration"""
    """container health wait (covers the base backup)"""


class DrStandby(pulumi.ComponentResource):
    """A streaming standby container + its data volume + its TLS certificate."""

    def __init__(self, name: str, args: DrStandbyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:DrStandby", name, None, opts)
        a = args
        child = pulumi.ResourceOptions(parent=self)
        self.container_name = postgres_name(a.stack, a.site, a.lgcode)
        primary_name = postgres_name(a.stack, a.primary_site, a.lgcode)
        # the hub's standby keeps the hub's component (its own ports and checks), at the DR site
        lab = labels(a.stack, a.site, "standby" if a.lgcode else "hub_postgres", a.lgcode)
        tag = a.lgcode or "hub"
        cert = Certificate(urn_name(a.site, tag, "standby-cert"), ca=a.ca, common_name=self.container_name,
                           dns_names=[self.container_name], opts=child)
        self.volume = Volume(urn_name(a.site, tag, "standby-pgdata"),
                             name=docker_name(a.stack, a.site, "pgdata", a.lgcode) if a.lgcode
                             else docker_name(a.stack, a.site, "hub-pgdata"), docker_host=a.docker_host, labels=lab, opts=child)
        files = [secret_file(f"/run/secrets/postgres/{role}.password", pw.result, POSTGRES_UID)
                 for role, pw in a.passwords.items()]
        files += tls_files("/run/secrets/postgres-tls", a.ca, cert, POSTGRES_UID)
        if a.memory_mb is not None:  # same tuning and pg_hba.conf as its primary, for its own networks
            self.config, conf_files = postgres_config(
                urn_name(a.site, tag, "standby-config"), instance=f"{a.stack}-{a.site}-{tag}-standby",
                databases=list(a.databases), allowed_networks=[a.subnet], replication_networks=[a.wan_subnet],
                memory_mb=a.memory_mb, opts=child)
            files += conf_files
        env = {"MC_PG_MODE": "standby", "MC_PG_DATABASES": ",".join(a.databases),
               "MC_PG_ALLOWED_NETWORKS": a.subnet, "MC_PG_REPLICATION_NETWORKS": a.wan_subnet,
               "MC_PG_APPLICATION_NAME": self.container_name, "MC_PG_PEER_HOST": primary_name,
               "MC_PG_SYNCHRONOUS_STANDBY_NAMES": f'"{primary_name}"' if a.synchronous else ""}
        if a.backup_repo:
            env |= {"MC_PGBACKREST_STANZA": stanza_name(a.lgcode), "MC_PGBACKREST_REPO_HOST": a.backup_repo}
        self.container = Container(
            urn_name(a.site, tag, "standby"), name=self.container_name, docker_host=a.docker_host, image=a.image,
            labels=lab, networks=[{"name": a.network.name, "aliases": []}, {"name": a.wan_network.name, "aliases": []}],
            env=env, mounts=[{"source": self.volume.name, "target": "/var/lib/postgresql/data"}],
            tmpfs={"/tmp": "rw,noexec,nosuid,size=64m"}, files=pulumi.Output.all(*files),
            health_timeout=a.health_timeout_s, reload=RELOAD if a.memory_mb is not None else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[a.primary] if a.primary else None))
        self.register_outputs({"container": self.container.name, "volume": self.volume.name,
                               "peer": primary_name, "synchronous": a.synchronous})
