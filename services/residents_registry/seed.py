"""Seed data for residents_registry: `python -m services.residents_registry.seed --population N`.

Initial registration from seed data is a data load (like a migration), not a 異動: it writes
current state only, no 異動履歴 and no 住民異動通知 (tax and nhi load the same seed)."""

from __future__ import annotations

from pathlib import Path

SEX = {"male": "1", "female": "2"}

#: What `--reset` empties (with the kit's outbox and platform inbox): every table the loader
#: and the API fill.
DATA_TABLES = ("movements", "incoming_move_out_certificates", "residents", "households")


async def load(conn, data) -> tuple[int, int]:
    await conn.copy_records_to_table(
        "households", columns=["household_number", "head_atena_number", "address"],
        records=[(h.household_number, h.head_atena_number, h.address) for h in data.households])
    await conn.copy_records_to_table(
        "residents",
        columns=["atena_number", "resident_record_code", "individual_number", "family_name",
                 "given_name", "family_name_kana", "given_name_kana", "birth_date", "sex",
                 "household_number", "relationship_to_head", "address", "address_date",
                 "resident_since", "notification_date"],
        records=[(r.atena_number, r.resident_record_code, r.my_number, r.family_name,
                  r.given_name, r.family_name_kana, r.given_name_kana, r.birth_date, SEX[r.sex],
                  r.household_number, r.relationship, r.address, r.resident_since,
                  r.resident_since, r.resident_since) for r in data.residents])
    return len(data.households), len(data.residents)


if __name__ == "__main__":
    from municloud.service.seeding import seed_main

    seed_main("residents_registry", load, "residents", Path(__file__).with_name("migrations"),
              DATA_TABLES)
