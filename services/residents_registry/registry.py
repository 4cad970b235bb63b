"""The 異動 transactions: each changes current state, writes one immutable 異動履歴 row per
person and one outbox row per 住民異動通知 record, all in one database transaction."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import asyncpg

from municloud import ids
from municloud.auth import Principal
from municloud.platform.models import (
    MoveKind,
    MoveOutCertificate,
    Person,
    ResidentMove,
    ResidentMoveNotice,
)
from municloud.service import outbox
from municloud.service.errors import ApiError
from services.residents_registry import models as m

RESIDENT_COLUMNS = (
    "atena_number", "resident_record_code", "individual_number", "family_name", "given_name",
    "family_name_kana", "given_name_kana", "birth_date", "sex", "household_number",
    "relationship_to_head", "address", "address_date", "resident_since", "notification_date",
    "previous_address", "status", "status_date", "next_address", "next_lgcode",
)


def _jsonable(row: asyncpg.Record | dict) -> dict[str, Any]:
    out = {}
    for key, value in dict(row).items():
        out[key] = value.isoformat() if isinstance(value, (date, datetime)) else value
    return out


class Movement:
    """One 異動 being recorded inside an open transaction."""

    def __init__(self, conn: asyncpg.Connection, lgcode: str, principal: Principal,
                 kind: str, event_date: date, notification_date: date) -> None:
        self.conn, self.lgcode, self.principal = conn, lgcode, principal
        self.kind, self.event_date, self.notification_date = kind, event_date, notification_date
        self.movement_ids: list[int] = []
        self.outbox_rows = 0

    def own_number(self, number: str, field: str, label: str) -> str:
        """宛名番号 / 世帯番号 registered here must carry this municipality's code."""
        if number[:6] != self.lgcode:
            raise ApiError(422, "invalid", f"{label} must start with this municipality's code "
                           f"{self.lgcode}", field)
        return number

    async def allocate(self, what: str) -> str:
        serial = await self.conn.fetchval(f"SELECT nextval('{what}_serial')")
        make = ids.new_atena_number if what == "atena" else ids.new_household_number
        return make(self.lgcode, serial)

    async def resident(self, atena_number: str, field: str = "atena_number") -> asyncpg.Record:
        row = await self.conn.fetchrow(
            "SELECT * FROM residents WHERE atena_number = $1 FOR UPDATE", atena_number)
        if row is None:
            raise ApiError(404, "not_found", "resident not found", field)
        return row

    async def active_resident(self, atena_number: str, field: str = "atena_number") -> asyncpg.Record:
        row = await self.resident(atena_number, field)
        if row["status"] != "active":
            raise ApiError(409, "not_active", f"resident is {row['status']}", field)
        return row

    async def household(self, household_number: str, field: str = "household_number") -> asyncpg.Record:
        row = await self.conn.fetchrow(
            "SELECT * FROM households WHERE household_number = $1 FOR UPDATE", household_number)
        if row is None:
            raise ApiError(404, "not_found", "household not found", field)
        return row

    async def insert_resident(self, values: dict[str, Any], field: str) -> asyncpg.Record:
        # Check uniqueness first: a unique violation makes PostgreSQL log the key's value in its
        # DETAIL line, and that value may be a 個人番号. The constraint stays as the backstop.
        clash = await self.conn.fetchrow(
            "SELECT atena_number = $1 AS atena, resident_record_code = $2 AS code,"
            " individual_number = $3 AS number FROM residents WHERE atena_number = $1"
            " OR resident_record_code = $2 OR individual_number = $3 LIMIT 1",
            values["atena_number"], values["resident_record_code"], values["individual_number"])
        if clash is not None:
            which = ("atena_number" if clash["atena"] else "resident_record_code" if clash["code"]
                     else "individual_number")
            raise ApiError(409, "duplicate", f"{which} is already registered", f"{field}.{which}")
        columns = list(values)
        try:
            row = await self.conn.fetchrow(
                f"INSERT INTO residents ({', '.join(columns)}) VALUES "
                f"({', '.join(f'${i + 1}' for i in range(len(columns)))}) RETURNING *",
                *values.values())
        except asyncpg.UniqueViolationError as exc:
            which = {"residents_pkey": "atena_number",
                     "residents_resident_record_code_key": "resident_record_code",
                     "residents_individual_number_key": "individual_number"}.get(
                         exc.constraint_name or "", "atena_number")
            raise ApiError(409, "duplicate", f"{which} is already registered",
                           f"{field}.{which}") from None
        await self.record(None, row)
        return row

    async def update_resident(self, before: asyncpg.Record, changes: dict[str, Any]) -> asyncpg.Record:
        sets = ", ".join(f"{column} = ${i + 2}" for i, column in enumerate(changes))
        after = await self.conn.fetchrow(
            f"UPDATE residents SET {sets}, version = version + 1, updated_at = now() "
            f"WHERE atena_number = $1 RETURNING *", before["atena_number"], *changes.values())
        await self.record(before, after)
        return after

    async def record(self, before: asyncpg.Record | None, after: asyncpg.Record) -> None:
        """Write the 異動履歴 row and the 住民異動通知 outbox row for one person."""
        movement_id = await self.conn.fetchval(
            "INSERT INTO movements (atena_number, kind, event_date, notification_date, before,"
            " after, staff_id, purpose) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " RETURNING movement_id",
            after["atena_number"], self.kind, self.event_date, self.notification_date,
            json.dumps(_jsonable(before), ensure_ascii=False) if before is not None else None,
            json.dumps(_jsonable(after), ensure_ascii=False),
            self.principal.staff_id, self.principal.purpose)
        self.movement_ids.append(movement_id)
        move = resident_move(self.kind, self.event_date, self.notification_date, before, after)
        # 住民異動通知 to the hub, which fans it out to tax and nhi of this municipality.
        await self.enqueue(ResidentMoveNotice(moves=[move]), "platform_hub", self.lgcode,
                           f"movement:{movement_id}")

    async def enqueue(self, body, unit: str, lgcode: str, source_ref: str) -> None:
        await outbox.enqueue(self.conn, body, receiver_unit=unit, receiver_lgcode=lgcode,
                             source_ref=source_ref)
        self.outbox_rows += 1


