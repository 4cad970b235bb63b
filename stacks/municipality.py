"""Municipality: one member's isolated slice of a site (テナント) = network + cluster + services.

Its own internal network (no route to other tenants, no egress), its own PostgreSQL
(stacks/postgres_cluster.py: one database and one login role per service), its own token-signing
and platform keys, and the three business services. The only foreign member of its network is the
site gateway ("the gateway link"), which reaches the services by their full container names.

At the DR site (``standby_of`` set, made by the DR site) the same slice stands by for the
primary's: its cluster is the primary cluster's streaming standby and its services share the
primary's credentials and keys, created stopped (pilot light) or running against the standby
(warm) per the SLA config.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from municloud.naming import SERVICE_PORT
from stacks.config import SERVICES, MunicipalityConfig
from stacks.naming import docker_name, labels, urn_name
from stacks.platform_keys import key_id, registry_entry, registry_yaml, trusted_entries
from stacks.postgres_cluster import PostgresCluster, PostgresClusterArgs, StandbyPairing
from stacks.wan import RoutedWan, WanSegments
from stacks.postgres_config import memory_budget_mb
from stacks.providers.container import Container
from stacks.providers.network import Network, host_isolation
from stacks.providers.pki import CertificateAuthority
from stacks.providers.secrets import Ed25519KeyPair
from stacks.tls import plain_file, secret_file

APP_UID = 10001  # the python image's `app` user
#: a service container's files changed by a deploy: re-read in place when only the key registry
#: changed (a member joined or left), restart in place otherwise (municloud/service/hot_files.py)
SERVICE_RELOAD = ["python", "-m", "municloud.service.hot_files"]


@dataclass
class ServiceImage:
    """Which image runs a service and how it proves health."""

    ref: pulumi.Input[str]
    """image reference (content-hash tag)"""
    placeholder: bool = False
    """True while services/<name>/Dockerfile is missing: a health-checked stand-in on the python image"""


@dataclass
class MunicipalityArgs:
    """Inputs of one municipality at one site."""

    stack: str
    """stack (consortium) name"""
    site: str
    """site name"""
    docker_host: str
    """Docker engine of the site"""
    municipality: MunicipalityConfig
    """validated config entry (lgcode, name, population, MunicipalityParams)"""
    subnet: str
    """the /24 of its internal network"""
    ca: CertificateAuthority
    """the consortium CA"""
    postgres_image: pulumi.Input[str]
    """image reference of the PostgreSQL image (images/postgres)"""
    service_images: dict[str, ServiceImage]
    """per service name"""
    hub_url: str | None = None
    """where services publish platform messages (via the gateway), if the hub exists"""
    hub_key_entry: pulumi.Output[dict] | None = None
    """the hub's entry of the platform key registry (its messages are verified by the services)"""
    platform_keys: dict | None = None
    """unit -> Ed25519KeyPair made by the Site before any municipality (platform_keys.member_keys); None: here"""
    peer_entries: dict = field(default_factory=dict)
    """unit -> other members' registry entries it trusts (platform_keys.peer_entries: residents_registry)"""
    wan_network: Network | None = None
    """WAN network for replication/backup; the PostgreSQL container joins it when given"""
    wan_subnet: str | None = None
    """its CIDR (allowed for replication)"""
    routed_wan: RoutedWan | None = None
    """sites on engines of their own (stacks/wan.py): the cluster's place on its host's WAN network"""
    wan_segments: WanSegments | None = None
    """sites on one engine (stacks/wan.py): the cluster's place on its pair's WAN segment"""
    health_timeout_s: int = 180
    """container health wait"""
    extra_service_env: dict[str, str] = field(default_factory=dict)
    """non-secret env added to every service (e.g. ENVIRONMENT)"""
    pairing: StandbyPairing | None = None
    """primary site: its cluster is the source of a DR standby (made by the DR site)"""
    standby_of: "Municipality | None" = None
    """DR site: the primary's slice (made with ``pairing``): its cluster's standby, credentials and keys"""
    start_services: bool = True
    """False: services created but not started (DR pilot light)"""
    egress: bool = False
    """config tenant_egress names it: its network is not internal (the guardrail pack refuses that)"""
    isolate_engine_host: bool | str = "new-networks"
    """config engine_host_isolation (providers.network.host_isolation): its internal network's bridge holds no address (no way to the host)"""


