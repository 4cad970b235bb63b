"""The platform_hub image (ensure_image) runs as user app, reads its secrets from files,
migrates its database, accepts a signed message, and keeps it across `docker kill` + start."""

import os
import tempfile
import time
from pathlib import Path

import httpx
import pytest
import yaml

from municloud.platform import KeyRegistry, SigningKey, build_message, sign_message
from municloud.platform.samples import sample_move_notice

pytestmark = pytest.mark.integration
APP_UID = 10001


def _secret(directory: Path, name: str, data: bytes) -> None:
    path = directory / name
    path.write_bytes(data)
    os.chown(path, APP_UID, APP_UID)
    path.chmod(0o400)


def _wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"hub container not ready at {url}")


def test_hub_container_survives_docker_kill():
    import docker

    from municloud_ops.images import ensure_image
    from municloud_ops.scratch.postgres import postgres_container

    client = docker.from_env()
    image = ensure_image("platform_hub", client)
    with postgres_container(("platform_hub",)) as pg, tempfile.TemporaryDirectory(prefix="mc-hub-img-") as tmp:
        secrets = Path(tmp) / "secrets"
        secrets.mkdir()
        os.chown(secrets, APP_UID, APP_UID)
        sender = SigningKey.generate("053031-residents_registry-1")
        hub_key = SigningKey.generate("platform_hub-1")
        registry = KeyRegistry()
        registry.add_signing_key(sender, lgcode="053031", unit="residents_registry")
        registry.add_signing_key(hub_key, lgcode="*", unit="platform_hub")
        _secret(secrets, "platform_hub-1.key", hub_key.private_pem())
        _secret(secrets, "db_password", pg.passwords["platform_hub"].encode())
        _secret(secrets, "ca.crt", pg.ca_file.read_bytes())
        _secret(secrets, "keys.yaml", yaml.safe_dump(registry.to_mapping()).encode())
        labels = {"municloud.stack": "test", "municloud.site": "test", "municloud.lgcode": "shared",
                  "municloud.component": "hub"}
        container = client.containers.run(
            image, detach=True, name=f"mc-test-hub-{os.getpid()}", labels=labels, network=pg.network.name,
            ports={"8000/tcp": ("127.0.0.1", None)},
            volumes={str(secrets): {"bind": "/run/secrets/hub", "mode": "ro"}},
            environment={
                "ENVIRONMENT": "test", "DATABASE_HOST": pg.container.name,
                "DB_PASSWORD_FILE": "/run/secrets/hub/db_password",
                "DATABASE_SSLROOTCERT": "/run/secrets/hub/ca.crt",
                "PLATFORM_SIGNING_KEY_FILE": "/run/secrets/hub/platform_hub-1.key",
                "PLATFORM_KEYS_FILE": "/run/secrets/hub/keys.yaml",
                "DELIVERY_POLL_S": "30",
            },
        )
        try:
            container.reload()
            url = f"http://127.0.0.1:{container.attrs['NetworkSettings']['Ports']['8000/tcp'][0]['HostPort']}"
            _wait_ready(url)
            message = build_message(sample_move_notice("053031", 7), sender_unit="residents_registry",
                                    sender_lgcode="053031", receiver_unit="platform_hub", receiver_lgcode="053031")
            response = httpx.post(f"{url}/api/v1/messages", content=sign_message(message, sender),
                                  headers={"Content-Type": "application/xml"}, timeout=10)
            assert response.status_code == 202, response.text
            container.kill()
            container.start()
            container.reload()
            url = f"http://127.0.0.1:{container.attrs['NetworkSettings']['Ports']['8000/tcp'][0]['HostPort']}"
            _wait_ready(url)
            rows = httpx.get(f"{url}/api/v1/messages/{message.header.message_id}/deliveries").json()["deliveries"]
            assert sorted(r["subscriber_unit"] for r in rows) == ["nhi", "tax"]
            assert httpx.get(f"{url}/api/v1/log/verify").json()["ok"]
            assert container.exec_run("id -u").output.decode().strip() == str(APP_UID)
            # the image's own health check (Docker runs it): passes on the live hub, fails on a
            # path that does not answer 200 (its twin)
            check = container.attrs["Config"]["Healthcheck"]["Test"]
            assert check[0] == "CMD" and container.exec_run(check[1:]).exit_code == 0
            assert container.exec_run([check[1], "/no-such-endpoint"]).exit_code == 1
            logs = container.logs().decode(errors="replace")
            assert pg.passwords["platform_hub"] not in logs
        finally:
            container.remove(force=True)
