"""Hub settings (pydantic-settings). Precedence: environment variables, then these defaults.
Secrets are files: DB_PASSWORD_FILE, PLATFORM_SIGNING_KEY_FILE (never env values)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from municloud.db import DatabaseTarget
from municloud.platform.signing import KeyRegistry, SigningKey, WatchedKeyRegistry
from services.platform_hub.routing import DEFAULT_ROUTES_FILE, WatchedRoutingTable

DEFAULT_SECRETS = frozenset({"", "changethis", "changeme", "password", "postgres", "secret"})


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "production"
    stack: str = "dev"
    site: str = "primary"
    database_host: str = "hub-postgres"
    database_port: int = Field(5432, ge=1, le=65535)
    database_name: str = "platform_hub"
    database_user: str = "platform_hub"
    db_password_file: Path | None = None
    database_sslmode: Literal["disable", "require", "verify-full"] = "verify-full"
    database_sslrootcert: Path | None = None
    db_pool_max: int = Field(12, ge=2, le=100)
    platform_signing_key_file: Path  # the hub's own Ed25519 key (secret)
    platform_keys_file: Path  # key registry of every unit (public)
    routes_file: Path = DEFAULT_ROUTES_FILE
    # Inbox of a subscriber: explicit entries in INBOX_URLS_FILE ("<lgcode>/<unit>": url) win,
    # else the template, with the Docker naming convention of the project.
    inbox_urls_file: Path | None = None
    inbox_url_template: str = "http://mc-{stack}-{site}-{lgcode}-{unit_dashed}:8000/api/v1/platform/inbox"
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

    @model_validator(mode="after")
    def _secrets(self) -> "HubSettings":
        if self.environment != "development" and self.db_password in DEFAULT_SECRETS:
            raise ValueError("DB_PASSWORD_FILE must name a file with a non-default password outside development")
        return self

    @cached_property
    def db_password(self) -> str:
        if self.db_password_file is None:
            return ""
        try:
            return self.db_password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"DB_PASSWORD_FILE {self.db_password_file} is not readable ({type(exc).__name__})") from None

    def database(self) -> DatabaseTarget:
        return DatabaseTarget(
            host=self.database_host, port=self.database_port, name=self.database_name,
            user=self.database_user, password=self.db_password,
            sslmode=self.database_sslmode, sslrootcert=self.database_sslrootcert,
        )

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
        return overrides.get((lgcode, unit)) or self.inbox_url_template.format(
            stack=self.stack, site=self.site, lgcode=lgcode, unit=unit, unit_dashed=unit.replace("_", "-")
        )
