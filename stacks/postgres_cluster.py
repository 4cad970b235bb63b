"""PostgresCluster: one PostgreSQL server of the consortium - a member's, or the platform hub's.

The one recipe: role passwords, TLS certificate, data volume, the configuration rendered by
roles/postgres (stacks/postgres_config.py, reloaded in place) and the container of the image
(stacks/postgres_image.py: its user, paths and ``MC_PG_*`` environment). Two kinds:

- a **primary** (``standby_of`` None) owns the passwords; with ``pairing`` it is the source of a
  DR standby: it joins the WAN (on one engine its pair's segment, stacks/wan.py), names the
  standby as its peer (synchronous or not, per the SLA config) and archives WAL to the backup
  repository;
- a **standby** (``standby_of`` = the primary's cluster) lives at the DR site, under the DR site's
  component (docs/dr.md): its own certificate, volume and configuration (the primary's tuning for
  its own networks), the primary's passwords, a base backup of the primary over the WAN and then
  streaming.

A member's cluster and the hub's differ only in names (``lgcode`` None: the hub's) and databases.

Migration from the code before this component (where a member's or the hub's PostgreSQL was built
inline in Municipality/PlatformHub, and each standby was a ``DrStandby`` component under the
primary's): every resource keeps its name; aliases give each the URN it had, so an existing
stack's ``up`` replaces nothing (tests/stack/test_urn_stability.py, docs/stack.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.naming import docker_name, labels, urn_name
from stacks.postgres_config import RELOAD, postgres_config
from stacks.postgres_image import DATA_DIR, POSTGRES_UID, TLS_DIR, TMPFS, password_file, server_env
from stacks.providers.container import Container
from stacks.providers.network import Network
from stacks.providers.pki import Certificate, CertificateAuthority
from stacks.providers.secrets import RandomPassword
from stacks.providers.volume import Volume
from stacks.tls import secret_file, tls_files
from stacks.wan import RoutedWan, WanSegments

TYPE = "municloud:stack:PostgresCluster"
#: the type a standby had before it became a PostgresCluster (its alias)
_OLD_STANDBY_TYPE = "municloud:stack:DrStandby"
#: the base backup of a member's database over the WAN takes longer than a start
STANDBY_MIN_HEALTH_TIMEOUT_S = 300


def postgres_name(stack: str, site: str, lgcode: str | None) -> str:
    """Container name (= host name, = certificate CN) of a cluster: a member's, or the hub's (lgcode None)."""
    return docker_name(stack, site, "postgres", lgcode) if lgcode else docker_name(stack, site, "hub-postgres")


def stanza_name(lgcode: str | None) -> str:
    """The cluster's pgBackRest stanza in the backup repository."""
    return lgcode or "hub"


@dataclass(frozen=True)
class StandbyPairing:
    """A primary's side of its DR pairing (災害対策サイト)."""

    site: str
    """the DR site, where the standby runs"""
    synchronous: bool
    """SLA replication_mode == synchronous: the primary's COMMITs wait for the standby"""
    backup_repo: str | None = None
    """backup repository container name (WAL archiving), or None"""


@dataclass
class PostgresClusterArgs:
    """Inputs of one cluster at one site."""

    stack: str
    """stack (consortium) name"""
    site: str
    """the site it runs at"""
    docker_host: str
    """that site's Docker engine"""
    lgcode: str | None
    """the member's 地方公共団体コード; None for the platform hub's cluster"""
    databases: list[str]
    """one database and login role per service (residents_registry, tax, nhi / platform_hub)"""
    network: Network
    """the owner's internal network (its services reach the cluster there)"""
    subnet: str
    """that network's CIDR (allowed to log in)"""
    ca: CertificateAuthority
    """the consortium CA"""
    image: pulumi.Input[str]
    """postgres image reference at the site"""
    memory_mb: int
    """memory budget of the roles/postgres configuration (a standby mirrors its primary's)"""
    wan_network: Network | None = None
    """WAN network (replication + backup); required with ``pairing`` and for a standby"""
    wan_subnet: str = ""
    """its CIDR (allowed to stream)"""
    pairing: StandbyPairing | None = None
    """primary: where its standby runs and how it replicates"""
    standby_of: "PostgresCluster | None" = None
    """standby: the primary's cluster (made with ``pairing``)"""
    health_timeout_s: int = 180
    """container health wait (a standby waits at least STANDBY_MIN_HEALTH_TIMEOUT_S)"""
    routed_wan: RoutedWan | None = None
    """sites on engines of their own: the cluster joins its host's WAN network at its fixed address,
    streams to and from its peer's address only, and finds the other site's names in /etc/hosts"""
    wan_segments: WanSegments | None = None
    """sites on one engine: the cluster joins its pair's WAN segment (instead of ``wan_network``) at
    its fixed address and streams to and from its peer's address only"""


