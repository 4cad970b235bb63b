"""Hub settings: the service kit's settings (municloud/service/settings.py: validated, secrets
from files, a default database password refused outside development) plus the hub's own.
Precedence: environment variables, then these defaults. Secrets are files: DB_PASSWORD_FILE,
PLATFORM_SIGNING_KEY_FILE (never env values)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field

from municloud.naming import service_inbox_url
from municloud.platform.signing import KeyRegistry, SigningKey, WatchedKeyRegistry
from municloud.service.settings import KitSettings
from services.platform_hub.routing import DEFAULT_ROUTES_FILE, WatchedRoutingTable


class HubSettings(KitSettings):
    service_name: Literal["platform_hub"] = "platform_hub"
    stack: str = "dev"
    site: str = "primary"
    database_host: str = "hub-postgres"
    db_pool_max: int = Field(12, ge=2, le=100)
    platform_signing_key_file: Path  # the hub's own Ed25519 key (secret)
    platform_keys_file: Path  # key registry of every unit (public)
    routes_file: Path = DEFAULT_ROUTES_FILE
    # Inbox of a subscriber: explicit entries in INBOX_URLS_FILE ("<lgcode>/<unit>": url) win,
    # else INBOX_URL_TEMPLATE ({stack}, {site}, {lgcode}, {unit}; a stack points it at its
    # gateway), else the service's container by the project's Docker naming (municloud/naming.py).
    inbox_urls_file: Path | None = None
    inbox_url_template: str | None = None
    max_message_bytes: int = Field(1024 * 1024, ge=1024)
    delivery_workers: int = Field(4, ge=1, le=64)
    delivery_batch: int = Field(16, ge=1, le=500)
    delivery_max_attempts: int = Field(8, ge=1, le=100)
    delivery_backoff_base_s: float = Field(0.5, gt=0)
    delivery_backoff_max_s: float = Field(60.0, gt=0)
    # httpx's pool scans every connection per request: a small pool is much cheaper in CPU.
    delivery_connections: int = Field(16, ge=1, le=200)
    delivery_timeout_s: float = Field(5.0, gt=0)
    delivery_poll_s: float = Field(0.5, gt=0)

    def signing_key(self) -> SigningKey:
        return SigningKey.load(self.platform_signing_key_file)

    def key_registry(self) -> KeyRegistry:
        """Re-read when the file changes (a member joining or leaving): municloud.service.hot_files."""
        return WatchedKeyRegistry(self.platform_keys_file)

    def routing_table(self) -> WatchedRoutingTable:
        """Re-read when the file changes (a member joining or leaving): services/platform_hub/hot_files.py."""
        return WatchedRoutingTable(self.routes_file)

    def inbox_urls(self) -> dict[tuple[str, str], str]:
        if self.inbox_urls_file is None:
            return {}
        data = yaml.safe_load(self.inbox_urls_file.read_text(encoding="utf-8")) or {}
        return {tuple(key.split("/", 1)): url for key, url in data.items()}

    def inbox_url(self, lgcode: str, unit: str, overrides: dict[tuple[str, str], str]) -> str:
        if (lgcode, unit) in overrides:
            return overrides[(lgcode, unit)]
        if self.inbox_url_template:
            return self.inbox_url_template.format(stack=self.stack, site=self.site, lgcode=lgcode, unit=unit)
        return service_inbox_url(self.stack, self.site, lgcode, unit)
