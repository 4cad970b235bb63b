"""Seed data for tax: taxpayers (the residents) and their declarations for the seed's fiscal
year. `python -m services.tax.seed --population N --seed S` (same seed as residents_registry)."""

from __future__ import annotations

from pathlib import Path

from services.tax.inbox import TAXPAYERS

#: What `--reset` empties (with the kit's outbox and platform inbox): every table the loader
#: and the API fill.
DATA_TABLES = ("declarations", "assessments", "taxpayers")


async def load(conn, data) -> tuple[int, int]:
    await TAXPAYERS.seed(conn, data.residents)
    await conn.copy_records_to_table(
        "declarations",
        columns=["atena_number", "fiscal_year", "revision", "declaration", "staff_id"],
        records=[(r.atena_number, data.fiscal_year, 1,
                  data.declaration_for(r.atena_number).model_dump_json(), "seed")
                 for r in data.residents if r.birth_date.year < data.fiscal_year - 1])
    return len(data.households), len(data.residents)


if __name__ == "__main__":
    from municloud.service.seeding import seed_main

    seed_main("tax", load, "taxpayers", Path(__file__).with_name("migrations"),
              DATA_TABLES)