class PostgresCluster(pulumi.ComponentResource):
    """Passwords, certificate, volume, rendered configuration and the container of one server."""

    passwords: dict[str, RandomPassword]
    container: Container

    def __init__(self, name: str, args: PostgresClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        a, src = args, args.standby_of
        owner = opts.parent if opts is not None else None
        aliases = None
        if src is not None:
            if src.pairing is None or src.pairing.site != a.site:
                raise ValueError(f"cluster {src.container_name}: a standby at {a.site} needs its primary made "
                                 f"with a pairing to {a.site}")
            aliases = [pulumi.Alias(type_=_OLD_STANDBY_TYPE, parent=src.owner)]
        if (a.pairing is not None or src is not None) and a.wan_network is None and a.wan_segments is None:
            raise ValueError(f"cluster {postgres_name(a.stack, a.site, a.lgcode)}: DR pairing needs the WAN network")
        super().__init__(TYPE, name, None, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases)))
        self.owner = owner
        self.site = a.site
        self.lgcode, self.databases, self.pairing = a.lgcode, list(a.databases), a.pairing
        self.memory_mb = src.memory_mb if src is not None else a.memory_mb
        self.container_name = postgres_name(a.stack, a.site, a.lgcode)
        tag = a.lgcode or "hub"
        # Resource names and parents as before this component: a primary's children were its owner's
        # (alias: parent = owner); a standby's were a DrStandby component's (the component's alias).
        kind = "standby" if src is not None else "postgres"
        child = pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=owner)] if src is None else None)
        lab = labels(a.stack, a.site, ("standby" if src is not None else "postgres") if a.lgcode else "hub_postgres",
                     a.lgcode)

        wan_subnet, wan_endpoint, extra_hosts = a.wan_subnet, None, None
        on_wan = a.wan_network is not None or a.wan_segments is not None
        # pg_hba's replication lines; the env keeps ``wan_subnet`` (below)
        hba_replication = [wan_subnet] if on_wan and wan_subnet else []
        if a.wan_segments is not None and (a.pairing is not None or src is not None):
            role = "standby" if src is not None else "primary"
            wan_endpoint = a.wan_segments.endpoint(a.lgcode, role)
            hba_replication = [a.wan_segments.peer_cidr(a.lgcode, role)]
        elif a.routed_wan is not None and a.wan_network is not None:
            w, unit = a.routed_wan, a.routed_wan.unit(a.lgcode)
            peer_site = src.site if src is not None else a.pairing.site
            peer_name = postgres_name(a.stack, peer_site, a.lgcode)
            wan_subnet, wan_endpoint = w.peer_cidr(peer_site, unit), w.endpoint(a.site, unit)
            hba_replication = [wan_subnet]
            repo = src.pairing.backup_repo if src is not None else a.pairing.backup_repo
            names = [(peer_name, peer_site, unit)]
            if repo:  # the repository runs at the DR site (stacks/backup_repository.py)
                names.append((repo, a.pairing.site if src is None else a.site, "backup_repo"))
            extra_hosts = w.hosts(a.site, names)
        # The rendered configuration first: it depends on config only, and a new member's database -
        # the head of its deploy's longest chain - waits for it.
        self.config, conf_files = postgres_config(
            urn_name(a.site, tag, "standby-config" if src is not None else "postgres-config"),
            instance=f"{a.stack}-{a.site}-{tag}-{kind}", databases=self.databases, allowed_networks=[a.subnet],
            replication_networks=hba_replication,
            memory_mb=self.memory_mb, opts=child)
        if src is not None:
            self.passwords = src.passwords  # a standby is a copy of its primary
        else:
            # one per role, none shared with any other cluster (keepers make them distinct even if two
            # configs were identical)
            self.passwords = {role: self._password(a, role, child) for role in ("postgres", "replicator", *a.databases)}
        self.cert = Certificate(urn_name(a.site, tag, "standby-cert" if src is not None else "postgres-cert"),
                                ca=a.ca, common_name=self.container_name, dns_names=[self.container_name], opts=child)
        self.volume = Volume(urn_name(a.site, tag, "standby-pgdata" if src is not None else "pgdata"),
                             name=docker_name(a.stack, a.site, "pgdata", a.lgcode) if a.lgcode
                             else docker_name(a.stack, a.site, "hub-pgdata"),
                             docker_host=a.docker_host, labels=lab, opts=child)
        files = [secret_file(password_file(role), pw.result, POSTGRES_UID) for role, pw in self.passwords.items()]
        files += tls_files(TLS_DIR, a.ca, self.cert, POSTGRES_UID)
        files += conf_files

        networks = [{"name": a.network.name, "aliases": []}]
        if wan_endpoint is not None or a.wan_network is not None:
            networks.append(wan_endpoint or {"name": a.wan_network.name, "aliases": []})
        # MC_PG_REPLICATION_NETWORKS is the entrypoint's pg_hba for a server started without the
        # rendered one (the DR lab); with it mounted, ``hba_replication`` decides. On one engine the
        # env keeps the WAN block the server was made with: a changed env replaces the container.
        if src is not None:
            primary_name = src.container_name
            env = server_env("standby", databases=self.databases, allowed_networks=[a.subnet],
                             application_name=self.container_name, replication_networks=[wan_subnet],
                             peer_host=primary_name, synchronous=src.pairing.synchronous,
                             stanza=stanza_name(a.lgcode) if src.pairing.backup_repo else None,
                             repo_host=src.pairing.backup_repo)
            health_timeout = max(a.health_timeout_s, STANDBY_MIN_HEALTH_TIMEOUT_S)
            depends_on = [src.container]  # the base backup needs it up
        else:
            p = a.pairing
            env = server_env("primary", databases=self.databases, allowed_networks=[a.subnet],
                             application_name=self.container_name,
                             replication_networks=[wan_subnet] if on_wan else None,
                             peer_host=postgres_name(a.stack, p.site, a.lgcode) if p else None,
                             synchronous=bool(p and p.synchronous),
                             stanza=stanza_name(a.lgcode) if p and p.backup_repo else None,
                             repo_host=p.backup_repo if p else None)
            health_timeout, depends_on = a.health_timeout_s, None
        self.container = Container(
            urn_name(a.site, tag, kind), name=self.container_name, docker_host=a.docker_host, image=a.image,
            labels=lab, networks=networks, env=env, mounts=[{"source": self.volume.name, "target": DATA_DIR}],
            tmpfs=dict(TMPFS), files=files, health_timeout=health_timeout, reload=RELOAD,
            extra_hosts=extra_hosts, opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=depends_on)))
        self.register_outputs({"container": self.container.name, "volume": self.volume.name,
                               "mode": env["MC_PG_MODE"], "peer": env.get("MC_PG_PEER_HOST")})

    def _password(self, a: PostgresClusterArgs, role: str, opts: pulumi.ResourceOptions) -> RandomPassword:
        if a.lgcode:  # a member's passwords are the member's, whatever site its primary runs at
            name, keepers = urn_name(a.lgcode, role, "password"), {"stack": a.stack, "lgcode": a.lgcode, "role": role}
        else:
            name = urn_name(a.site, "hub", role, "password")
            keepers = {"stack": a.stack, "site": a.site, "role": f"hub-{role}"}
        return RandomPassword(name, length=32, keepers=keepers, opts=opts)
