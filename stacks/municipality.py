"""Municipality: one member's isolated slice of a site (テナント).

Its own internal network (no route to other tenants, no egress), its own PostgreSQL with one
database and one login role per service, its own passwords and token-signing key, and the three
business services. The only foreign member of its network is the site gateway ("the gateway
link"), which reaches the services by their full container names.

At the DR site (``standby_of`` set) the same slice stands by for the primary's: its PostgreSQL is
a streaming standby (stacks/dr_standby.py) and its services share the primary's credentials and
keys, created stopped (pilot light) or running against the standby (warm) per the SLA config.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from stacks.config import SERVICES, MunicipalityConfig
from stacks.dr_standby import DrStandby, DrStandbyArgs
from stacks.naming import docker_name, labels, urn_name
from stacks.platform_keys import key_id, registry_entry, registry_yaml, trusted_entries
from stacks.postgres_config import RELOAD as POSTGRES_RELOAD
from stacks.postgres_config import memory_budget_mb, postgres_config
from stacks.providers.container import Container
from stacks.providers.network import Network
from stacks.providers.pki import Certificate, CertificateAuthority
from stacks.providers.secrets import Ed25519KeyPair, RandomPassword
from stacks.providers.volume import Volume
from stacks.tls import plain_file, secret_file, tls_files

POSTGRES_UID = 999  # docs/postgres-image.md
APP_UID = 10001  # the python image's `app` user
SERVICE_PORT = 8000
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
class DrPairing:
    """Where the municipality's DR standby runs (災害対策サイト) and how it replicates."""

    site: str
    """the DR site"""
    docker_host: str
    """its Docker engine"""
    subnet: str
    """the municipality's /24 at the DR site"""
    image: pulumi.Input[str]
    """postgres image reference at the DR site"""
    synchronous: bool
    """SLA replication_mode == synchronous (the primary's COMMITs wait for the standby)"""
    backup_repo: str | None
    """backup repository container name"""


@dataclass
class MunicipalityArgs:
    """Inputs of one municipality at one site."""

    stack: str
    """stack (consortium) name"""
    site: str
    """site name (primary)"""
    docker_host: str
    """Docker engine of the site"""
    municipality: MunicipalityConfig
    """validated config entry (lgcode, name, population, MunicipalityParams)"""
    subnet: str
    """the /24 of its internal network"""
    ca: CertificateAuthority
    """the consortium CA"""
    postgres_image: pulumi.Input[str]
    """image reference of E's PostgreSQL image"""
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
    health_timeout_s: int = 180
    """container health wait"""
    extra_service_env: dict[str, str] = field(default_factory=dict)
    """non-secret env added to every service (e.g. ENVIRONMENT)"""
    extra_postgres_env: dict[str, str] = field(default_factory=dict)
    """non-secret env merged into the PostgreSQL container (DR pairing: dr_standby.primary_postgres_env)"""
    dr: DrPairing | None = None
    """primary site: also make the DR network and the streaming standby of this PostgreSQL there"""
    standby_of: "Municipality | None" = None
    """DR site: the primary's slice (made with ``dr``): its DR network and standby, credentials and keys"""
    start_services: bool = True
    """False: services created but not started (DR pilot light)"""
    egress: bool = False
    """config tenant_egress names it: its networks are not internal (the guardrail pack refuses that)"""


