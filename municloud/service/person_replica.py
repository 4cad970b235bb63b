"""The person replica (住民記録の写し) that tax and nhi each keep of their municipality's residents.

Both services hold a table with the same columns (tax: ``taxpayers``, nhi: ``persons``; DDL in
their first migration), seeded from the residents registry's seed data and kept current from
住民異動通知: one upsert per move, with the status a move implies (転出 → moved_out, 死亡 →
deceased, anything else active). This module is the one place for those columns, that status
mapping, the upsert and the seed copy; the layout codes of the status are in
municloud.layout.person_copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

#: 異動事由 -> the person's status after it (a move not named here leaves the person active)
STATUS_OF_MOVE = {"move_out": "moved_out", "death": "deceased"}
STATUSES = ("active", "moved_out", "deceased")
#: seed data's sex -> the code stored (住民票: 1 male, 2 female)
SEX_CODE = {"male": "1", "female": "2"}
COLUMNS = ("atena_number", "household_number", "individual_number", "family_name", "given_name",
           "family_name_kana", "given_name_kana", "birth_date", "sex", "relationship_to_head", "address",
           "status", "status_date", "last_message_id")
_SEED_COLUMNS = COLUMNS[:11]


def status_after(move_kind: str) -> str:
    """The person's status after a move of this kind."""
    return STATUS_OF_MOVE.get(move_kind, "active")


class PersonReplica:
    """The replica table of one service; ``table`` is fixed by the service, never user input."""

    def __init__(self, table: str) -> None:
        if not re.fullmatch(r"[a-z_]{1,40}", table):
            raise ValueError(f"person replica table must be a plain identifier, got {table!r}")
        self.table = table
        updates = ", ".join(
            f"{c} = coalesce(EXCLUDED.{c}, {table}.{c})" if c == "individual_number" else f"{c} = EXCLUDED.{c}"
            for c in COLUMNS[1:] if c != "birth_date" and c != "sex")
        self._upsert = (f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES "
                        f"({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))}) "
                        f"ON CONFLICT (atena_number) DO UPDATE SET {updates}, updated_at = now()")

    async def upsert(self, conn, person, status: str, status_date: date | None, message_id) -> None:
        """Insert or update one person from a notice's person part (the 個人番号 is kept when a
        notice does not carry it; birth date and sex are never changed by a notice)."""
        if status not in STATUSES:
            raise ValueError(f"unknown person status {status!r}")
        await conn.execute(self._upsert, person.atena_number, person.household_number,
                           person.individual_number, person.family_name, person.given_name,
                           person.family_name_kana, person.given_name_kana, person.birth_date,
                           person.sex.value, person.relationship_to_head, person.address, status,
                           status_date, message_id)

    async def apply_move(self, conn, move, message_id) -> str:
        """Apply one move of a 住民異動通知; returns the person's status after it."""
        status = status_after(move.kind.value)
        await self.upsert(conn, move.person, status, move.event_date if status != "active" else None,
                          message_id)
        return status

    async def seed(self, conn, residents: Iterable[Any]) -> int:
        """Copy seed residents (municloud.seed's records) into the replica; returns how many."""
        records = [(r.atena_number, r.household_number, r.my_number, r.family_name, r.given_name,
                    r.family_name_kana, r.given_name_kana, r.birth_date, SEX_CODE[r.sex], r.relationship,
                    r.address) for r in residents]
        await conn.copy_records_to_table(self.table, columns=list(_SEED_COLUMNS), records=records)
        return len(records)
