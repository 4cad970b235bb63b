"""Each service image (built locally by ensure_image, never pulled) starts as user app, reads its
secrets from files, waits for and migrates its database over TLS, and reports healthy."""

import os
import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.integration

APP_UID = 10001


def _secret(directory, name: str, content: str):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(content)
    os.chown(path, APP_UID, APP_UID)
    os.chmod(path, 0o400)
    return path


@pytest.mark.parametrize("service", ["residents_registry", "tax", "nhi"])
def test_service_container_becomes_healthy_and_serves(harness, tmp_path, service):
    import docker

    from municloud_ops.images import ensure_image
    from municloud_ops.scratch.postgres import published_port, wait_healthy

    client = docker.from_env(timeout=120)
    image = ensure_image(service, client)
    pg = harness.pg
    secrets = tmp_path / "secrets"
    _secret(secrets, "db_password", pg.passwords[service])
    _secret(secrets, "ca.crt", pg.ca_file.read_text())
    secrets.chmod(0o755)
    name = f"mc-test-{service.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    container = client.containers.run(
        image, name=name, detach=True, network=pg.network.name,
        labels={"municloud.stack": "test", "municloud.site": "test", "municloud.lgcode": "053031",
                "municloud.component": service},
        volumes={str(secrets): {"bind": "/run/secrets", "mode": "ro"}},
        ports={"8000/tcp": ("127.0.0.1", None)},
        environment={"LGCODE": "053031", "DATABASE_HOST": pg.container.name,
                     "DB_PASSWORD_FILE": "/run/secrets/db_password",
                     "DATABASE_SSLROOTCERT": "/run/secrets/ca.crt",
                     "TOKEN_PUBLIC_KEY": harness.keys["053031"][1]})
    try:
        waited = wait_healthy(container, timeout=90)
        assert container.attrs["Config"]["User"] == "app"
        port = published_port(container, "8000/tcp")
        base = f"http://127.0.0.1:{port}"
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["service"] == service
        assert httpx.get(f"{base}/api/v1/outbox", timeout=5).status_code == 401
        r = httpx.get(f"{base}/api/v1/outbox", timeout=5,
                      headers=harness.token(service, "system_operation"))
        assert r.status_code == 200 and r.json() == [], r.text
        logs = container.logs().decode()
        assert "ready after" in logs and pg.passwords[service] not in logs
        print(f"{service} container healthy in {waited:.1f} s")
    finally:
        container.remove(force=True)
