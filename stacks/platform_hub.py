"""PlatformHub: the regional information platform hub (地域情報プラットフォーム) of a site
= network + cluster + hub.

Its own internal network and PostgreSQL cluster (stacks/postgres_cluster.py, database/role
``platform_hub``); reachable from the services only through the gateway's internal listener
(``/hub/``): the gateway joins the hub's network (the hub is on no network holding the engine
host's address).

At the primary site with ``pairing`` given, its cluster streams over the WAN to a standby at the
DR site (same mode as the municipalities). At the DR site (``standby_of`` set, made by the DR site)
the hub is a pilot light: created stopped on that standby with the primary's key and registry,
delivering through the DR gateway; ``municloud dr failover`` promotes the standby and starts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from services.platform_hub.routing import ROUTES_FILE
from stacks.gateway import internal_url
from stacks.municipality import APP_UID, SERVICE_PORT, ServiceImage
from stacks.naming import docker_name, labels, urn_name
from stacks.platform_keys import HUB_UNIT, key_id, registry_yaml
from stacks.postgres_cluster import PostgresCluster, PostgresClusterArgs, StandbyPairing
from stacks.wan import RoutedWan, WanSegments
from stacks.providers.container import Container
from stacks.providers.network import Network, host_isolation
from stacks.providers.pki import CertificateAuthority
from stacks.providers.secrets import Ed25519KeyPair
from stacks.tls import plain_file, secret_file

HUB_DB = "platform_hub"
#: memory budget of the hub's PostgreSQL (roles/postgres sizes it like a member's cluster): the hub
#: keeps messages in flight and their log, not residents; a town of ~13,000 gets the same budget
HUB_MEMORY_MB = 512
#: the hub's files changed by a deploy: key registry and routing table re-read in place, restart
#: in place for any other (services/platform_hub/hot_files.py)
HUB_RELOAD = ["python", "-m", "services.platform_hub.hot_files"]


def routing_table(members: list[str]) -> str:
    """The hub's routing table for these members (services/platform_hub/routing.py ``member_table``:
    the route catalogue, 転出証明書情報 between every ordered pair of members), as YAML."""
    from services.platform_hub.routing import member_table

    return member_table(members).to_yaml()


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
    postgres_image: pulumi.Input[str]
    """the PostgreSQL image (images/postgres)"""
    image: ServiceImage
    """the services/platform_hub image or the placeholder"""
    key: Ed25519KeyPair
    """the hub's own platform signing key"""
    registry_entries: list[pulumi.Output[dict]]
    """every unit's public key (the hub verifies all senders)"""
    routing_table: str
    """the hub's routing table (YAML, ``routing_table(members)``): re-read in place when it changes"""
    gateway_name: str
    """the site gateway, through which the hub delivers to tenant inboxes"""
    health_timeout_s: int = 180
    """container health wait"""
    wan_network: Network | None = None
    """the WAN network (replication + backup); its cluster joins it"""
    wan_subnet: str = ""
    """its CIDR (replication allowed from it)"""
    routed_wan: RoutedWan | None = None
    """sites on engines of their own (stacks/wan.py): the cluster's place on its host's WAN network"""
    wan_segments: WanSegments | None = None
    """sites on one engine (stacks/wan.py): the cluster's place on the hub pair's WAN segment"""
    pairing: StandbyPairing | None = None
    """primary site: its cluster is the source of a DR standby (made by the DR site)"""
    standby_of: "PlatformHub | None" = None
    """DR site: the primary's hub (made with ``pairing``): its cluster's standby, key and registry"""
    isolate_engine_host: bool | str = "new-networks"
    """config engine_host_isolation (providers.network.host_isolation): its network's bridge holds no address (no way to the host)"""


class PlatformHub(pulumi.ComponentResource):
    """The hub container and its own PostgreSQL."""

    def __init__(self, name: str, args: PlatformHubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:PlatformHub", name, None, opts)
        a = args
        # the DR hub signs, trusts and routes the same
        self.key, self.registry_entries, self.routing_table = a.key, a.registry_entries, a.routing_table
        src = a.standby_of
        isolation, keep = host_isolation(a.isolate_engine_host)
        # At the DR site the network was made under the primary's hub before the DR site had one.
        self.network = Network(urn_name(a.site, "hub-net"), name=docker_name(a.stack, a.site, "hub-net"),
                               docker_host=a.docker_host, labels=labels(a.stack, a.site, "hub"), internal=True,
                               subnet=a.subnet, options=isolation,
                               opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=src)] if src else None,
                                                           ignore_changes=keep))
        # the hub does not wait for its standby: in synchronous mode its first COMMIT does
        # (municloud.db.MIGRATION_STATEMENT_TIMEOUT_S), as for a municipality's services
        self.cluster = PostgresCluster(
            urn_name(a.site, "hub-dr-standby") if src else urn_name(a.site, "hub-postgres-cluster"),
            PostgresClusterArgs(
                stack=a.stack, site=a.site, docker_host=a.docker_host, lgcode=None, databases=[HUB_DB],
                network=self.network, subnet=a.subnet, ca=a.ca, image=a.postgres_image, memory_mb=HUB_MEMORY_MB,
                wan_network=a.wan_network, wan_subnet=a.wan_subnet, pairing=a.pairing,
                standby_of=src.cluster if src else None, health_timeout_s=a.health_timeout_s,
                routed_wan=a.routed_wan, wan_segments=a.wan_segments),
            pulumi.ResourceOptions(parent=self))
        self.postgres, self.passwords = self.cluster.container, self.cluster.passwords
        pg_name = self.cluster.container_name
        self.container_name = docker_name(a.stack, a.site, "hub")
        hub_key_file = f"/run/secrets/platform/{key_id('*', HUB_UNIT)}.key"
        env = {"ENVIRONMENT": "production", "STACK": a.stack, "SITE": a.site, "DATABASE_HOST": pg_name,
               "DATABASE_PORT": "5432", "DATABASE_SSLMODE": "verify-full",
               "DATABASE_SSLROOTCERT": "/run/secrets/tls/ca.crt", "DB_PASSWORD_FILE": "/run/secrets/db/password",
               "PLATFORM_SIGNING_KEY_FILE": hub_key_file,
               "PLATFORM_KEYS_FILE": "/etc/municloud/platform-keys.yaml", "ROUTES_FILE": str(ROUTES_FILE),
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
                 plain_file("/etc/municloud/platform-keys.yaml", registry_yaml(a.registry_entries)),
                 plain_file(str(ROUTES_FILE), a.routing_table)]
        self.container = Container(
            urn_name(a.site, "hub"), name=self.container_name, docker_host=a.docker_host, image=a.image.ref,
            labels=labels(a.stack, a.site, "hub"),
            networks=[{"name": self.network.name, "aliases": []}],
            env=env, user=str(APP_UID), read_only=True, tmpfs={"/tmp": "rw,noexec,nosuid,size=64m"},
            command=command, healthcheck=healthcheck, files=files,
            health_timeout=a.health_timeout_s, start=a.standby_of is None,  # DR: pilot light
            reload=HUB_RELOAD,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.postgres]))
        self.register_outputs({"container": self.container.name, "postgres": self.postgres.name})
