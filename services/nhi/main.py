"""App factory of nhi (国民健康保険)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from municloud.service import ServiceSettings, create_service_app
from municloud.service.inbox import make_inbox_router
from municloud.service.outbox_api import router as outbox_router
from municloud.service.params_api import router as params_router
from municloud.service.seeding import make_seed_router
from services.nhi import inbox, layout_api, seed
from services.nhi.routers import enrolments, premiums

MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service_name="nhi")
    return create_service_app(
        settings,
        title="municloud nhi (国民健康保険)",
        routers=[params_router, enrolments.router, premiums.router, outbox_router,
                 make_seed_router(seed.load, "persons"),
                 make_inbox_router(inbox.HANDLERS, individual_number=inbox.INDIVIDUAL_NUMBER),
                 layout_api.router],
        migrations_dir=MIGRATIONS,
    )
