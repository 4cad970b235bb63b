"""Secrets stay secret: none in the git repository, in any image (filesystem, history, config
env), or in a running container's environment, labels, inspect data or logs; images and
database processes run as non-root. Each scanner has a twin that finds a planted secret, so a
scanner that can never fire shows up."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import secrets

import pytest

from secret_scan import find_secrets, scan_container_filesystem

pytestmark = [pytest.mark.security, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
# (path, value): why it is not a secret.
ALLOWED = {
    ("tests/conformance/test_kit.py", b"vendor-test-token"): "placeholder bearer token of the kit's fake vendor",
    ("tests/conformance/test_mutants.py", b"vendor-test-token"): "the same placeholder, for the mutant vendors",
    ("tests/integration/toolchain/test_toolchain.py", b"test-passphrase"): "throwaway stack of a toolchain test",
    # Reported as VULN H-6 and checked by its own test below, so this scan still finds anything new.
    ("stacks/automation.py", b"municloud-dev-only-passphrase"): "documented development passphrase (H-6)",
}
DEV_PASSPHRASE = b"municloud-dev-only-passphrase"
IMAGES = ["base", "python", "postgres", "nginx", "haproxy", "residents_registry", "tax", "nhi", "platform_hub"]
NON_ROOT_IMAGES = [name for name in IMAGES if name != "base"]


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / name.decode() for name in out.split(b"\0") if name]


# --- the git repository -------------------------------------------------------------------------

@pytest.mark.attack("secrets")
def test_no_private_key_or_password_in_tracked_files():
    hits = []
    for path in _tracked_files():
        if not path.is_file():
            continue
        rel = str(path.relative_to(REPO))
        for kind, excerpt in find_secrets(path.read_bytes()):
            if not any(rel == p and value in excerpt for p, value in ALLOWED):
                hits.append((rel, kind, excerpt))
    assert not hits, f"secrets in tracked files: {hits[:10]}"


# A consortium's own passphrase: generated, so no literal passphrase sits in the repository.
OWN = secrets.token_hex(16)


@pytest.mark.attack("secrets")
def test_production_stack_refuses_the_committed_dev_passphrase():
    """H-6: the documented development passphrase (in this repository by design, for dev and test
    stacks) must never encrypt a production consortium's secrets: the program refuses it."""
    import copy

    import yaml

    from stacks.config import ConfigError, check_secrets_provider, load

    raw = {k.split(":", 1)[1]: v for k, v in
           yaml.safe_load((REPO / "Pulumi.akita.yaml").read_text(encoding="utf-8"))["config"].items()}
    akita = load("akita", copy.deepcopy(raw))
    assert akita.environment == "production"
    with pytest.raises(ConfigError, match="passphrase"):
        check_secrets_provider(akita, {"PULUMI_CONFIG_PASSPHRASE": DEV_PASSPHRASE.decode()})
    check_secrets_provider(akita, {"PULUMI_CONFIG_PASSPHRASE": OWN})  # allowed twin


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("path", [".state/pulumi-state/x.json", ".state/wheelhouse/x", ".state/logs/x.log",
                                  ".state/rendered/x/secrets/db_password"])
def test_state_and_secret_directories_are_git_ignored(path):
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO)
    assert result.returncode == 0, f"{path} is not ignored by git"


@pytest.mark.twin("secrets")
def test_twin_scanner_finds_planted_secrets():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # Assembled at run time so that this file itself holds no literal password for the repo scan.
    planted = pem + b"\ndb_" + b'password = "' + b"s3cr3t-Value-9" + b'"\n' + b"repo1-cipher" + b"-pass=abc\n"
    kinds = {kind for kind, _ in find_secrets(planted)}
    assert kinds == {"pem-private-key", "literal-password", "cipher-pass"}
    assert find_secrets(b"#repo1-cipher-pass=...\n-----BEGIN PRIVATE KEY-----\n") == []


# --- images -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def docker_client():
    import docker

    return docker.from_env(timeout=300)


