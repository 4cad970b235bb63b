"""Throwaway PostgreSQL containers from the municloud ``postgres`` image, on testcontainers.

The one place a configured scratch PostgreSQL comes from — for integration tests, local load runs
(`municloud loadtest run --local`) and benchmarks (contract: docs/postgres-image.md)::

    from municloud_ops.scratch.postgres import postgres_container

    with postgres_container(("residents_registry",)) as pg:
        with psycopg.connect(pg.dsn("residents_registry")) as conn: ...

Each container gets its own labelled bridge network (testcontainers' Network), secrets and TLS
files as bind-mounted files owned by the server user (uid 999, mode 0400), a port published on
127.0.0.1 only, and an explicit wait strategy (``PostgresReady``: the image's healthcheck, then a
real TLS login; an exited container fails at once). Everything is removed on exit.
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
from typing import Callable, Iterator

from testcontainers.core.wait_strategies import WaitStrategy

from municloud_ops.scratch.tls import CertificateAuthority
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


class PostgresReady(WaitStrategy):
    """Ready = the image's own healthcheck says healthy, then the server answers over the published
    port: a TLS login succeeds (``must_admit``) or, for a server that is meant to refuse this host,
    it answers with its refusal. A container that exits fails at once, with its log lines, instead of
    waiting out the timeout."""

    def __init__(self, connect: Callable[[], None] | None, must_admit: bool = True) -> None:
        super().__init__()
        self._connect, self._must_admit = connect, must_admit

    def wait_until_ready(self, container) -> None:
        import psycopg

        wrapped = container.get_wrapped_container()
        t0 = time.monotonic()
        why = "not healthy"
        while True:
            wrapped.reload()
            state = wrapped.attrs["State"]
            if state["Status"] in ("exited", "dead"):
                why = f"exited ({state.get('ExitCode')})"
                break
            if (state.get("Health") or {}).get("Status") == "healthy":
                if self._connect is None:
                    return
                try:
                    self._connect()
                    return
                except psycopg.OperationalError as exc:
                    message = str(exc)
                    if not self._must_admit and ("pg_hba.conf" in message or "authentication failed" in message):
                        return  # the server itself answered, with the refusal the caller wants to see
                    why = f"healthy, but not answering over TCP as expected: {message.strip()[:200]}"
            if time.monotonic() - t0 > self._startup_timeout:
                break
            time.sleep(self._poll_interval)
        logs = wrapped.logs(tail=30).decode(errors="replace")
        raise ContainerStartError(f"container {wrapped.name} {why} after {time.monotonic() - t0:.0f} s "
                                  f"(status {state['Status']}):\n{logs}")


@contextlib.contextmanager
def postgres_container(services: tuple[str, ...] = DEFAULT_SERVICES, *, name: str | None = None,
                       env: dict[str, str] | None = None, labels: dict[str, str] | None = None,
                       passwords: dict[str, str] | None = None, timeout: float | None = None,
                       wait_login: bool = True) -> Iterator[PostgresHandle]:
    """A configured primary with one database and role per service, reachable on 127.0.0.1 only,
    on a labelled network of its own (testcontainers' DockerContainer and Network, with the
    project's local image: nothing is pulled). ``wait_login=False`` waits only until the server
    answers over TCP, with a login or a refusal (for a test whose host may not log in).
    ``timeout`` defaults to MC_SCRATCH_PG_TIMEOUT_S or 90 s (initdb on a saturated machine can
    take longer)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.network import Network

    from municloud_ops.images import ensure_image

    timeout = timeout or float(os.environ.get("MC_SCRATCH_PG_TIMEOUT_S") or 90.0)
    client = _docker()
    image = ensure_image("postgres", client)
    name = name or f"mc-test-postgres-{uuid.uuid4().hex[:8]}"
    all_labels = {**TEST_LABELS, "municloud.site": "test", "municloud.component": "postgres", **(labels or {})}
    ca = CertificateAuthority.create()
    files = prepare_files(ca, name, tuple(services), passwords)
    try:
        with Network(docker_network_kw={"driver": "bridge", "labels": all_labels}) as network:
            subnet = network_subnet(client.networks.get(network.name))
            pg = DockerContainer(image, name=name, network=network, hostname=name, labels=all_labels,
                                 env={**server_env("primary", databases=services, allowed_networks=[subnet],
                                                   application_name=name, replication_networks=[subnet]),
                                      **(env or {})})
            for host_dir, mount in files.volumes().items():
                pg.with_volume_mapping(host_dir, mount["bind"], mount["mode"])
            pg.ports["5432/tcp"] = ("127.0.0.1", None)  # loopback only, a free port
            handle: dict[str, PostgresHandle] = {}

            def login() -> None:
                import psycopg

                handle["pg"] = _handle(pg, files, client, network.name)
                with psycopg.connect(handle["pg"].dsn(services[0])):
                    pass

            pg.waiting_for(PostgresReady(login if services else None, must_admit=wait_login)
                           .with_startup_timeout(timeout).with_poll_interval(0.5))
            with pg:
                yield handle.get("pg") or _handle(pg, files, client, network.name)
    finally:
        cleanup_files(files)


def _handle(pg, files: HostFiles, client, network: str) -> PostgresHandle:
    container = client.containers.get(pg.get_container_id())
    return PostgresHandle(container, "127.0.0.1", published_port(container), files.passwords,
                          files.tls_dir / "ca.crt", client.networks.get(network))