def person_of(row: asyncpg.Record | dict) -> Person:
    return Person(
        atena_number=row["atena_number"], household_number=row["household_number"],
        resident_code=row["resident_record_code"], individual_number=row["individual_number"],
        family_name=row["family_name"], given_name=row["given_name"],
        family_name_kana=row["family_name_kana"], given_name_kana=row["given_name_kana"],
        birth_date=row["birth_date"], sex=row["sex"],
        relationship_to_head=row["relationship_to_head"], address=row["address"])


def resident_move(kind: str, event_date: date, notification_date: date,
                  before: asyncpg.Record | None, after: asyncpg.Record) -> ResidentMove:
    return ResidentMove(
        kind=MoveKind(kind), event_date=event_date, notification_date=notification_date,
        person=person_of(after),
        previous_address=(before["address"] if before is not None and before["address"] != after["address"]
                          else after["previous_address"] if kind == "move_in" else None),
        next_address=after["next_address"] if kind == "move_out" else None,
        next_lgcode=after["next_lgcode"] if kind == "move_out" else None,
    )


def _person_values(person: m.PersonCreate | m.Birth, atena: str, household: str, address: str,
                   birth_date: date, body: m._Movement, previous_address: str | None) -> dict:
    return {
        "atena_number": atena,
        "resident_record_code": person.resident_record_code,
        "individual_number": person.individual_number,
        "family_name": person.family_name, "given_name": person.given_name,
        "family_name_kana": person.family_name_kana, "given_name_kana": person.given_name_kana,
        "birth_date": birth_date, "sex": person.sex.value, "household_number": household,
        "relationship_to_head": person.relationship_to_head, "address": address,
        "address_date": body.event_date, "resident_since": body.event_date,
        "notification_date": body.notification_date, "previous_address": previous_address,
    }


