"""Loading deterministic seed data (municloud.seed.generate) into a service database.

Each service provides `async def load(conn, data: SeedData) -> tuple[int, int]` (households,
persons); this module gives it two front ends: POST /api/v1/admin/seed (staff token with
purpose system_operation or data_migration; refused when data already exists) and
`python -m services.<svc>.seed --population N --seed S` (settings from the environment)."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import APIRouter
from pydantic import BaseModel, Field

from municloud.service.deps import AuditDep, ConnDep, PrincipalDep, SettingsDep, log_access
from municloud.service.errors import ApiError

Loader = Callable[[asyncpg.Connection, object], Awaitable[tuple[int, int]]]
SEED_PURPOSES = frozenset({"system_operation", "data_migration"})


class SeedRequest(BaseModel):
    population: int = Field(ge=1, le=999_999)
    seed: int = Field(0, ge=0, le=2**31)


class SeedResult(BaseModel):
    households: int
    persons: int
    message: str


async def seed_database(conn: asyncpg.Connection, loader: Loader, lgcode: str, population: int,
                        seed: int, empty_table: str) -> SeedResult:
    from municloud.seed import generate

    started = time.monotonic()
    data = generate(lgcode, population, seed)
    async with conn.transaction():
        # One loader at a time; refuse to mix seed data into a populated tenant.
        await conn.execute(f"LOCK TABLE {empty_table} IN EXCLUSIVE MODE")
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {empty_table})"):
            raise ApiError(409, "not_empty", f"{empty_table} already holds data", "population")
        households, persons = await loader(conn, data)
    return SeedResult(households=households, persons=persons,
                      message=f"loaded {persons} persons in {households} households of {lgcode} "
                              f"(seed {seed}) in {time.monotonic() - started:.1f} s")


def make_seed_router(loader: Loader, empty_table: str) -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["admin"])

    @router.post("/seed", status_code=201, response_model=SeedResult)
    async def seed(body: SeedRequest, conn: ConnDep, principal: PrincipalDep,
                   settings: SettingsDep, audit: AuditDep) -> SeedResult:
        if principal.purpose not in SEED_PURPOSES:
            raise ApiError(403, "purpose_not_allowed",
                           f"purpose {principal.purpose} may not load seed data", "purpose")
        result = await seed_database(conn, loader, settings.lgcode, body.population, body.seed,
                                     empty_table)
        await log_access(audit, principal, None, f"seed:{result.persons}")
        return result

    return router


def seed_main(service_name: str, loader: Loader, empty_table: str, migrations_dir) -> None:
    """Command-line front end: settings from the environment (as the service itself)."""
    from municloud import db
    from municloud.service.app import KIT_MIGRATIONS
    from municloud.service.settings import ServiceSettings

    parser = argparse.ArgumentParser(prog=f"python -m services.{service_name}.seed")
    parser.add_argument("--population", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = ServiceSettings(service_name=service_name)

    async def run() -> str:
        conn = await asyncpg.connect(**settings.database().connect_kwargs())
        try:
            await db.apply_migrations(conn, KIT_MIGRATIONS, "kit")
            await db.apply_migrations(conn, migrations_dir, service_name)
            result = await seed_database(conn, loader, settings.lgcode, args.population,
                                         args.seed, empty_table)
            return result.message
        finally:
            await conn.close()

    try:
        print(asyncio.run(run()))
    except ApiError as exc:
        raise SystemExit(f"{exc.field}: {exc.message}") from None
