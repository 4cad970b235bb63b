"""The FastAPI app factories of the kit: `create_kit_app` (the skeleton every process shares,
the platform hub included) and `create_service_app` (a municipality's business service on it).

Nothing is created at import time; the lifespan waits for the database (retrying pre-start),
opens the asyncpg pool, applies the migrations under an advisory lock, opens the process's
resources (a business service: access-log appender, parameters, inbox keys) and starts its
background tasks (e.g. the outbox relay, the hub's delivery worker)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import asyncpg
from fastapi import APIRouter, FastAPI

from municloud import db
from municloud.audit import (APPENDER_APPLICATION_NAME, AuditLog,
                             check_schema as check_audit_schema)
from municloud.auth import TokenCache, load_public_key
from municloud.platform.consumer import ensure_inbox
from municloud.service import audit_api, dr_probe_api, health, hot_files
from municloud.service.contract import install_contract
from municloud.service.docs import install_docs
from municloud.service.errors import install_error_handlers
from municloud.service.strict_json import StrictJsonMiddleware
from municloud.service.inbox import load_platform_keys
from municloud.service.outbox import outbox_relay
from municloud.service.read_only import ReadOnlyGuard, standby_lifespan
from municloud.service.logging import configure_logging
from municloud.service.settings import KitSettings, ServiceSettings

log = logging.getLogger(__name__)

KIT_MIGRATIONS = Path(__file__).with_name("migrations")

BackgroundTask = Callable[[FastAPI], Awaitable[None]]
#: an async context manager around the app's running life (opened after the migrations)
Hook = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]


def load_params(settings: ServiceSettings):
    """MunicipalityParams from MUNICIPALITY_PARAMS_FILE, else the defaults for this lgcode."""
    from municloud import params as params_module

    if settings.municipality_params_file is not None:
        return params_module.MunicipalityParams.model_validate_json(
            settings.municipality_params_file.read_text(encoding="utf-8"))
    if settings.lgcode in params_module.KNOWN_MUNICIPALITIES:
        return params_module.default_municipality_params(settings.lgcode)
    return None  # endpoints needing parameters answer 503 until a file is configured


def create_kit_app(
    settings: KitSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    migrations: Sequence[tuple[Path, str]],
    resources: Hook | None = None,
    standby: Hook | None = None,
    background: Sequence[BackgroundTask] = (),
    hot: Mapping[Path, Callable[[Path], object]] = hot_files.HOT_FILES,
    middleware: Sequence[type] = (),
    internal_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The skeleton of every process on the kit (business services and the platform hub).

    Lifespan: logging with the 個人番号 mask, wait for the database, the pool, then either the
    ``standby`` lifespan (database in recovery; only when the caller has one) or the migrations
    (``(directory, unit)`` pairs, under an advisory lock), the caller's ``resources`` and its
    ``background`` tasks (cancelled and awaited at shutdown, before the resources close).
    App: JSON error bodies, /healthz and /readyz, ``routers`` under /api/v1, the start-time
    fingerprint of the container's files for the deploy's reload check (``hot``: the files the
    process re-reads itself)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        hot_files.record_start(hot=app.state.hot_files)
        target = settings.database()
        log.info(await db.wait_for_database(target))
        app.state.pool = await db.create_pool(target, settings.db_pool_min, settings.db_pool_max)
        if standby is not None:
            async with app.state.pool.acquire() as conn:
                app.state.read_only = await db.in_recovery(conn)
            if app.state.read_only:
                async with standby(app):
                    yield
                return
        try:
            async with app.state.pool.acquire() as conn:
                for directory, unit in migrations:
                    log.info(await db.apply_migrations(conn, directory, unit))
            async with resources(app) if resources else contextlib.nullcontext():
                tasks = [asyncio.create_task(job(app), name=getattr(job, "__name__", "job"))
                         for job in background]
                try:
                    yield
                finally:
                    for task in tasks:
                        task.cancel()
                    for task in tasks:
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await task
        finally:
            await app.state.pool.close()

    # No OpenTelemetry: the My Number segment has no collector, and FastAPI's per-request
    # provider look-ups cost measurable CPU on the benchmarked read path.
    app = FastAPI(title=title, version="1.0.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    install_docs(app, title)  # packaged assets, relative URLs: municloud/service/docs.py
    app.state.settings = settings
    app.state.read_only = False
    install_error_handlers(app)
    for cls in middleware:
        app.add_middleware(cls)
    app.include_router(health.router)
    for router in (*internal_routers, *routers):
        app.include_router(router, prefix="/api/v1")
    app.state.hot_files = hot  # fingerprinted without them at start (the deploy's reload check)
    return app


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    migrations_dir: Path,
    background: Sequence[BackgroundTask] = (),
) -> FastAPI:
    """A municipality's business service: the kit's skeleton plus the access log, token checks,
    municipality parameters, the platform inbox keys, the outbox relay and the read-only standby."""

    @contextlib.asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        async with app.state.pool.acquire() as conn:
            log.info(await check_audit_schema(conn))
            await ensure_inbox(conn)
        app.state.params = load_params(settings)
        load_platform_keys(app)
        # Named, so the per-hop CPU budget (municloud_ops/loadtest/cpu_budget.py) finds its backend.
        target = settings.database()
        app.state.audit = AuditLog(lambda: asyncpg.connect(
            **target.connect_kwargs(), timeout=10,
            server_settings={"application_name": APPENDER_APPLICATION_NAME}))
        app.state.audit.start()
        try:
            yield
        finally:
            await app.state.audit.stop()

    def standby(app: FastAPI):  # warm DR service on a standby: municloud/service/read_only.py
        return standby_lifespan(app, settings, load_params, load_platform_keys)

    app = create_kit_app(
        settings, title=title, routers=routers,
        migrations=[(KIT_MIGRATIONS, "kit"), (migrations_dir, settings.service_name)],
        resources=resources, standby=standby, background=(outbox_relay, *background),
        middleware=(ReadOnlyGuard, StrictJsonMiddleware),
        internal_routers=(audit_api.router, dr_probe_api.router))
    app.state.token_key = load_public_key(settings.token_public_key)
    app.state.token_cache = TokenCache()
    app.state.params = None
    install_contract(app)  # bearer + error answers in the OpenAPI, token checked first: contract.py
    return app


def serve(factory_path: str) -> None:
    """Run a service with uvicorn (uvloop + httptools); WEB_CONCURRENCY sets worker processes."""
    import os

    import uvicorn

    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    uvicorn.run(
        factory_path,
        factory=True,
        host=os.environ.get("BIND_HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8000")),
        workers=int(os.environ.get("WEB_CONCURRENCY", "1")),
        loop="uvloop",
        http="httptools",
        access_log=os.environ.get("ACCESS_LOG", "0") == "1",
        proxy_headers=True,
        forwarded_allow_ips="*",
    )