async def use_move_out_certificate(mv: Movement, body: m.MoveIn) -> None:
    """転入 on a 転出証明書情報 from a consortium municipality: it must exist, come from the
    previous municipality, be unused, and name the people moving in (by 住民票コード)."""
    certificate = await mv.conn.fetchrow(
        "SELECT * FROM incoming_move_out_certificates WHERE certificate_number = $1 FOR UPDATE",
        body.move_out_certificate_number)
    field = "move_out_certificate_number"
    if certificate is None:
        raise ApiError(404, "certificate_unknown", "no such 転出証明書情報 has been received", field)
    if certificate["used_at"] is not None:
        raise ApiError(409, "certificate_used", "this 転出証明書情報 has already been used", field)
    if body.previous_lgcode is not None and body.previous_lgcode != certificate["sender_lgcode"]:
        raise ApiError(422, "invalid", "previous_lgcode differs from the certificate's sender",
                       "previous_lgcode")
    listed = {p.get("resident_code") for p in json.loads(certificate["payload"])["members"]}
    for index, person in enumerate(body.members):
        if person.resident_record_code not in listed:
            raise ApiError(422, "invalid", "person is not on the 転出証明書情報",
                           f"members.{index}.resident_record_code")
    await mv.conn.execute(
        "UPDATE incoming_move_out_certificates SET used_at = now(), used_by_staff = $2"
        " WHERE message_id = $1", certificate["message_id"], mv.principal.staff_id)


async def move_in(mv: Movement, body: m.MoveIn) -> None:
    if body.move_out_certificate_number is not None:
        await use_move_out_certificate(mv, body)
    if body.new_household is not None:
        household = (mv.own_number(body.new_household.household_number,
                                   "new_household.household_number", "世帯番号")
                     if body.new_household.household_number else await mv.allocate("household"))
        try:
            await mv.conn.execute("INSERT INTO households (household_number, address) VALUES ($1, $2)",
                                  household, body.address)
        except asyncpg.UniqueViolationError:
            raise ApiError(409, "duplicate", "household_number is already registered",
                           "new_household.household_number") from None
    else:
        household = body.household_number
        row = await mv.household(household)
        if row["address"] != body.address:
            raise ApiError(422, "invalid", "address must be the household's address", "address")
    for index, person in enumerate(body.members):
        atena = (mv.own_number(person.atena_number, f"members.{index}.atena_number", "宛名番号")
                 if person.atena_number else await mv.allocate("atena"))
        if person.birth_date > body.event_date:
            raise ApiError(422, "invalid", "birth date after the move-in date",
                           f"members.{index}.birth_date")
        row = await mv.insert_resident(
            _person_values(person, atena, household, body.address, person.birth_date, body,
                           body.previous_address), f"members.{index}")
        if person.relationship_to_head == m.HEAD:
            await _set_head(mv, household, row["atena_number"], f"members.{index}.relationship_to_head")


async def _set_head(mv: Movement, household: str, atena: str, field: str) -> None:
    current = await mv.conn.fetchval(
        "SELECT h.head_atena_number FROM households h JOIN residents r"
        " ON r.atena_number = h.head_atena_number AND r.status = 'active'"
        " WHERE h.household_number = $1", household)
    if current is not None and current != atena:
        raise ApiError(409, "head_exists", "the household already has a 世帯主", field)
    await mv.conn.execute("UPDATE households SET head_atena_number = $2 WHERE household_number = $1",
                          household, atena)


async def birth(mv: Movement, body: m.Birth) -> None:
    household = await mv.household(body.household_number)
    atena = (mv.own_number(body.atena_number, "atena_number", "宛名番号")
             if body.atena_number else await mv.allocate("atena"))
    await mv.insert_resident(
        _person_values(body, atena, body.household_number, household["address"], body.event_date,
                       body, None), "person")


