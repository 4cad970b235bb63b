"""A self-contained DR lab: the primary and DR sites of a small stack, built from the postgres image.

Same names and labels as the real stack (``mc-<stack>-<site>-<lgcode>-postgres``, the WAN network,
``mc-<stack>-dr-backup-repo``), so the DR and backup operations (``municloud_ops.dr``,
``municloud_ops.backup``) run unchanged against it. Used by tests/dr while the full stack is not up,
and cleaned up completely on exit (containers, volumes, networks, host files).
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from municloud_ops.scratch.postgres import (
    HostFiles, PostgresHandle, _docker, cleanup_files, network_subnet, prepare_files, published_port,
    wait_healthy, write_secret,
)
from municloud_ops.scratch.tls import CertificateAuthority
from stacks.naming import docker_name, labels
from stacks.postgres_cluster import postgres_name, stanza_name
from stacks.postgres_image import DATA_DIR, PGBACKREST_SECRETS_DIR, repo_env, server_env


@dataclass(frozen=True)
class LabSpec:
    """What to build. ``synchronous``: the primary waits for its DR standby on commit."""

    stack: str = field(default_factory=lambda: f"drlab{uuid.uuid4().hex[:6]}")
    lgcodes: tuple[str, ...] = ("053031",)
    synchronous: bool = True
    backup: bool = True
    services: tuple[str, ...] = ("residents_registry",)
    retention_full: int = 2


@dataclass
class Lab:
    """Handles to what the lab started (host-side access for tests)."""

    spec: LabSpec
    ca: CertificateAuthority
    ca_file: Path
    passwords: dict[str, dict[str, str]] = field(default_factory=dict)
    containers: list = field(default_factory=list)
    networks: list = field(default_factory=list)
    volumes: list = field(default_factory=list)
    files: list[HostFiles] = field(default_factory=list)
    cipher_file: Path | None = None
    """host path of the repository's cipher include file (tests look for leaks of its passphrase)"""

    def container(self, name: str):
        return _docker().containers.get(name)

    def db_name(self, site: str, lgcode: str) -> str:
        return postgres_name(self.spec.stack, site, lgcode)

    def handle(self, site: str, lgcode: str) -> PostgresHandle:
        c = self.container(self.db_name(site, lgcode))
        return PostgresHandle(c, "127.0.0.1", published_port(c), self.passwords[lgcode], self.ca_file, None)


@contextlib.contextmanager
def dr_lab(spec: LabSpec | None = None, timeout: float = 120.0) -> Iterator[Lab]:
    """Build the lab; yield it; remove everything it created (even after a failed start)."""
    from municloud_ops.images import ensure_image

    spec = spec or LabSpec()
    client = _docker()
    image = ensure_image("postgres", client)
    ca = CertificateAuthority.create(f"{spec.stack} CA")
    ca_dir = prepare_ca_dir(ca)
    lab = Lab(spec, ca, ca_dir / "ca.crt")
    s = spec.stack
    try:
        wan = _network(client, lab, docker_name(s, None, "wan"), labels(s, "shared", "wan"))
        wan_subnet = network_subnet(wan)
        repo_name = docker_name(s, "dr", "backup-repo")
        stanzas = {}
        for lg in spec.lgcodes:
            lab.passwords[lg] = {r: secrets.token_urlsafe(24) for r in ("postgres", "replicator", *spec.services)}
            stanzas[stanza_name(lg)] = [lab.db_name("primary", lg), lab.db_name("dr", lg)]
        if spec.backup:
            _start_repo(client, lab, image, repo_name, wan, stanzas)
        for lg in spec.lgcodes:
            _start_pair(client, lab, image, lg, wan, wan_subnet, repo_name if spec.backup else None)
        for c in lab.containers:
            wait_healthy(c, timeout)
        if spec.backup:
            for lg in spec.lgcodes:
                _wait_stanza(client.containers.get(repo_name), lg, timeout)
        yield lab
    finally:
        for c in reversed(lab.containers):
            with contextlib.suppress(Exception):
                client.containers.get(c.id).remove(force=True, v=True)
        for c in client.containers.list(all=True, filters={"label": f"municloud.stack={s}"}):
            c.remove(force=True, v=True)  # scratch containers created by operations under test
        for v in lab.volumes + client.volumes.list(filters={"label": f"municloud.stack={s}"}):
            with contextlib.suppress(Exception):
                v.remove(force=True)
        for n in lab.networks:
            with contextlib.suppress(Exception):
                n.remove()
        for f in lab.files:
            cleanup_files(f)
        shutil.rmtree(ca_dir, ignore_errors=True)
        from municloud_ops.images import STATE_DIR

        shutil.rmtree(STATE_DIR / "dr" / s, ignore_errors=True)


