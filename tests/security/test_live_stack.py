"""Attacks on a whole consortium stack as deployed: a throwaway stack of the dev config (own
Pulumi backend, own network range and frontdoor port, so it never touches `dev`) brought up
through the Automation API for this module, then destroyed.

- secrets: no password or private key in plain text in `pulumi stack export`, in any
  container's env / labels / inspect data, or in any container's logs (the known plaintext
  values are read from the containers' secret files and the stack's secret outputs);
- hardening (testinfra docker:// backend): every process non-root, all capabilities dropped,
  no-new-privileges, read-only root filesystem for every stateless container;
- network: A's service containers cannot open B's database, B's services or the hub's database.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess

import pytest

from secret_scan import find_secrets
from security_support import ORDERED_PAIRS, TENANTS

pytestmark = [pytest.mark.live, pytest.mark.security, pytest.mark.stack]

SERVICES_DASHED = ("residents-registry", "tax", "nhi")
PER_TENANT = ("postgres", *SERVICES_DASHED)
SHARED = ("primary-gateway", "dr-gateway", "primary-hub", "primary-hub-postgres", "frontdoor")
CONTAINERS = [f"primary-{lg}-{c}" for lg in TENANTS for c in PER_TENANT] + list(SHARED)
STATEFUL = {f"primary-{lg}-postgres" for lg in TENANTS} | {"primary-hub-postgres"}


class Live:
    def __init__(self, name: str, stack, client, outputs: dict, export: bytes) -> None:
        self.name, self.stack, self.client, self.outputs, self.export = name, stack, client, outputs, export
        self.known: dict[str, bytes] = {}

    def leaked_into(self, data: bytes) -> list[str]:
        """Known secrets found in `data`, raw or JSON-escaped (PEM newlines as \\n)."""
        return [what for what, value in self.known.items()
                if value in data or json.dumps(value.decode())[1:-1].encode() in data]

    def container(self, suffix: str):
        return self.client.containers.get(f"mc-{self.name}-{suffix}")

    def read(self, suffix: str, path: str, user: str) -> bytes:
        rc, out = self.container(suffix).exec_run(["cat", path], user=user)
        assert rc == 0, f"{suffix}: cannot read {path}: {out[:200]!r}"
        return out.strip()


def _collect_known_secrets(live: Live) -> None:
    for lg, pem in live.outputs["token_private_keys"].value.items():
        live.known[f"token key {lg}"] = pem.strip().encode()
    for lg in TENANTS:
        pg = f"primary-{lg}-postgres"
        for role in ("postgres", "replicator", "residents_registry", "tax", "nhi"):
            live.known[f"{lg} {role} password"] = live.read(pg, f"/run/secrets/postgres/{role}.password", "postgres")
        live.known[f"{lg} postgres TLS key"] = live.read(pg, "/run/secrets/postgres-tls/server.key", "postgres")
        for service in SERVICES_DASHED:
            rc, out = live.container(f"primary-{lg}-{service}").exec_run(
                ["sh", "-c", "cat /run/secrets/platform/*.key"], user="10001")
            if rc == 0 and out.strip():
                live.known[f"{lg} {service} signing key"] = out.strip()
    live.known["hub db password"] = live.read("primary-hub-postgres", "/run/secrets/postgres/platform_hub.password",
                                              "postgres")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    import docker

    from stacks.automation import STATE_DIR, ScratchStack, free_network_base, free_port, stack_config

    if shutil.which("pulumi") is None:  # plain pytest without env.sh: the pinned CLI lives here
        os.environ["PATH"] = f"{STATE_DIR / 'bin'}:{os.environ['PATH']}"
    name = f"sec{secrets.token_hex(2)}"
    base = stack_config("dev", network_base=free_network_base(), frontdoor_port=free_port(), health_timeout_s=150)
    scratch = ScratchStack.create(name, base, backend_dir=tmp_path_factory.mktemp("pulumi-backend"))
    stack = scratch.stack()
    client = docker.from_env()
    try:
        stack.up(on_output=lambda _line: None)
        # The operator's command, without --show-secrets (Automation API's export_stack shows them).
        export = subprocess.run(["pulumi", "stack", "export", "--stack", name], cwd=scratch.work_dir,
                                env={**os.environ, **scratch.env}, capture_output=True, check=True).stdout
        target = Live(name, stack, client, stack.outputs(), export)
        _collect_known_secrets(target)
        yield target
    finally:
        try:
            stack.destroy(on_output=lambda _line: None)
        finally:
            label = {"label": f"municloud.stack={name}"}
            for c in client.containers.list(all=True, filters=label):
                c.remove(force=True, v=True)
            for n in client.networks.list(filters=label):
                n.remove()
            shutil.rmtree(scratch.work_dir, ignore_errors=True)


# --- secrets ------------------------------------------------------------------------------------

@pytest.mark.attack("secrets")
def test_stack_export_holds_no_plaintext_secret(live):
    leaked = live.leaked_into(live.export)
    assert not leaked, f"plaintext in `pulumi stack export`: {leaked}"
    assert b'"ciphertext"' in live.export  # secrets are there, encrypted
    assert not [k for k, _ in find_secrets(live.export.replace(b"\\n", b"\n")) if k == "pem-private-key"]


@pytest.mark.twin("secrets")
def test_twin_secrets_are_known_and_decryptable(live):
    """The scans look for real values: the stack's own secret outputs decrypt to them, and the
    same search finds them in the export taken with --show-secrets."""
    assert len(live.known) >= 3 * 7 + 1
    shown = json.dumps(live.stack.export_stack().deployment).encode()
    assert len(live.leaked_into(shown)) >= 3 * 5
    assert live.outputs["token_private_keys"].secret
    assert find_secrets(json.dumps(live.outputs["token_private_keys"].value).replace("\\n", "\n").encode())


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("suffix", CONTAINERS)
def test_no_secret_in_container_env_labels_inspect_or_logs(live, suffix):
    container = live.container(suffix)
    container.reload()
    for where, data in (("inspect (env, labels, command)", json.dumps(container.attrs).encode()),
                        ("logs", container.logs())):
        leaked = live.leaked_into(data)
        assert not leaked, f"{suffix}: {leaked} in {where}"


# --- hardening ----------------------------------------------------------------------------------

@pytest.mark.attack("secrets")
@pytest.mark.parametrize("suffix", CONTAINERS)
def test_container_is_non_root_without_capabilities(live, suffix):
    import testinfra

    container = live.container(suffix)
    host = testinfra.get_host(f"docker://{container.name}")
    status = host.file("/proc/1/status").content_string
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    uids = fields["Uid"].split()
    assert "0" not in uids, f"{suffix}: PID 1 runs with uid {uids}"
    assert int(fields["CapEff"].strip(), 16) == 0, f"{suffix}: effective capabilities {fields['CapEff'].strip()}"
    assert host.check_output("id -u") != "0"
    config = container.attrs["HostConfig"]
    assert "ALL" in (config.get("CapDrop") or []) and not config.get("CapAdd")
    assert any("no-new-privileges" in opt for opt in config.get("SecurityOpt") or [])
    if suffix not in STATEFUL:
        assert config.get("ReadonlyRootfs"), f"{suffix}: root filesystem is writable"


# --- network --------------------------------------------------------------------------------------

def _ip(live: Live, suffix: str, network_part: str) -> str:
    container = live.container(suffix)
    container.reload()
    nets = container.attrs["NetworkSettings"]["Networks"]
    return next(v["IPAddress"] for k, v in nets.items() if k.endswith(network_part))


def _connect_from(live: Live, suffix: str, host: str, port: int) -> int:
    code = (f"import socket,sys\ntry:\n socket.create_connection(({host!r},{port}),3).close()\n"
            f"except OSError:\n sys.exit(1)")
    rc, _ = live.container(suffix).exec_run(["/opt/venv/bin/python", "-c", code])
    return rc


TARGETS = [("postgres", 5432), ("residents-registry", 8000), ("tax", 8000), ("nhi", 8000)]


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("target,port", TARGETS)
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_service_container_of_a_cannot_reach_b(live, a, b, target, port):
    victim_ip = _ip(live, f"primary-{b}-{target}", f"primary-{b}")
    assert _connect_from(live, f"primary-{a}-residents-registry", victim_ip, port) != 0


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("lgcode", TENANTS)
def test_service_container_cannot_reach_the_hub_database(live, lgcode):
    hub_db = _ip(live, "primary-hub-postgres", "hub-net")
    assert _connect_from(live, f"primary-{lgcode}-nhi", hub_db, 5432) != 0


@pytest.mark.twin("cross-tenant")
@pytest.mark.parametrize("lgcode", TENANTS)
def test_twin_service_container_reaches_its_own_database(live, lgcode):
    own = _ip(live, f"primary-{lgcode}-postgres", f"primary-{lgcode}")
    assert _connect_from(live, f"primary-{lgcode}-residents-registry", own, 5432) == 0
