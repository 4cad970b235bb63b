"""PlatformHub: the regional information platform hub (地域情報プラットフォーム) of a site.

Its own internal network and PostgreSQL (database/role ``platform_hub``); reachable from the
services only through the gateway's internal listener (``/hub/``), which it shares the edge network with.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.gateway import internal_url
from stacks.municipality import APP_UID, POSTGRES_UID, SERVICE_PORT, ServiceImage
from stacks.naming import docker_name, labels, urn_name
from stacks.providers.container import Container
from stacks.providers.network import Network
from stacks.providers.pki import Certificate, CertificateAuthority
from stacks.platform_keys import HUB_UNIT, key_id, registry_yaml
from stacks.providers.secrets import Ed25519KeyPair, RandomPassword
from stacks.providers.volume import Volume
from stacks.tls import plain_file, secret_file, tls_files

HUB_DB = "platform_hub"


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


class PlatformHub(pulumi.ComponentResource):
    """The hub container and its own PostgreSQL."""

    def __init__(self, name: str, args: PlatformHubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:PlatformHub", name, None, opts)
        a = args
        child = pulumi.ResourceOptions(parent=self)
        self.network = Network(urn_name(a.site, "hub-net"), name=docker_name(a.stack, a.site, "hub-net"),
                               docker_host=a.docker_host, labels=labels(a.stack, a.site, "hub"), internal=True,
                               subnet=a.subnet, opts=child)
        self.passwords = {role: RandomPassword(urn_name(a.site, "hub", role, "password"), length=32,
                                               keepers={"stack": a.stack, "site": a.site, "role": f"hub-{role}"},
                                               opts=child)
                          for role in ("postgres", "replicator", HUB_DB)}
        pg_name = docker_name(a.stack, a.site, "hub-postgres")
        cert = Certificate(urn_name(a.site, "hub-postgres-cert"), ca=a.ca, common_name=pg_name, dns_names=[pg_name],
                           opts=child)
        volume = Volume(urn_name(a.site, "hub-pgdata"), name=docker_name(a.stack, a.site, "hub-pgdata"),
                        docker_host=a.docker_host, labels=labels(a.stack, a.site, "hub_postgres"), opts=child)
        pg_files = [secret_file(f"/run/secrets/postgres/{r}.password", p.result, POSTGRES_UID)
                    for r, p in self.passwords.items()]
        pg_files += tls_files("/run/secrets/postgres-tls", a.ca, cert, POSTGRES_UID)
        self.postgres = Container(
            urn_name(a.site, "hub-postgres"), name=pg_name, docker_host=a.docker_host, image=a.postgres_image,
            labels=labels(a.stack, a.site, "hub_postgres"), networks=[{"name": self.network.name, "aliases": []}],
            env={"MC_PG_MODE": "primary", "MC_PG_DATABASES": HUB_DB, "MC_PG_ALLOWED_NETWORKS": a.subnet,
                 "MC_PG_APPLICATION_NAME": pg_name},
            mounts=[{"source": volume.name, "target": "/var/lib/postgresql/data"}],
            tmpfs={"/tmp": "rw,noexec,nosuid,size=64m"},
            files=pulumi.Output.all(*pg_files), health_timeout=a.health_timeout_s, opts=child)
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
            health_timeout=a.health_timeout_s, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.postgres]))
        self.register_outputs({"container": self.container.name, "postgres": self.postgres.name})