class Municipality(pulumi.ComponentResource):
    """A municipality's network, PostgreSQL, credentials, token key and services at one site."""

    def __init__(self, name: str, args: MunicipalityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:Municipality", name, None, opts)
        a, code = args, args.municipality.lgcode
        self.lgcode = code
        child = pulumi.ResourceOptions(parent=self)

        def n(component: str) -> str:
            return docker_name(a.stack, a.site, component, code)

        def lab(component: str) -> dict[str, str]:
            return labels(a.stack, a.site, component, code)

        src = a.standby_of
        if src is not None and src.dr_network is not None:
            self.network = src.dr_network
        else:
            self.network = Network(urn_name(a.site, code, "net"), name=docker_name(a.stack, a.site, "", code),
                                   docker_host=a.docker_host, labels=lab("network"), internal=not a.egress,
                                   subnet=a.subnet, opts=child)
        self.postgres_name = n("postgres")
        self.dr_network: Network | None = None
        self.standby: DrStandby | None = None
        if src is not None:
            self._init_standby(a, src)
            self._init_services(a)
            return
        # The rendered PostgreSQL configuration (tuning and pg_hba.conf from roles/postgres, reloaded in
        # place when it changes) is registered first: it depends on config only, and a new member's
        # database - the head of its deploy's longest chain - waits for it.
        self.postgres_config, conf_files = postgres_config(
            urn_name(a.site, code, "postgres-config"), instance=f"{a.stack}-{a.site}-{code}-postgres",
            databases=list(SERVICES), allowed_networks=[a.subnet],
            replication_networks=[a.wan_subnet] if a.wan_network is not None and a.wan_subnet else [],
            memory_mb=memory_budget_mb(a.municipality.population), opts=child)
        # Credentials: one per role, none shared with any other municipality (keepers make them distinct
        # even if two configs were identical).
        self.passwords = {role: RandomPassword(urn_name(code, role, "password"), length=32,
                                               keepers={"stack": a.stack, "lgcode": code, "role": role}, opts=child)
                          for role in ("postgres", "replicator", *SERVICES)}
        self.token_key = Ed25519KeyPair(urn_name(code, "token-key"), keepers={"stack": a.stack, "lgcode": code},
                                        opts=child)
        self.postgres_cert = Certificate(urn_name(a.site, code, "postgres-cert"), ca=a.ca, common_name=self.postgres_name,
                                         dns_names=[self.postgres_name], opts=child)
        self.pgdata = Volume(urn_name(a.site, code, "pgdata"), name=n("pgdata"), docker_host=a.docker_host,
                             labels=lab("postgres"), opts=child)

        pg_files = [secret_file(f"/run/secrets/postgres/{role}.password", pw.result, POSTGRES_UID)
                    for role, pw in self.passwords.items()]
        pg_files += tls_files("/run/secrets/postgres-tls", a.ca, self.postgres_cert, POSTGRES_UID)
        pg_files += conf_files
        pg_networks = [{"name": self.network.name, "aliases": []}]
        pg_env = {"MC_PG_MODE": "primary", "MC_PG_DATABASES": ",".join(SERVICES),
                  "MC_PG_ALLOWED_NETWORKS": a.subnet, "MC_PG_APPLICATION_NAME": self.postgres_name,
                  **a.extra_postgres_env}
        if a.wan_network is not None:
            pg_networks.append({"name": a.wan_network.name, "aliases": []})
            pg_env["MC_PG_REPLICATION_NETWORKS"] = a.wan_subnet or ""
        self.postgres = Container(
            urn_name(a.site, code, "postgres"), name=self.postgres_name, docker_host=a.docker_host,
            image=a.postgres_image, labels=lab("postgres"), networks=pg_networks, env=pg_env,
            mounts=[{"source": self.pgdata.name, "target": "/var/lib/postgresql/data"}],
            tmpfs={"/tmp": "rw,noexec,nosuid,size=64m"},
            files=pulumi.Output.all(*pg_files), health_timeout=a.health_timeout_s, reload=POSTGRES_RELOAD,
            opts=child)
        if a.dr is not None:
            self._init_dr_standby(a, a.dr)

        # Platform message signing: one key per unit; each unit's registry holds this tenant's units, the
        # hub and, for residents_registry, the other members' residents_registry (platform_keys.py).
        self.platform_keys = a.platform_keys or {svc: Ed25519KeyPair(urn_name(code, svc, "platform-key"),
                                                  keepers={"stack": a.stack, "lgcode": code, "unit": svc}, opts=child)
                              for svc in SERVICES}
        self.registry_entries = [registry_entry(code, svc, k.public_key_b64) for svc, k in self.platform_keys.items()]
        hub = [a.hub_key_entry] if a.hub_key_entry is not None else []
        self.registries = {svc: registry_yaml(trusted_entries(svc, self.registry_entries, hub, a.peer_entries))
                           for svc in SERVICES}
        self._init_services(a)

    def _init_dr_standby(self, a: MunicipalityArgs, dr: DrPairing) -> None:
        """The DR network and standby are made here, with the primary. The services do not wait for the
        standby: they start beside its base backup, and in synchronous mode their first COMMIT (the
        migrations at start, municloud.db.MIGRATION_STATEMENT_TIMEOUT_S) waits until it streams."""
        code = self.lgcode
        self.dr_network = Network(urn_name(dr.site, code, "net"), name=docker_name(a.stack, dr.site, "", code),
                                  docker_host=dr.docker_host, labels=labels(a.stack, dr.site, "network", code),
                                  internal=not a.egress, subnet=dr.subnet, opts=pulumi.ResourceOptions(parent=self))
        self.standby = DrStandby(urn_name(dr.site, code, "dr-standby"), DrStandbyArgs(
            stack=a.stack, site=dr.site, primary_site=a.site, docker_host=dr.docker_host, lgcode=code,
            databases=list(SERVICES), passwords=self.passwords, ca=a.ca, image=dr.image, network=self.dr_network,
            subnet=dr.subnet, wan_network=a.wan_network, wan_subnet=a.wan_subnet or "", synchronous=dr.synchronous,
            backup_repo=dr.backup_repo, primary=self.postgres, health_timeout_s=max(a.health_timeout_s, 300),
            memory_mb=memory_budget_mb(a.municipality.population)),
            pulumi.ResourceOptions(parent=self))

    def _init_standby(self, a: MunicipalityArgs, src: "Municipality") -> None:
        """DR slice: ``src``'s standby, services with ``src``'s credentials and keys."""
        if src.standby is None:
            raise ValueError(f"municipality {self.lgcode}: standby_of needs the primary made with 'dr'")
        self.passwords, self.token_key = src.passwords, src.token_key
        self.platform_keys, self.registry_entries = src.platform_keys, src.registry_entries
        self.registries = src.registries
        self.standby = src.standby
        self.postgres = src.standby.container

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
                command=command, healthcheck=healthcheck, files=pulumi.Output.all(*files),
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
