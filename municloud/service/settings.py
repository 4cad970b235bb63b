"""Validated service settings (pydantic-settings). Config precedence: environment variables,
then defaults here. Secrets are never env vars: `DB_PASSWORD_FILE`
/ `PLATFORM_SIGNING_KEY_FILE` name files (/run/secrets/...) read at start."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from municloud.db import DatabaseTarget

DEFAULT_SECRET_VALUES = frozenset({"", "changethis", "changeme", "password", "postgres", "secret"})


class KitSettings(BaseSettings):
    """What every process on the service kit is configured with: its name, its database, its
    platform keys, its log level; a default or missing database password outside development is
    refused. Business services (ServiceSettings) and the platform hub extend it."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "production"
    service_name: str
    database_host: str = "postgres"
    database_port: int = Field(5432, ge=1, le=65535)
    database_name: str | None = None  # default: the service name
    database_user: str | None = None  # default: the service name
    db_password_file: Path | None = None
    database_sslmode: Literal["disable", "require", "verify-full"] = "verify-full"
    database_sslrootcert: Path | None = None
    db_pool_min: int = Field(2, ge=1)
    db_pool_max: int = Field(10, ge=1, le=200)
    platform_signing_key_file: Path | None = None  # private Ed25519 key of this unit (secret)
    platform_keys_file: Path | None = None  # key registry YAML (public keys), for the inbox
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _secrets(self) -> "KitSettings":
        if self.environment != "development" and self.db_password in DEFAULT_SECRET_VALUES:
            raise ValueError(
                "DB_PASSWORD_FILE must name a file with a non-default password outside development"
            )
        return self

    @cached_property
    def db_password(self) -> str:
        return _read_secret(self.db_password_file)

    def identity(self) -> dict[str, str]:
        """What /healthz and /readyz say this process is."""
        return {"service": self.service_name}

    def database(self) -> DatabaseTarget:
        return DatabaseTarget(
            host=self.database_host,
            port=self.database_port,
            name=self.database_name or self.service_name,
            user=self.database_user or self.service_name,
            password=self.db_password,
            sslmode=self.database_sslmode,
            sslrootcert=self.database_sslrootcert,
        )


class ServiceSettings(KitSettings):
    """A municipality's business service (residents_registry, tax, nhi)."""

    service_name: Literal["residents_registry", "tax", "nhi"] = "residents_registry"
    lgcode: str
    token_public_key: str
    municipality_params_file: Path | None = None
    hub_url: str | None = None
    site: Literal["primary", "dr"] | None = None  # SITE: the site this container runs at (DR probe)
    outbox_relay: bool = True  # OUTBOX_RELAY=false: this replica leaves the outbox to others
    # Open data: a cell counting fewer residents (or households) than this is suppressed
    # (municloud.opendata.suppression; docs/opendata.md).
    opendata_min_cell: int = Field(3, ge=1, le=100)

    @field_validator("lgcode")
    @classmethod
    def _lgcode(cls, value: str) -> str:
        from municloud.ids import validate_lgcode

        return validate_lgcode(value)

    @field_validator("token_public_key")
    @classmethod
    def _public_key(cls, value: str) -> str:
        from municloud.auth import load_public_key

        value = value.replace("\\n", "\n").strip() + "\n"
        load_public_key(value)
        return value

    @field_validator("hub_url")
    @classmethod
    def _hub_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("HUB_URL must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _params_file(self) -> "ServiceSettings":
        if self.municipality_params_file is not None and not self.municipality_params_file.is_file():
            raise ValueError("MUNICIPALITY_PARAMS_FILE does not name a readable file")
        return self

    @property
    def platform_enabled(self) -> bool:
        return self.hub_url is not None

    def identity(self) -> dict[str, str]:
        return {"service": self.service_name, "lgcode": self.lgcode}


def _read_secret(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"secret file {path} is not readable ({type(exc).__name__})") from None
