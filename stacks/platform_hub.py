"""PlatformHub: the regional information platform hub (地域情報プラットフォーム) of a site.

Its own internal network and PostgreSQL (database/role ``platform_hub``); reachable from the
services only through the gateway's internal listener (``/hub/``), which it shares the edge network with.

At the primary site with ``dr`` given, its PostgreSQL streams over the WAN to a standby at the DR
site (stacks/dr_standby.py, same mode as the municipalities). At the DR site (``standby_of`` set)
the hub is a pilot light: created stopped on that standby with the primary's key and registry,
delivering through the DR gateway; ``municloud dr failover`` promotes the standby and starts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.dr_standby import DrStandby, DrStandbyArgs, primary_postgres_env
from stacks.gateway import internal_url
from stacks.municipality import APP_UID, POSTGRES_UID, SERVICE_PORT, SERVICE_RELOAD, ServiceImage
from stacks.naming import docker_name, labels, urn_name
from stacks.postgres_config import RELOAD as POSTGRES_RELOAD
from stacks.postgres_config import postgres_config
from stacks.providers.container import Container
from stacks.providers.network import Network
from stacks.providers.pki import Certificate, CertificateAuthority
from stacks.platform_keys import HUB_UNIT, key_id, registry_yaml
from stacks.providers.secrets import Ed25519KeyPair, RandomPassword
from stacks.providers.volume import Volume
from stacks.tls import plain_file, secret_file, tls_files

HUB_DB = "platform_hub"
#: memory budget of the hub's PostgreSQL (roles/postgres sizes it like a member's cluster): the hub
#: keeps messages in flight and their log, not residents; a town of ~13,000 gets the same budget
HUB_MEMORY_MB = 512


@dataclass
class PlatformHubArgs:
    """Inputs of a site's platform hub."""

    stack: str
    """stack name"""
    site: str
    """site name"""
    docker_host: str
    """Docker engine of the site"""
    subnet: str
    """the /24 of the hub's internal network"""
    ca: CertificateAuthority
    """consortium CA"""
    edge_network: Network
    """the site's edge network (gateway <-> hub)"""
    postgres_image: pulumi.Input[str]
    """E's PostgreSQL image"""
    image: ServiceImage
    """B's services/platform_hub image or the placeholder"""
    key: Ed25519KeyPair
    """the hub's own platform signing key"""
    registry_entries: list[pulumi.Output[dict]]
    """every unit's public key (the hub verifies all senders)"""
    gateway_name: str
    """the site gateway, through which the hub delivers to tenant inboxes"""
    health_timeout_s: int = 180
    """container health wait"""
    wan_network: Network | None = None
    """primary with ``dr``: the WAN network (replication + backup); its PostgreSQL joins it"""
    wan_subnet: str = ""
    """its CIDR (replication allowed from it)"""
    dr: "HubDrPairing | None" = None
    """primary site: also make the DR hub network and the streaming standby of the hub's PostgreSQL"""
    standby_of: "PlatformHub | None" = None
    """DR site: the primary's hub (made with ``dr``): its DR network, standby, passwords"""


@dataclass
class HubDrPairing:
    """Where the hub's DR standby runs (災害対策サイト) and how it replicates."""

    site: str
    """the DR site"""
    docker_host: str
    """its Docker engine"""
    subnet: str
    """the hub's /24 at the DR site"""
    image: pulumi.Input[str]
    """postgres image reference at the DR site"""
    synchronous: bool
    """SLA replication_mode == synchronous (then the hub starts only once the standby streams)"""
    backup_repo: str | None = None
    """backup repository container name (WAL archiving, stanza ``hub``), or None"""


