"""BackupRepository: the pgBackRest repository at the DR site (遠隔バックアップ).

Its own container (postgres image, ``MC_PG_MODE=repo``) and volume on the WAN only (on one
engine: on every pair's WAN segment, stacks/wan.py),
reached over pgBackRest's TLS server mode (port 8432, client certificates whose CN is the
database container's name). One stanza per municipality cluster (+ the hub); the repository is
encrypted (aes-256-cbc) with a generated passphrase that exists only as a Pulumi secret and a
0400 file in the container (pgBackRest include file), never as env or in a rendered file.
pgbackrest.conf (stanzas, retention by generations, TLS authorisation) and the full/differential
schedule are rendered by roles/pgbackrest from the stack's SLA config. A changed configuration (a
municipality joining or leaving) restarts the container in place: pgBackRest's TLS server reads
its configuration when it starts. Contract: docs/postgres-image.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from stacks.naming import docker_name, labels, urn_name
from stacks.postgres_image import PGBACKREST_CONFIG_DIR, PGBACKREST_SECRETS_DIR, POSTGRES_UID, TLS_DIR, TMPFS, repo_env
from stacks.providers.container import Container
from stacks.providers.network import Network
from stacks.providers.pki import Certificate, CertificateAuthority
from stacks.providers.rendered import RenderedConfig
from stacks.providers.secrets import RandomPassword
from stacks.providers.volume import Volume
from stacks.tls import plain_file, secret_file, tls_files

PGBACKREST_PORT = 8432
#: pgBackRest's server reads its configuration at start: a changed one restarts the container in place
RELOAD_BY_RESTART = ["/bin/sh", "-c", "exit 75"]


@dataclass
class BackupRepositoryArgs:
    """Inputs of the backup repository."""

    stack: str
    """stack (consortium) name"""
    site: str
    """site it runs at (the DR site)"""
    docker_host: str
    """Docker engine of that site"""
    image: pulumi.Input[str]
    """postgres image reference (it carries pgBackRest)"""
    ca: CertificateAuthority
    """consortium CA (TLS between the repository and the database hosts)"""
    wan_network: Network | None
    """the WAN network: the only network it joins (None: ``wan_endpoint`` names its networks)"""
    stanzas: dict[str, list[str]]
    """stanza (municipality code, or "hub") -> database container names that may hold it (primary first)"""
    retention_full: int = 2
    """full backups kept (generations), SLA backup_retention_full"""
    retention_diff: int = 6
    """differential backups kept, SLA backup_retention_diff"""
    full_every_hours: int = 7 * 24
    """a full backup when the last full is older than this (0 = no schedule), SLA backup_full_every_hours"""
    diff_every_hours: int = 24
    """a differential backup when the last backup is older than this, SLA backup_diff_every_hours"""
    health_timeout_s: int = 180
    """container health wait"""
    wan_endpoint: list[dict] | None = None
    """its places on the WAN (fixed addresses): on its host's routed WAN network (sites on hosts of
    their own), or on every pair's segment (sites on one engine)"""
    extra_hosts: dict[str, str] | None = None
    """sites on hosts of their own: the other site's database names and addresses (/etc/hosts)"""


def stanza_list(stanzas: dict[str, list[str]], port: int = 5432) -> list[dict]:
    """roles/pgbackrest ``pgbackrest_stanzas``: name, hosts (primary first), port; sorted, so stable."""
    return [{"name": s, "hosts": list(hosts), "port": port} for s, hosts in sorted(stanzas.items())]


class BackupRepository(pulumi.ComponentResource):
    """pgBackRest repository container + volume + cipher passphrase."""

    def __init__(self, name: str, args: BackupRepositoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:BackupRepository", name, None, opts)
        a = args
        child = pulumi.ResourceOptions(parent=self)
        self.container_name = docker_name(a.stack, a.site, "backup_repo")
        lab = labels(a.stack, a.site, "backup_repo")
        self.passphrase = RandomPassword(urn_name(a.site, "backup-cipher-pass"), length=64,
                                         keepers={"stack": a.stack, "purpose": "pgbackrest-repo1-cipher"}, opts=child)
        cert = Certificate(urn_name(a.site, "backup-repo-cert"), ca=a.ca, common_name=self.container_name,
                           dns_names=[self.container_name], opts=child)
        self.volume = Volume(urn_name(a.site, "backup-repo-data"), name=docker_name(a.stack, a.site, "backup-repo-data"),
                             docker_host=a.docker_host, labels=lab, opts=child)
        cipher_conf = self.passphrase.result.apply(lambda p: f"[global]\nrepo1-cipher-pass={p}\n")
        files = [secret_file(f"{PGBACKREST_SECRETS_DIR}/cipher.conf", cipher_conf, POSTGRES_UID)]
        files += tls_files(TLS_DIR, a.ca, cert, POSTGRES_UID)
        self.config = RenderedConfig(
            urn_name(a.site, "backup-repo-config"), role="pgbackrest", instance=f"{a.stack}-{a.site}-backup-repo",
            output_var="pgbackrest_output_dir",
            variables={"pgbackrest_stanzas": stanza_list(a.stanzas), "pgbackrest_retention_full": a.retention_full,
                       "pgbackrest_retention_diff": a.retention_diff,
                       "pgbackrest_full_every_hours": a.full_every_hours,
                       "pgbackrest_diff_every_hours": a.diff_every_hours}, opts=child)
        files += [plain_file(f"{PGBACKREST_CONFIG_DIR}/{n}", self.config.files.apply(lambda f, n=n: f[n]), POSTGRES_UID)
                  for n in ("pgbackrest.conf", "schedule.conf")]
        env = repo_env()  # stanzas, retention, schedule: the files roles/pgbackrest rendered
        self.container = Container(
            urn_name(a.site, "backup-repo"), name=self.container_name, docker_host=a.docker_host, image=a.image,
            labels=lab, networks=[dict(e) for e in a.wan_endpoint] if a.wan_endpoint
            else [{"name": a.wan_network.name, "aliases": []}],
            env=env, extra_hosts=a.extra_hosts,
            mounts=[{"source": self.volume.name, "target": "/var/lib/pgbackrest"}],
            tmpfs=dict(TMPFS),
            files=files, health_timeout=a.health_timeout_s, reload=RELOAD_BY_RESTART,
            opts=child)
        self.register_outputs({"container": self.container.name, "volume": self.volume.name,
                               "stanzas": sorted(a.stanzas)})
