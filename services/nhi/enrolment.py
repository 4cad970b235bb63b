"""Enrolment (資格取得) and withdrawal (資格喪失), from 異動通知 or by staff.

Our design for the automatic part: a person under 75 who moves in or is born is enrolled on
the event date (those covered by an employee scheme are withdrawn by staff with reason
employee_insurance); 75 and over belong to 後期高齢者医療 and are not enrolled. 転出 loses
the qualification on the move-out date, 死亡 on the day after (国民健康保険法 §8)."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from municloud.calc.nhi_premium import age_on
from municloud.service.person_replica import PersonReplica

LATE_ELDERLY_AGE = 75


#: this service's copy of the residents (municloud/service/person_replica.py)
PERSONS = PersonReplica("persons")


async def acquire(conn: asyncpg.Connection, atena_number: str, on: date, reason: str,
                  message_id=None, staff_id: str | None = None) -> bool:
    """Enrol; False if already insured."""
    current = await conn.fetchval(
        "SELECT insured FROM enrolments WHERE atena_number = $1 FOR UPDATE", atena_number)
    if current:
        return False
    await conn.execute(
        "INSERT INTO enrolments (atena_number, insured, acquired_on, reason) VALUES ($1, true, $2, $3)"
        " ON CONFLICT (atena_number) DO UPDATE SET insured = true, acquired_on = $2, lost_on = NULL,"
        " reason = $3, updated_at = now()", atena_number, on, reason)
    await conn.execute(
        "INSERT INTO enrolment_events (atena_number, event, event_date, reason, message_id, staff_id)"
        " VALUES ($1, 'acquire', $2, $3, $4, $5)", atena_number, on, reason, message_id, staff_id)
    return True


async def lose(conn: asyncpg.Connection, atena_number: str, on: date, reason: str,
               message_id=None, staff_id: str | None = None) -> bool:
    """Withdraw; False if not insured."""
    current = await conn.fetchval(
        "SELECT insured FROM enrolments WHERE atena_number = $1 FOR UPDATE", atena_number)
    if not current:
        return False
    await conn.execute(
        "UPDATE enrolments SET insured = false, lost_on = $2, reason = $3, updated_at = now()"
        " WHERE atena_number = $1", atena_number, on, reason)
    await conn.execute(
        "INSERT INTO enrolment_events (atena_number, event, event_date, reason, message_id, staff_id)"
        " VALUES ($1, 'lose', $2, $3, $4, $5)", atena_number, on, reason, message_id, staff_id)
    return True


async def apply_move(conn: asyncpg.Connection, move, message_id) -> None:
    kind = move.kind.value
    await PERSONS.apply_move(conn, move, message_id)
    atena = move.person.atena_number
    if kind in ("move_in", "birth"):
        if age_on(move.person.birth_date, move.event_date) < LATE_ELDERLY_AGE:  # 後期高齢者 from the 75th birthday
            await acquire(conn, atena, move.event_date, kind, message_id)
    elif kind == "move_out":
        await lose(conn, atena, move.event_date, kind, message_id)
    elif kind == "death":
        await lose(conn, atena, move.event_date + timedelta(days=1), kind, message_id)
