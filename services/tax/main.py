"""App factory of tax (個人住民税)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from municloud.service import ServiceSettings, create_service_app
from municloud.service.inbox import make_inbox_router
from municloud.service.outbox_api import router as outbox_router
from municloud.service.params_api import router as params_router
from municloud.service.seeding import make_seed_router
from services.tax import inbox, layout_api, seed
from services.tax.routers import assessments, declarations, income_inquiries, taxpayers

MIGRATIONS = Path(__file__).with_name("migrations")


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service_name="tax")
    return create_service_app(
        settings,
        title="municloud tax (個人住民税)",
        routers=[params_router, taxpayers.router, declarations.router, assessments.router,
                 income_inquiries.router, outbox_router, make_seed_router(seed.load, "taxpayers"),
                 make_inbox_router(inbox.HANDLERS, individual_number=inbox.INDIVIDUAL_NUMBER),
                 layout_api.router],
        migrations_dir=MIGRATIONS,
    )