def prepare_ca_dir(ca: CertificateAuthority) -> Path:
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="mc-lab-ca-"))
    (d / "ca.crt").write_bytes(ca.cert_pem)
    return d


def _network(client, lab: Lab, name: str, lbls: dict[str, str]):
    n = client.networks.create(name, driver="bridge", labels=lbls)
    lab.networks.append(n)
    return n


def _volume(client, lab: Lab, name: str, lbls: dict[str, str]):
    v = client.volumes.create(name, labels=lbls)
    lab.volumes.append(v)
    return v


def _repo_exec(container, cmd: list[str]) -> str:
    rc, out = container.exec_run(cmd, user="postgres")
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed in {container.name}: {out.decode(errors='replace')}")
    return out.decode()


def _wait_stanza(repo, stanza: str, timeout: float) -> None:
    """The repository's entrypoint creates each stanza once its database answers; wait for it."""
    import json
    import time

    deadline = time.monotonic() + timeout
    while True:
        rc, out = repo.exec_run(["pgbackrest", f"--stanza={stanza}", "--output=json", "info"], user="postgres")
        if rc == 0 and json.loads(out.decode())[0]["status"]["code"] in (0, 2):  # ok / no backup yet
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"stanza {stanza} not created in {repo.name} after {timeout:.0f} s: "
                               f"{repo.logs(tail=10).decode(errors='replace')}")
        time.sleep(1.0)


def _start_repo(client, lab: Lab, image: str, name: str, wan, stanzas: dict[str, list[str]]) -> None:
    s = lab.spec.stack
    lbl = labels(s, "dr", "backup_repo")
    files = prepare_files(lab.ca, name, ())
    lab.files.append(files)
    lab.cipher_file = write_secret(files.root / "pgbackrest", "cipher.conf",
                 f"[global]\nrepo1-cipher-pass={secrets.token_urlsafe(48)}\n")
    vol = _volume(client, lab, f"{name}-data", lbl)
    lab.containers.append(client.containers.run(
        image, name=name, hostname=name, detach=True, labels=lbl, network=wan.name,
        restart_policy={"Name": "unless-stopped"},
        volumes={**files.volumes(), str(files.root / "pgbackrest"): {"bind": PGBACKREST_SECRETS_DIR, "mode": "ro"},
                 vol.name: {"bind": "/var/lib/pgbackrest", "mode": "rw"}},
        environment=repo_env(stanzas, retention_full=lab.spec.retention_full),
    ))


def _start_pair(client, lab: Lab, image: str, lg: str, wan, wan_subnet: str, repo: str | None) -> None:
    """Primary at site primary and its streaming standby at site dr, for municipality ``lg``."""
    s = lab.spec.stack
    names = {site: lab.db_name(site, lg) for site in ("primary", "dr")}
    for site, component, peer in (("primary", "postgres", "dr"), ("dr", "standby", "primary")):
        lbl = labels(s, site, component, lg)
        site_net = _network(client, lab, docker_name(s, site, "", lg), lbl)
        files = prepare_files(lab.ca, names[site], lab.spec.services, lab.passwords[lg])
        lab.files.append(files)
        vol = _volume(client, lab, f"{names[site]}-data", lbl)
        # the same contract as the stack's clusters (stacks/postgres_cluster.py), without the rendered files
        env = server_env("primary" if site == "primary" else "standby", databases=lab.spec.services,
                         allowed_networks=[network_subnet(site_net)], application_name=names[site],
                         replication_networks=[wan_subnet], peer_host=names[peer],
                         synchronous=lab.spec.synchronous, stanza=stanza_name(lg) if repo else None,
                         repo_host=repo)
        c = client.containers.create(
            image, name=names[site], hostname=names[site], labels=lbl, network=site_net.name,
            restart_policy={"Name": "unless-stopped"}, ports={"5432/tcp": ("127.0.0.1", None)},
            volumes={**files.volumes(), vol.name: {"bind": DATA_DIR, "mode": "rw"}},
            environment=env,
        )
        wan.connect(c)
        c.start()
        lab.containers.append(c)
        if site == "primary":
            wait_healthy(c)


@dataclass
class WanPair:
    """A member's primary on the primary site host and its standby on the DR site host."""

    lab: Lab
    clients: dict
    names: dict[str, str]
    addresses: dict[str, str]
    client_address: str
    """the DR-site address the application client uses (admitted by the primary's pg_hba)"""

    def container(self, site: str):
        return self.clients[site].containers.get(self.names[site])


