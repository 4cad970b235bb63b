"""The platform hub as an attack target: the real app (services.platform_hub.app) served by
uvicorn on 127.0.0.1 against a throwaway PostgreSQL container (municloud_ops.scratch.postgres),
with one signing key per (municipality, unit) in its key registry, as deployed."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from municloud.platform import KeyRegistry, SigningKey
from security_support import SERVICES, TENANTS
from support.asgi import serve

UNITS = (*SERVICES,)


@dataclass
class HubTarget:
    url: str
    client: httpx.Client
    keys: dict[tuple[str, str], SigningKey]
    pg: object
    stored: dict[str, int] = field(default_factory=dict)

    def post(self, data: bytes, **headers) -> httpx.Response:
        return self.client.post(f"{self.url}/api/v1/messages", content=data,
                                headers={"content-type": "application/xml", **headers})

    def key(self, lgcode: str, unit: str) -> SigningKey:
        return self.keys[(lgcode, unit)]

    def counts(self) -> tuple[int, int, int]:
        """(messages, deliveries, message_log) rows: what a refused message must not change."""
        out = self.pg.exec_sql("SELECT (SELECT count(*) FROM messages) || ',' || "
                               "(SELECT count(*) FROM deliveries) || ',' || "
                               "(SELECT count(*) FROM message_log)", database="platform_hub")
        return tuple(int(n) for n in out.split(","))


@contextlib.contextmanager
def hub_target() -> Iterator[HubTarget]:
    from municloud_ops.scratch.postgres import postgres_container
    from services.platform_hub.app import create_app
    from services.platform_hub.settings import HubSettings

    with postgres_container(("platform_hub",)) as pg, tempfile.TemporaryDirectory(prefix="mc-sec-hub-") as tmp:
        root = Path(tmp)
        keys = {(lg, unit): SigningKey.generate(f"{unit}-{lg}") for lg in TENANTS for unit in UNITS}
        hub_key = SigningKey.generate("platform_hub")
        registry = KeyRegistry()
        for (lg, unit), key in keys.items():
            registry.add_signing_key(key, lgcode=lg, unit=unit)
        registry.add_signing_key(hub_key, lgcode="*", unit="platform_hub")
        import yaml

        (root / "keys.yaml").write_text(yaml.safe_dump(registry.to_mapping()), encoding="utf-8")
        (root / "hub.key").write_bytes(hub_key.private_pem())
        (root / "db_password").write_text(pg.passwords["platform_hub"], encoding="utf-8")
        for path in root.iterdir():
            path.chmod(0o400)
        settings = HubSettings(
            environment="test", database_host=pg.host, database_port=pg.port,
            db_password_file=root / "db_password", database_sslrootcert=pg.ca_file,
            platform_signing_key_file=root / "hub.key", platform_keys_file=root / "keys.yaml",
            # Deliveries go nowhere reachable: the hub keeps them pending; we only count rows.
            inbox_url_template="http://127.0.0.1:9/{lgcode}/{unit}", delivery_poll_s=30.0,
            delivery_timeout_s=0.2,
        )
        with serve(create_app(settings), name="hub-under-attack", startup_timeout_s=60) as url, \
                httpx.Client(timeout=10.0) as client:
            yield HubTarget(url, client, keys, pg)
