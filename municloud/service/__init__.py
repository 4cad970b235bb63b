"""The shared service kit: the same skeleton for every municloud business service.

settings (validated, secrets from *_FILE), typed dependencies, JSON errors naming the field,
a logging filter that masks 個人番号, the app factory with its lifespan (pre-start, pool,
migrations, access-log appender) and the health routes.
"""

from municloud.service.app import create_service_app
from municloud.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_service_app"]
