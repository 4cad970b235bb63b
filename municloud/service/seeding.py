"""Loading deterministic seed data (municloud.seed.generate) into a service database.

Each service provides `async def load(conn, data: SeedData) -> tuple[int, int]` (households,
persons); this module gives it two front ends: POST /api/v1/admin/seed (staff token with
purpose system_operation or data_migration; refused when data already exists) and
`python -m services.<svc>.seed --population N --seed S` (settings from the environment).

`python -m services.<svc>.seed --reset` empties the service's data tables (its own, listed by the
service beside its loader, and the kit's outbox and platform inbox) so a test stack can be seeded
again. Only the in-container command does it — there is no HTTP front end — and only
`municloud loadtest reset` runs it, on a stack marked as a test stack (docs/benchmarks.md
"How to reproduce"). The access log is an audit record and is kept."""

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
    analyzed = await analyze(conn)
    return SeedResult(households=households, persons=persons,
                      message=f"loaded {persons} persons in {households} households of {lgcode} "
                              f"(seed {seed}) in {time.monotonic() - started:.1f} s; {analyzed}")


async def analyze(conn: asyncpg.Connection) -> str:
    """VACUUM (ANALYZE) the tables the service owns, after a bulk load (PostgreSQL documentation,
    "Populating a Database": run ANALYZE afterwards). Until autovacuum gets to them, freshly
    loaded tables have no statistics, so queries on them are planned blind, and autovacuum's own
    pass over the new rows comes later, in the middle of whatever runs then (docs/benchmarks.md
    "The load gate when the machine is slower"). Returns a sentence."""
    started = time.monotonic()
    tables = await conn.fetch(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables"
        " WHERE tableowner = current_user ORDER BY 1")
    for row in tables:
        await conn.execute(f"VACUUM (ANALYZE) {row['name']}")
    return f"analyzed {len(tables)} tables in {time.monotonic() - started:.1f} s"


#: The kit's tables holding a tenant's working data (the access log is not one of them).
KIT_DATA_TABLES = ("outbox", "platform_inbox")


async def reset_database(conn: asyncpg.Connection, lgcode: str, data_tables: tuple[str, ...]) -> str:
    """Empty ``data_tables`` and the kit's data tables in one transaction; the sentence says what
    was emptied. Tables a service has not created (the platform inbox before its first message)
    are skipped; one TRUNCATE without CASCADE, so a referencing table left off the list fails it
    instead of being emptied unseen."""
    async with conn.transaction():
        present = [t for t in (*data_tables, *KIT_DATA_TABLES)
                   if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", t)]
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in present}
        await conn.execute(f"LOCK TABLE {', '.join(present)} IN ACCESS EXCLUSIVE MODE")
        await conn.execute(f"TRUNCATE {', '.join(present)}")
    return (f"emptied {len(present)} tables of {lgcode} ({sum(counts.values())} rows: "
            + ", ".join(f"{t} {n}" for t, n in counts.items()) + "); the access log is kept")


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


def seed_main(service_name: str, loader: Loader, empty_table: str, migrations_dir,
              data_tables: tuple[str, ...]) -> None:
    """Command-line front end: settings from the environment (as the service itself)."""
    from municloud import db
    from municloud.service.app import KIT_MIGRATIONS
    from municloud.service.settings import ServiceSettings

    parser = argparse.ArgumentParser(prog=f"python -m services.{service_name}.seed")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--population", type=int, help="load this many residents of seed data")
    what.add_argument("--reset", action="store_true",
                      help=f"empty {', '.join(data_tables)} and the kit's data tables "
                           "(test stacks only: run by `municloud loadtest reset`)")
    what.add_argument("--analyze", action="store_true",
                      help="ANALYZE the service's tables (after bulk work: the load test's data set-up)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = ServiceSettings(service_name=service_name)

    async def run() -> str:
        conn = await asyncpg.connect(**settings.database().connect_kwargs())
        try:
            await db.apply_migrations(conn, KIT_MIGRATIONS, "kit")
            await db.apply_migrations(conn, migrations_dir, service_name)
            if args.reset:
                return await reset_database(conn, settings.lgcode, data_tables)
            if args.analyze:
                return f"{service_name} of {settings.lgcode}: " + await analyze(conn)
            result = await seed_database(conn, loader, settings.lgcode, args.population,
                                         args.seed, empty_table)
            return result.message
        finally:
            await conn.close()

    try:
        print(asyncio.run(run()))
    except ApiError as exc:
        raise SystemExit(f"{exc.field}: {exc.message}") from None
