"""Seed data for nhi: persons (the residents) and the 国保 enrolment of those the generator
puts in 国保. Incomes are not seeded: they come from tax by 所得照会.
`python -m services.nhi.seed --population N --seed S` (same seed as residents_registry)."""

from __future__ import annotations

from pathlib import Path

from services.nhi.enrolment import PERSONS

#: What `--reset` empties (with the kit's outbox and platform inbox): every table the loader
#: and the API fill.
DATA_TABLES = ("enrolments", "enrolment_events", "member_incomes", "premiums", "persons")


async def load(conn, data) -> tuple[int, int]:
    await PERSONS.seed(conn, data.residents)
    insured = [r for r in data.residents if r.insurance == "nhi"]
    await conn.copy_records_to_table(
        "enrolments", columns=["atena_number", "insured", "acquired_on", "reason"],
        records=[(r.atena_number, True, r.resident_since, "seed") for r in insured])
    await conn.copy_records_to_table(
        "enrolment_events", columns=["atena_number", "event", "event_date", "reason", "staff_id"],
        records=[(r.atena_number, "acquire", r.resident_since, "seed", "seed") for r in insured])
    return len(data.households), len(data.residents)


if __name__ == "__main__":
    from municloud.service.seeding import seed_main

    seed_main("nhi", load, "persons", Path(__file__).with_name("migrations"),
              DATA_TABLES)
