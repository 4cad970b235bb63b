"""Start throwaway PostgreSQL containers from the municloud ``postgres`` image.

The one place tests get a configured PostgreSQL (contract: docs/postgres-image.md)::

    from municloud.testing.postgres import postgres_container

    with postgres_container(("residents_registry",)) as pg:
        with psycopg.connect(pg.dsn("residents_registry")) as conn: ...

Each container gets its own labelled bridge network (unless one is given), secrets and TLS files as
bind-mounted files owned by the server user (uid 999, mode 0400), a port published on 127.0.0.1
only, and an explicit wait (health check, then a real TLS login). Everything is removed on exit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from municloud.testing.tls import CertificateAuthority
from stacks.postgres_image import POSTGRES_UID, SECRETS_DIR, TLS_DIR, server_env
TEST_LABELS = {"municloud.stack": "test", "municloud.lgcode": "shared"}
DEFAULT_SERVICES = ("residents_registry", "tax", "nhi")


class ContainerStartError(RuntimeError):
    """A test container did not become ready; the message carries its last log lines."""


def _docker():
    import docker

    return docker.from_env(timeout=120)


def write_secret(directory: Path, name: str, content: bytes | str, mode: int = 0o400) -> Path:
    """Write a file readable only by the container's postgres user (uid 999)."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chown(directory, POSTGRES_UID, POSTGRES_UID)
    os.chmod(directory, 0o500)
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    os.chown(path, POSTGRES_UID, POSTGRES_UID)
    os.chmod(path, mode)
    return path


@dataclass
class HostFiles:
    """Secret and TLS files of one container, in a host directory that is bind-mounted."""

    root: Path
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def secrets_dir(self) -> Path:
        return self.root / "secrets"

    @property
    def tls_dir(self) -> Path:
        return self.root / "tls"

    def volumes(self) -> dict[str, dict[str, str]]:
        return {str(self.secrets_dir): {"bind": SECRETS_DIR, "mode": "ro"},
                str(self.tls_dir): {"bind": TLS_DIR, "mode": "ro"}}


def prepare_files(ca: CertificateAuthority, host_name: str, roles: tuple[str, ...],
                  passwords: dict[str, str] | None = None) -> HostFiles:
    """Create passwords (for ``roles`` + postgres + replicator) and a TLS cert for ``host_name``."""
    files = HostFiles(Path(tempfile.mkdtemp(prefix="mc-pg-")))
    os.chmod(files.root, 0o755)
    pw = dict(passwords or {})
    for role in ("postgres", "replicator", *roles):
        pw.setdefault(role, secrets.token_urlsafe(24))
        write_secret(files.secrets_dir, f"{role}.password", pw[role])
    files.passwords = pw
    cert, key = ca.issue(host_name, dns_names=("localhost",), ips=("127.0.0.1",))
    write_secret(files.tls_dir, "ca.crt", ca.cert_pem, 0o444)
    write_secret(files.tls_dir, "server.crt", cert, 0o444)
    write_secret(files.tls_dir, "server.key", key)
    return files


def cleanup_files(files: HostFiles) -> None:
    shutil.rmtree(files.root, ignore_errors=True)


def network_subnet(network) -> str:
    network.reload()
    return network.attrs["IPAM"]["Config"][0]["Subnet"]


def wait_healthy(container, timeout: float = 90.0) -> float:
    """Wait until Docker reports the container healthy; return the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        container.reload()
        state = container.attrs["State"]
        if state.get("Health", {}).get("Status") == "healthy":
            return time.monotonic() - t0
        if state["Status"] in ("exited", "dead"):
            break
        time.sleep(0.5)
    logs = container.logs(tail=30).decode(errors="replace")
    raise ContainerStartError(f"container {container.name} not healthy after {time.monotonic() - t0:.0f} s "
                              f"(status {container.attrs['State']['Status']}):\n{logs}")


def published_port(container, port: str = "5432/tcp") -> int:
    container.reload()
    return int(container.attrs["NetworkSettings"]["Ports"][port][0]["HostPort"])


@dataclass
class PostgresHandle:
    """A running test PostgreSQL: where to reach it from the host and with what credentials."""

    container: object
    host: str
    port: int
    passwords: dict[str, str]
    ca_file: Path
    network: object

    def dsn(self, role: str, database: str | None = None) -> str:
        return (f"host={self.host} port={self.port} user={role} dbname={database or role} "
                f"password={self.passwords[role]} sslmode=verify-full sslrootcert={self.ca_file} "
                f"connect_timeout=5")

    def exec_sql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the postgres superuser over the local socket (docker exec); return stdout."""
        rc, out = self.container.exec_run(["psql", "-X", "-qAt", "-d", database, "-c", sql], user="postgres")
        if rc != 0:
            raise RuntimeError(f"psql failed in {self.container.name}: {out.decode(errors='replace')}")
        return out.decode().strip()


@contextlib.contextmanager
def postgres_container(services: tuple[str, ...] = DEFAULT_SERVICES, *, name: str | None = None,
                       env: dict[str, str] | None = None, labels: dict[str, str] | None = None,
                       passwords: dict[str, str] | None = None, timeout: float = 90.0,
                       wait_login: bool = True) -> Iterator[PostgresHandle]:
    """A configured primary with one database and role per service, reachable on 127.0.0.1.
    ``wait_login=False`` skips the login wait (for a test whose host may not log in)."""
    from municloud.images import ensure_image

    client = _docker()
    image = ensure_image("postgres", client)
    suffix = uuid.uuid4().hex[:8]
    name = name or f"mc-test-postgres-{suffix}"
    all_labels = {**TEST_LABELS, "municloud.site": "test", "municloud.component": "postgres", **(labels or {})}
    ca = CertificateAuthority.create()
    files = prepare_files(ca, name, tuple(services), passwords)
    network = client.networks.create(f"mc-test-net-{suffix}", driver="bridge", labels=all_labels)
    container = None
    try:
        subnet = network_subnet(network)
        container = client.containers.run(
            image, name=name, hostname=name, detach=True, labels=all_labels, network=network.name,
            volumes=files.volumes(), ports={"5432/tcp": ("127.0.0.1", None)},
            environment={**server_env("primary", databases=services, allowed_networks=[subnet],
                                      application_name=name, replication_networks=[subnet]), **(env or {})},
        )
        wait_healthy(container, timeout)
        handle = PostgresHandle(container, "127.0.0.1", published_port(container), files.passwords,
                                files.tls_dir / "ca.crt", network)
        if wait_login:
            _wait_login(handle, services[0] if services else None, timeout)
        yield handle
    finally:
        if container is not None:
            container.remove(force=True, v=True)
        network.remove()
        cleanup_files(files)


def _wait_login(handle: PostgresHandle, role: str | None, timeout: float) -> None:
    """Healthy means the socket answers; wait until a TLS login over the published port works."""
    if role is None:
        return
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(handle.dsn(role)):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