@pytest.fixture(scope="module")
def image_refs(docker_client) -> dict[str, str]:
    from municloud_ops.images import ensure_image

    return {name: ensure_image(name, docker_client) for name in IMAGES}


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("name", IMAGES)
def test_no_secret_in_image_filesystem(docker_client, image_refs, name):
    container = docker_client.containers.create(image_refs[name], entrypoint=["/bin/true"])
    try:
        scanned, hits = scan_container_filesystem(container)
    finally:
        container.remove(force=True)
    assert scanned > 100
    assert not hits, f"{name}: {hits[:10]}"


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("name", IMAGES)
def test_no_secret_in_image_history_or_config(docker_client, image_refs, name):
    image = docker_client.images.get(image_refs[name])
    history = "\n".join(layer.get("CreatedBy", "") for layer in image.history()).encode()
    assert not find_secrets(history), f"{name}: secret in a build step"
    config = image.attrs["Config"]
    env_names = [entry.split("=", 1)[0].upper() for entry in config.get("Env") or []]
    leaking = [n for n in env_names if any(w in n for w in ("PASSWORD", "SECRET", "PASSPHRASE", "PRIVATE", "TOKEN"))
               and not n.endswith("_FILE")]
    assert not leaking, f"{name}: secret-looking env vars baked in: {leaking}"
    labels = json.dumps(config.get("Labels") or {}).encode()
    assert not find_secrets(labels)


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("name", NON_ROOT_IMAGES)
def test_image_runs_as_non_root(docker_client, image_refs, name):
    user = docker_client.images.get(image_refs[name]).attrs["Config"].get("User") or "root"
    uid = docker_client.containers.run(image_refs[name], entrypoint=["id", "-u"], remove=True).decode().strip()
    assert user not in ("root", "0", "0:0") and uid != "0", f"{name} runs as {user} (uid {uid})"


@pytest.mark.twin("secrets")
def test_twin_filesystem_scanner_finds_a_planted_key(docker_client, image_refs):
    import io
    import tarfile

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("planted.key")
        info.size = len(pem)
        archive.addfile(info, io.BytesIO(pem))
    container = docker_client.containers.create(image_refs["base"], entrypoint=["/bin/true"])
    try:
        container.put_archive("/tmp", buffer.getvalue())
        _, hits = scan_container_filesystem(container)
    finally:
        container.remove(force=True)
    assert ("tmp/planted.key", "pem-private-key") in {(path, kind) for path, kind, _ in hits}


# --- running containers (the tenants' PostgreSQL servers) ----------------------------------------

@pytest.mark.attack("secrets")
@pytest.mark.parametrize("which", ["A", "B"])
def test_no_password_in_container_env_labels_inspect_or_logs(tenants, which):
    tenant = tenants[0] if which == "A" else tenants[1]
    container = tenant.pg.container
    container.reload()
    known = [pw.encode() for pw in tenant.pg.passwords.values()]
    inspect = json.dumps(container.attrs).encode()
    logs = container.logs()
    assert not find_secrets(inspect, known), "a password is in the container's env/labels/config"
    assert not find_secrets(logs, known), "a password is in the container's logs"


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("which", ["A", "B"])
def test_database_processes_run_as_non_root(tenants, which):
    tenant = tenants[0] if which == "A" else tenants[1]
    rc, out = tenant.pg.container.exec_run(["ps", "-eo", "uid=,comm="])
    if rc != 0:  # no procps in the image: read /proc directly
        rc, out = tenant.pg.container.exec_run(
            ["bash", "-c", "for p in /proc/[0-9]*; do echo \"$(stat -c %u $p) $(cat $p/comm)\"; done"])
    assert rc == 0, out
    processes = [line.split(None, 1) for line in out.decode().splitlines() if line.strip()]
    assert processes and all(uid != "0" for uid, _ in processes), processes


@pytest.mark.attack("secrets")
@pytest.mark.parametrize("which", ["A", "B"])
def test_secret_files_are_readable_by_the_server_user_only(tenants, which):
    tenant = tenants[0] if which == "A" else tenants[1]
    rc, out = tenant.pg.container.exec_run(["stat", "-c", "%a %u %n", "/run/secrets/postgres/residents_registry.password"])
    assert rc == 0, out
    mode, uid, _ = out.decode().split()
    assert mode == "400" and uid == "999", out


@pytest.mark.twin("secrets")
def test_twin_password_is_in_the_secret_file(tenants):
    """The scans above look for the right values: the password is where it belongs."""
    a = tenants[0]
    rc, out = a.pg.container.exec_run(["cat", "/run/secrets/postgres/residents_registry.password"], user="postgres")
    assert rc == 0 and out.decode().strip() == a.pg.passwords["residents_registry"]
    assert find_secrets(out, [a.pg.passwords["residents_registry"].encode()])