class Municipality(pulumi.ComponentResource):
    """A municipality's network, PostgreSQL cluster, token key and services at one site."""

    def __init__(self, name: str, args: MunicipalityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:Municipality", name, None, opts)
        a, code, src = args, args.municipality.lgcode, args.standby_of
        self.lgcode = code
        child = pulumi.ResourceOptions(parent=self)
        isolation, keep = host_isolation(a.isolate_engine_host, not a.egress)
        # At the DR site the network was made under the primary's slice before the DR site had one.
        self.network = Network(urn_name(a.site, code, "net"), name=docker_name(a.stack, a.site, "", code),
                               docker_host=a.docker_host, labels=labels(a.stack, a.site, "network", code),
                               internal=not a.egress, subnet=a.subnet,
                               options=isolation,
                               opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=src)] if src else None,
                                                           ignore_changes=keep))
        # The services do not wait for a standby: they start beside its base backup, and in synchronous
        # mode their first COMMIT (the migrations at start, municloud.db.MIGRATION_STATEMENT_TIMEOUT_S)
        # waits until it streams.
        self.cluster = PostgresCluster(
            urn_name(a.site, code, "dr-standby") if src else urn_name(a.site, code, "postgres-cluster"),
            PostgresClusterArgs(
                stack=a.stack, site=a.site, docker_host=a.docker_host, lgcode=code, databases=list(SERVICES),
                network=self.network, subnet=a.subnet, ca=a.ca, image=a.postgres_image,
                memory_mb=memory_budget_mb(a.municipality.population), wan_network=a.wan_network,
                wan_subnet=a.wan_subnet or "", pairing=a.pairing, standby_of=src.cluster if src else None,
                health_timeout_s=a.health_timeout_s, routed_wan=a.routed_wan, wan_segments=a.wan_segments), child)
        self.postgres, self.postgres_name = self.cluster.container, self.cluster.container_name
        self.passwords = self.cluster.passwords
        if src is not None:  # the primary's credentials and keys: the DR slice stands in for it
            self.token_key, self.platform_keys = src.token_key, src.platform_keys
            self.registry_entries, self.registries = src.registry_entries, src.registries
        else:
            self.token_key = Ed25519KeyPair(urn_name(code, "token-key"), keepers={"stack": a.stack, "lgcode": code},
                                            opts=child)
            # Platform message signing: one key per unit; each unit's registry holds this tenant's units,
            # the hub and, for residents_registry, the other members' residents_registry (platform_keys.py).
            self.platform_keys = a.platform_keys or {
                svc: Ed25519KeyPair(urn_name(code, svc, "platform-key"),
                                    keepers={"stack": a.stack, "lgcode": code, "unit": svc}, opts=child)
                for svc in SERVICES}
            self.registry_entries = [registry_entry(code, svc, k.public_key_b64) for svc, k in self.platform_keys.items()]
            hub = [a.hub_key_entry] if a.hub_key_entry is not None else []
            self.registries = {svc: registry_yaml(trusted_entries(svc, self.registry_entries, hub, a.peer_entries))
                               for svc in SERVICES}
        self._init_services(a)

    def _init_services(self, a: MunicipalityArgs) -> None:
        code = self.lgcode

        def n(component: str) -> str:
            return docker_name(a.stack, a.site, component, code)

        def lab(component: str) -> dict[str, str]:
            return labels(a.stack, a.site, component, code)

        params_json = a.municipality.params.model_dump_json(indent=2)
        self.services: dict[str, Container] = {}
        for svc in SERVICES:
            image = a.service_images[svc]
            env = {"ENVIRONMENT": "production", "SERVICE_NAME": svc, "LGCODE": code,
                   "DATABASE_HOST": self.postgres_name, "DATABASE_PORT": "5432",
                   "DATABASE_SSLMODE": "verify-full", "DATABASE_SSLROOTCERT": "/run/secrets/tls/ca.crt",
                   "DB_PASSWORD_FILE": "/run/secrets/db/password",
                   "MUNICIPALITY_PARAMS_FILE": "/etc/municloud/params.json",
                   "PLATFORM_KEYS_FILE": "/etc/municloud/platform-keys.yaml",
                   "PLATFORM_SIGNING_KEY_FILE": f"/run/secrets/platform/{key_id(code, svc)}.key",
                   # httpx trusts the consortium CA for the hub behind the gateway
                   "SSL_CERT_FILE": "/run/secrets/tls/ca.crt", **a.extra_service_env}
            if a.hub_url:
                env["HUB_URL"] = a.hub_url
            if a.standby_of is not None:  # how failback leaves them (municloud_ops.dr.failback): not a secret
                env["MC_DR_SERVICES"] = "warm" if a.start_services else "pilot_light"
            files = [secret_file("/run/secrets/db/password", self.passwords[svc].result, APP_UID),
                     plain_file("/run/secrets/tls/ca.crt", a.ca.cert_pem),
                     plain_file("/etc/municloud/params.json", params_json),
                     plain_file("/etc/municloud/platform-keys.yaml", self.registries[svc]),
                     secret_file(f"/run/secrets/platform/{key_id(code, svc)}.key",
                                 self.platform_keys[svc].private_key_pem, APP_UID)]
            healthcheck = None
            command = None
            if image.placeholder:
                command = ["python", "-m", "http.server", str(SERVICE_PORT), "--bind", "0.0.0.0",
                           "--directory", "/etc/municloud"]
                healthcheck = {"test": ["python", "-c", "import urllib.request as u; "
                                        f"u.urlopen('http://127.0.0.1:{SERVICE_PORT}/params.json', timeout=2)"]}
            env_out = self.token_key.public_key_pem.apply(lambda pem, e=env: {**e, "TOKEN_PUBLIC_KEY": pem})
            self.services[svc] = Container(
                urn_name(a.site, code, svc), name=n(svc), docker_host=a.docker_host, image=image.ref,
                labels=lab(svc), networks=[{"name": self.network.name, "aliases": []}], env=env_out,
                user=str(APP_UID), read_only=True, tmpfs={"/tmp": "rw,noexec,nosuid,size=64m"},
                command=command, healthcheck=healthcheck, files=files,
                health_timeout=a.health_timeout_s, start=a.start_services, reload=SERVICE_RELOAD,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.postgres]))

        self.service_names = {svc: n(svc) for svc in SERVICES}
        self.register_outputs({
            "lgcode": code,
            "network": self.network.name,
            "postgres": self.postgres.name,
            "services": {svc: c.name for svc, c in self.services.items()},
            "token_public_key_pem": self.token_key.public_key_pem,
        })
