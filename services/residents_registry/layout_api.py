"""住民基本台帳 in the intermediate standard layout (中間標準レイアウト): export / import.

Maps the layout's items (municloud/layout/definitions/residents_registry.yaml) onto this
service's tables (households, residents, movements). 異動事由 / 異動日 are those of the
resident's latest 異動履歴 row; an import writes one 異動履歴 row per resident that has them,
so export → import → export gives the same file. Include with
``routers=[..., layout_api.router]``.
"""

from __future__ import annotations

import json
import asyncpg

from municloud.layout import load_layout
from municloud.layout.person_copy import STATUS, STATUS_OF_CODE
from municloud.layout.router import ImportContext, LayoutStore, Row, make_layout_router

LAYOUT = load_layout("住民基本台帳")
HEAD = "世帯主"
MOVE_REASON = {"move_in": "01", "move_within": "02", "move_out": "03", "birth": "04",
               "death": "05", "household_change": "06"}
KIND_OF_REASON = {code: kind for kind, code in MOVE_REASON.items()}

_EXPORT = """
SELECT r.*, m.kind, m.event_date
FROM residents r
LEFT JOIN LATERAL (SELECT kind, event_date FROM movements
                   WHERE movements.atena_number = r.atena_number
                   ORDER BY movement_id DESC LIMIT 1) m ON true
ORDER BY r.atena_number
"""


async def export_rows(conn: asyncpg.Connection) -> list[Row]:
    return [{
        "atena_number": r["atena_number"], "household_number": r["household_number"],
        "resident_record_code": r["resident_record_code"], "my_number": r["individual_number"],
        "family_name": r["family_name"], "given_name": r["given_name"],
        "family_name_kana": r["family_name_kana"], "given_name_kana": r["given_name_kana"],
        "birth_date": r["birth_date"], "sex": r["sex"], "relationship": r["relationship_to_head"],
        "resident_since": r["resident_since"], "address": r["address"],
        "address_since": r["address_date"], "notified_on": r["notification_date"],
        "previous_address": r["previous_address"],
        "move_reason": MOVE_REASON.get(r["kind"]) if r["kind"] else None,
        "moved_on": r["event_date"], "status": STATUS[r["status"]],
        "status_date": r["status_date"], "next_address": r["next_address"],
        "next_lgcode": r["next_lgcode"],
    } for r in await conn.fetch(_EXPORT)]


async def is_empty(conn: asyncpg.Connection) -> bool:
    return not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM residents) OR EXISTS (SELECT 1 FROM households)")


def _households(rows: list[Row]) -> list[tuple[str, str | None, str]]:
    """世帯: head = the active member whose 続柄 is 世帯主; address = the head's (else the first
    member's)."""
    members: dict[str, list[Row]] = {}
    for row in rows:
        members.setdefault(str(row["household_number"]), []).append(row)
    households = []
    for number, rows_of in sorted(members.items()):
        heads = [r for r in rows_of if r["relationship"] == HEAD and r["status"] == "1"]
        head = heads[0] if heads else None
        households.append((number, head["atena_number"] if head else None,
                           (head or rows_of[0])["address"]))
    return households


async def import_rows(conn: asyncpg.Connection, rows: list[Row],
                      context: ImportContext) -> list[str]:
    principal = context.principal
    await conn.copy_records_to_table(
        "households", columns=["household_number", "head_atena_number", "address"],
        records=_households(rows))
    await conn.copy_records_to_table(
        "residents",
        columns=["atena_number", "resident_record_code", "individual_number", "family_name",
                 "given_name", "family_name_kana", "given_name_kana", "birth_date", "sex",
                 "household_number", "relationship_to_head", "address", "address_date",
                 "resident_since", "notification_date", "previous_address", "status",
                 "status_date", "next_address", "next_lgcode"],
        records=[(r["atena_number"], r["resident_record_code"], r["my_number"],
                  r["family_name"], r["given_name"], r["family_name_kana"],
                  r["given_name_kana"], r["birth_date"], r["sex"], r["household_number"],
                  r["relationship"], r["address"], r["address_since"], r["resident_since"],
                  r["notified_on"], r["previous_address"], STATUS_OF_CODE[str(r["status"])],
                  r["status_date"], r["next_address"], r["next_lgcode"]) for r in rows])
    history = [r for r in rows if r["move_reason"] and r["moved_on"]]
    await conn.copy_records_to_table(
        "movements",
        columns=["atena_number", "kind", "event_date", "notification_date", "after",
                 "staff_id", "purpose"],
        records=[(r["atena_number"], KIND_OF_REASON[str(r["move_reason"])], r["moved_on"],
                  r["notified_on"], json.dumps({"source": "layout_import"}),
                  principal.staff_id, principal.purpose) for r in history])
    return [str(r["atena_number"]) for r in rows]


router = make_layout_router(LAYOUT, LayoutStore(export_rows, is_empty, import_rows))
