"""App factory of residents_registry (住民記録)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from municloud.service import ServiceSettings, create_service_app
from municloud.service.inbox import make_inbox_router
from municloud.service.outbox_api import router as outbox_router
from municloud.service.seeding import make_seed_router
from services.residents_registry import inbox, layout_api, seed
from services.residents_registry.routers import households, incoming, movements, opendata, residents

MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service_name="residents_registry")
    return create_service_app(
        settings,
        title="municloud residents_registry (住民記録)",
        routers=[residents.router, households.router, movements.router, incoming.router,
                 outbox_router,
                 make_seed_router(seed.load, "residents"),
                 make_inbox_router(inbox.HANDLERS, individual_number=inbox.INDIVIDUAL_NUMBER),
                 layout_api.router, opendata.router],
        migrations_dir=MIGRATIONS,
    )