@contextlib.contextmanager
def wan_pair(clients: dict, blocks: dict[str, str], spec: LabSpec | None = None,
             timeout: float = 300.0) -> Iterator[WanPair]:
    """One member's PostgreSQL pair across the WAN between two site hosts (``clients``: a Docker
    client per site, ``blocks``: each site's routed /24, tools/bootstrap/wan.sh).

    Each site gets a WAN-facing network in its block (no masquerade); each server a fixed address
    (.11), the peer's name as an /etc/hosts entry (no embedded DNS across engines), and pg_hba
    admitting replication from the peer's exact address only (/32). Application clients are
    admitted from the DR site's client address only (support.sites.CLIENT_HOST). No backup repository. Removes everything on exit.
    """
    import ipaddress

    import docker

    from municloud_ops.images import ensure_image

    spec = spec or LabSpec(backup=False)
    lg = spec.lgcodes[0]
    ca = CertificateAuthority.create(f"{spec.stack} CA")
    ca_dir = prepare_ca_dir(ca)
    lab = Lab(spec, ca, ca_dir / "ca.crt")
    s = spec.stack
    names = {site: lab.db_name(site, lg) for site in ("primary", "dr")}
    addresses = {site: str(ipaddress.ip_network(blocks[site]).network_address + 11) for site in names}
    from support.sites import CLIENT_HOST

    client_address = str(ipaddress.ip_network(blocks["dr"]).network_address + CLIENT_HOST)
    lab.passwords[lg] = {r: secrets.token_urlsafe(24) for r in ("postgres", "replicator", *spec.services)}
    made: list = []
    try:
        images = {site: ensure_image("postgres", clients[site]) for site in names}
        for site, component, peer in (("primary", "postgres", "dr"), ("dr", "standby", "primary")):
            lbl = labels(s, site, component, lg)
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=blocks[site])])
            net = clients[site].networks.create(docker_name(s, site, "wan"), ipam=ipam, labels=lbl,
                                                options={"com.docker.network.bridge.enable_ip_masquerade": "false"})
            made.append(net)
            files = prepare_files(ca, names[site], spec.services, lab.passwords[lg])
            lab.files.append(files)
            vol = clients[site].volumes.create(f"{names[site]}-data", labels=lbl)
            made.append(vol)
            # the same contract as the stack's clusters, the peer and the client as exact addresses
            env = server_env("primary" if site == "primary" else "standby", databases=spec.services,
                             allowed_networks=[f"{client_address}/32"], application_name=names[site],
                             replication_networks=[f"{addresses[peer]}/32"], peer_host=names[peer],
                             synchronous=spec.synchronous, stanza=None, repo_host=None)
            c = clients[site].containers.create(
                images[site], name=names[site], hostname=names[site], labels=lbl,
                restart_policy={"Name": "unless-stopped"}, extra_hosts={names[peer]: addresses[peer]},
                volumes={**files.volumes(), vol.name: {"bind": DATA_DIR, "mode": "rw"}},
                environment=env, network=net.name)
            net.disconnect(c)
            net.connect(c, ipv4_address=addresses[site])
            c.start()
            made.insert(0, c)
            lab.containers.append(c)
            if site == "primary":
                wait_healthy(c, timeout)
        for c in lab.containers:
            wait_healthy(c, timeout)
        yield WanPair(lab, clients, names, addresses, client_address)
    finally:
        for client in clients.values():
            for c in client.containers.list(all=True, filters={"label": f"municloud.stack={s}"}):
                with contextlib.suppress(Exception):
                    c.remove(force=True, v=True)
        for obj in made:
            with contextlib.suppress(Exception):
                obj.remove(force=True) if not hasattr(obj, "connect") else obj.remove()
        for f in lab.files:
            cleanup_files(f)
        shutil.rmtree(ca_dir, ignore_errors=True)


def commit_latency_ms(container, table: str, synchronous: bool, seconds: int = 4) -> float:
    """Mean COMMIT latency (ms) of one pgbench client inserting random ids into ``table`` (column
    ``id``) of residents_registry at ``container``: waiting for the synchronous standby
    (synchronous_commit on) or not (local)."""
    import re

    script = f"\\set id random(1000000, 1000000000000)\nINSERT INTO {table} (id) VALUES (:id) ON CONFLICT DO NOTHING;\n"
    cmd = ["sh", "-c", f"printf '{script}' > /tmp/w.sql && PGOPTIONS='-c synchronous_commit="
                       f"{'on' if synchronous else 'local'}' pgbench -n -c 1 -T {seconds} -f /tmp/w.sql residents_registry"]
    rc, out = container.exec_run(cmd, user="postgres")
    text = out.decode(errors="replace")
    found = re.search(r"latency average = ([0-9.]+) ms", text)
    if rc != 0 or not found:
        raise AssertionError(f"pgbench at {container.name} failed (exit {rc}): {text[-1500:]}")
    return float(found.group(1))
