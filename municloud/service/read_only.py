"""Read-only standby mode of the service kit (warm DR services, ウォームスタンバイ).

A service whose database is a streaming standby (``pg_is_in_recovery()``) starts read-only: no
migrations (impossible on a standby), no outbox relay or background jobs (they write), every
write refused with 503 ``read_only``. Reads that must leave a row in the access log (every read
of a resident's record) are refused too: the log cannot be committed on a standby, and personal
data is never served unlogged. ``/readyz`` answers ready with ``read_only: true``. After the
failover promotes the database, ``municloud dr failover`` restarts the container and it comes
up read-write (migrations then apply). Runbook: docs/dr.md.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from municloud.service.errors import ApiError, error_body

log = logging.getLogger(__name__)

READ_ONLY_MESSAGE = "read-only standby site: writes are refused until failover"
UNLOGGED_READ_MESSAGE = ("read-only standby site: the access log cannot be written here, so personal "
                         "data is not served until failover")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyGuard:
    """ASGI middleware: 503 for every unsafe method while ``app.state.read_only`` is set.

    Plain ASGI (not BaseHTTPMiddleware): one attribute check on the benchmarked read path."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if (scope["type"] == "http" and scope["method"] not in SAFE_METHODS
                and getattr(scope["app"].state, "read_only", False)):
            response = JSONResponse(error_body("read_only", READ_ONLY_MESSAGE, None), 503,
                                    headers={"Retry-After": "30"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class StandbyAccessLog:
    """Stands in for municloud.audit.AuditLog on a standby: every access-log append is refused,
    so the handler answers 503 before any personal data leaves."""

    async def record(self, entry) -> None:
        await self.record_many([entry])

    async def record_many(self, entries) -> None:
        raise ApiError(503, "read_only", UNLOGGED_READ_MESSAGE)

    async def stop(self) -> None:
        return None


@contextlib.asynccontextmanager
async def standby_lifespan(app: FastAPI, settings, load_params, load_platform_keys) -> AsyncIterator[None]:
    """The lifespan of a service whose database is in recovery: what reads need, nothing that writes."""
    log.info("database of %s %s is a standby (in recovery): read-only, migrations skipped",
             settings.service_name, settings.lgcode)
    app.state.params = load_params(settings)
    load_platform_keys(app)
    app.state.audit = StandbyAccessLog()
    try:
        yield
    finally:
        await app.state.pool.close()