class PlatformHub(pulumi.ComponentResource):
    """The hub container and its own PostgreSQL."""

    def __init__(self, name: str, args: PlatformHubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:PlatformHub", name, None, opts)
        a = args
        self.key, self.registry_entries = a.key, a.registry_entries  # the DR hub signs and trusts the same
        pg_name = docker_name(a.stack, a.site, "hub-postgres")
        self.dr_network: Network | None = None
        self.standby: DrStandby | None = None
        if a.standby_of is not None:
            self._init_dr_copy(a.standby_of)
        else:
            # the hub does not wait for its standby: in synchronous mode its first COMMIT does
            # (municloud.db.MIGRATION_STATEMENT_TIMEOUT_S), as for a municipality's services
            self._init_primary(a, pg_name)
        self.container_name = docker_name(a.stack, a.site, "hub")
        hub_key_file = f"/run/secrets/platform/{key_id('*', HUB_UNIT)}.key"
        env = {"ENVIRONMENT": "production", "STACK": a.stack, "SITE": a.site, "DATABASE_HOST": pg_name,
               "DATABASE_PORT": "5432", "DATABASE_SSLMODE": "verify-full",
               "DATABASE_SSLROOTCERT": "/run/secrets/tls/ca.crt", "DB_PASSWORD_FILE": "/run/secrets/db/password",
               "PLATFORM_SIGNING_KEY_FILE": hub_key_file,
               "PLATFORM_KEYS_FILE": "/etc/municloud/platform-keys.yaml",
               # the hub is not on any tenant network: it delivers through the gateway's internal listener
               "INBOX_URL_TEMPLATE": internal_url(a.gateway_name) + "/{lgcode}/{unit}/api/v1/platform/inbox",
               "SSL_CERT_FILE": "/run/secrets/tls/ca.crt"}
        command, healthcheck = None, None
        if a.image.placeholder:
            command = ["python", "-m", "http.server", str(SERVICE_PORT), "--bind", "0.0.0.0", "--directory",
                       "/run/secrets/tls"]
            healthcheck = {"test": ["python", "-c", "import urllib.request as u; "
                                    f"u.urlopen('http://127.0.0.1:{SERVICE_PORT}/ca.crt', timeout=2)"]}
        files = [secret_file("/run/secrets/db/password", self.passwords[HUB_DB].result, APP_UID),
                 plain_file("/run/secrets/tls/ca.crt", a.ca.cert_pem),
                 secret_file(hub_key_file, a.key.private_key_pem, APP_UID),
                 plain_file("/etc/municloud/platform-keys.yaml", registry_yaml(a.registry_entries))]
        self.container = Container(
            urn_name(a.site, "hub"), name=self.container_name, docker_host=a.docker_host, image=a.image.ref,
            labels=labels(a.stack, a.site, "hub"),
            networks=[{"name": self.network.name, "aliases": []}, {"name": a.edge_network.name, "aliases": []}],
            env=env, user=str(APP_UID), read_only=True, tmpfs={"/tmp": "rw,noexec,nosuid,size=64m"},
            command=command, healthcheck=healthcheck, files=pulumi.Output.all(*files),
            health_timeout=a.health_timeout_s, start=a.standby_of is None,  # DR: pilot light
            reload=SERVICE_RELOAD,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.postgres]))
        self.register_outputs({"container": self.container.name, "postgres": self.postgres.name,
                               "standby": self.standby.container.name if self.standby else None})

    def _init_primary(self, a: PlatformHubArgs, pg_name: str) -> None:
        """The hub's network, passwords and PostgreSQL; with ``a.dr`` its WAN link and DR standby."""
        child = pulumi.ResourceOptions(parent=self)
        self.network = Network(urn_name(a.site, "hub-net"), name=docker_name(a.stack, a.site, "hub-net"),
                               docker_host=a.docker_host, labels=labels(a.stack, a.site, "hub"), internal=True,
                               subnet=a.subnet, opts=child)
        self.passwords = {role: RandomPassword(urn_name(a.site, "hub", role, "password"), length=32,
                                               keepers={"stack": a.stack, "site": a.site, "role": f"hub-{role}"},
                                               opts=child)
                          for role in ("postgres", "replicator", HUB_DB)}
        cert = Certificate(urn_name(a.site, "hub-postgres-cert"), ca=a.ca, common_name=pg_name, dns_names=[pg_name],
                           opts=child)
        volume = Volume(urn_name(a.site, "hub-pgdata"), name=docker_name(a.stack, a.site, "hub-pgdata"),
                        docker_host=a.docker_host, labels=labels(a.stack, a.site, "hub_postgres"), opts=child)
        # tuning and pg_hba.conf from roles/postgres, as for a member's cluster
        self.postgres_config, conf_files = postgres_config(
            urn_name(a.site, "hub-postgres-config"), instance=f"{a.stack}-{a.site}-hub-postgres",
            databases=[HUB_DB], allowed_networks=[a.subnet],
            replication_networks=[a.wan_subnet] if a.dr is not None and a.wan_subnet else [],
            memory_mb=HUB_MEMORY_MB, opts=child)
        pg_files = [secret_file(f"/run/secrets/postgres/{r}.password", p.result, POSTGRES_UID)
                    for r, p in self.passwords.items()]
        pg_files += tls_files("/run/secrets/postgres-tls", a.ca, cert, POSTGRES_UID)
        pg_files += conf_files
        networks = [{"name": self.network.name, "aliases": []}]
        env = {"MC_PG_MODE": "primary", "MC_PG_DATABASES": HUB_DB, "MC_PG_ALLOWED_NETWORKS": a.subnet,
               "MC_PG_APPLICATION_NAME": pg_name}
        if a.dr is not None:
            if a.wan_network is None:
                raise ValueError("platform hub: a DR pairing needs the WAN network")
            networks.append({"name": a.wan_network.name, "aliases": []})
            env |= {"MC_PG_REPLICATION_NETWORKS": a.wan_subnet,
                    **primary_postgres_env(a.stack, a.site, a.dr.site, None, synchronous=a.dr.synchronous,
                                           backup_repo=a.dr.backup_repo)}
        self.postgres = Container(
            urn_name(a.site, "hub-postgres"), name=pg_name, docker_host=a.docker_host, image=a.postgres_image,
            labels=labels(a.stack, a.site, "hub_postgres"), networks=networks, env=env,
            mounts=[{"source": volume.name, "target": "/var/lib/postgresql/data"}],
            tmpfs={"/tmp": "rw,noexec,nosuid,size=64m"},
            files=pulumi.Output.all(*pg_files), health_timeout=a.health_timeout_s, reload=POSTGRES_RELOAD,
            opts=child)
        if a.dr is not None:
            self._init_dr_standby(a, a.dr)

    def _init_dr_standby(self, a: PlatformHubArgs, dr: HubDrPairing) -> None:
        """The DR hub network and the standby, made with the primary (as for a municipality)."""
        self.dr_network = Network(urn_name(dr.site, "hub-net"), name=docker_name(a.stack, dr.site, "hub-net"),
                                  docker_host=dr.docker_host, labels=labels(a.stack, dr.site, "hub"), internal=True,
                                  subnet=dr.subnet, opts=pulumi.ResourceOptions(parent=self))
        self.standby = DrStandby(urn_name(dr.site, "hub-dr-standby"), DrStandbyArgs(
            stack=a.stack, site=dr.site, primary_site=a.site, docker_host=dr.docker_host, lgcode=None,
            databases=[HUB_DB], passwords=self.passwords, ca=a.ca, image=dr.image, network=self.dr_network,
            subnet=dr.subnet, wan_network=a.wan_network, wan_subnet=a.wan_subnet, synchronous=dr.synchronous,
            backup_repo=dr.backup_repo, primary=self.postgres, health_timeout_s=max(a.health_timeout_s, 300),
            memory_mb=HUB_MEMORY_MB), pulumi.ResourceOptions(parent=self))

    def _init_dr_copy(self, src: "PlatformHub") -> None:
        """DR site: ``src``'s standby and passwords; the hub container beside it stays stopped."""
        if src.standby is None or src.dr_network is None:
            raise ValueError("platform hub: standby_of needs the primary's hub made with 'dr'")
        self.network, self.passwords = src.dr_network, src.passwords
        self.postgres = src.standby.container