async def move_within(mv: Movement, body: m.MoveWithin) -> None:
    household = await mv.household(body.household_number)
    if household["address"] == body.address:
        raise ApiError(422, "invalid", "the new address equals the current one", "address")
    members = await mv.conn.fetch(
        "SELECT * FROM residents WHERE household_number = $1 AND status = 'active'"
        " ORDER BY atena_number FOR UPDATE", body.household_number)
    if not members:
        raise ApiError(409, "no_members", "the household has no active member", "household_number")
    await mv.conn.execute("UPDATE households SET address = $2 WHERE household_number = $1",
                          body.household_number, body.address)
    for before in members:
        await mv.update_resident(before, {
            "address": body.address, "address_date": body.event_date,
            "previous_address": before["address"], "notification_date": body.notification_date})


async def move_out(mv: Movement, body: m.MoveOut) -> None:
    if body.next_lgcode == mv.lgcode:
        raise ApiError(422, "invalid", "a move inside the municipality is a 転居, not a 転出",
                       "next_lgcode")
    if len(set(body.atena_numbers)) != len(body.atena_numbers):
        raise ApiError(422, "invalid", "the same person is listed twice", "atena_numbers")
    moved = []
    for index, atena in enumerate(body.atena_numbers):
        before = await mv.active_resident(atena, f"atena_numbers.{index}")
        moved.append(await mv.update_resident(before, {
            "status": "moved_out", "status_date": body.event_date,
            "next_address": body.next_address, "next_lgcode": body.next_lgcode,
            "notification_date": body.notification_date}))
    if body.next_lgcode is not None:
        # 転出証明書情報 for the destination's registry (routed by the hub when both are members).
        serial = await mv.conn.fetchval("SELECT nextval('move_out_certificate_serial')")
        certificate = MoveOutCertificate(
            certificate_number=f"{mv.lgcode}-{serial:08d}", issued_date=body.notification_date,
            planned_move_date=body.event_date, new_address=body.next_address,
            members=[person_of(row) for row in moved])
        await mv.enqueue(certificate, "residents_registry", body.next_lgcode,
                         f"certificate:{certificate.certificate_number}")


async def death(mv: Movement, body: m.Death) -> None:
    before = await mv.active_resident(body.atena_number)
    if body.event_date < before["birth_date"]:
        raise ApiError(422, "invalid", "date of death before the birth date", "event_date")
    await mv.update_resident(before, {"status": "deceased", "status_date": body.event_date,
                                      "notification_date": body.notification_date})


async def household_change(mv: Movement, body: m.HouseholdChange) -> None:
    before = await mv.active_resident(body.atena_number)
    if body.new_household is not None:
        household = (mv.own_number(body.new_household.household_number,
                                   "new_household.household_number", "世帯番号")
                     if body.new_household.household_number else await mv.allocate("household"))
        try:
            await mv.conn.execute(
                "INSERT INTO households (household_number, address) VALUES ($1, $2)",
                household, before["address"])
        except asyncpg.UniqueViolationError:
            raise ApiError(409, "duplicate", "household_number is already registered",
                           "new_household.household_number") from None
    else:
        household = body.household_number
        target = await mv.household(household)
        if target["address"] != before["address"]:
            raise ApiError(422, "invalid", "a household change needs the same address (else 転居)",
                           "household_number")
    old_household = before["household_number"]
    if household == old_household and body.relationship_to_head == before["relationship_to_head"]:
        raise ApiError(422, "invalid", "nothing changes", "relationship_to_head")
    old_head = await mv.conn.fetchval(
        "SELECT head_atena_number FROM households WHERE household_number = $1 FOR UPDATE",
        old_household)
    if old_head == body.atena_number and (household != old_household or body.relationship_to_head != m.HEAD):
        await mv.conn.execute(
            "UPDATE households SET head_atena_number = NULL WHERE household_number = $1", old_household)
    await mv.update_resident(before, {"household_number": household,
                                      "relationship_to_head": body.relationship_to_head,
                                      "notification_date": body.notification_date})
    if body.relationship_to_head == m.HEAD:
        await _set_head(mv, household, body.atena_number, "relationship_to_head")


HANDLERS = {
    "move_in": move_in, "birth": birth, "move_within": move_within,
    "move_out": move_out, "death": death, "household_change": household_change,
}
