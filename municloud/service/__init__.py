"""The shared service kit: the same skeleton for every municloud business service.

settings (validated, secrets from *_FILE), typed dependencies, JSON errors naming the field,
a logging filter that masks 個人番号, the app factory with its lifespan (pre-start, pool,
migrations, access-log appender) and the health routes.

The two names below are imported on first use, not with the package: the deploy's reload check
(``python -m municloud.service.hot_files``, run in every affected container when a member joins
or leaves) needs none of the web stack, and importing it cost that check about 0.2 s of CPU per
container.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from municloud.service.app import create_service_app
    from municloud.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_service_app"]


def __getattr__(name: str) -> Any:
    if name == "create_service_app":
        from municloud.service.app import create_service_app

        return create_service_app
    if name == "ServiceSettings":
        from municloud.service.settings import ServiceSettings

        return ServiceSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
