"""POST /movements: record one 異動 (転入, 転居, 転出, 出生, 死亡, 世帯変更)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from municloud.service.deps import AuditDep, ConnDep, PrincipalDep, SettingsDep, log_accesses
from services.residents_registry import models as m
from services.residents_registry.registry import HANDLERS, Movement

router = APIRouter(prefix="/movements", tags=["movements"])


@router.post("", status_code=201, response_model=m.MovementResult)
async def record_movement(
    body: Annotated[m.MovementCreate, Body()],
    conn: ConnDep, principal: PrincipalDep, settings: SettingsDep, audit: AuditDep,
) -> m.MovementResult:
    """Apply the 異動 and write 異動履歴 + outbox rows in one transaction (all or nothing)."""
    async with conn.transaction():
        mv = Movement(conn, settings.lgcode, principal, body.kind, body.event_date,
                      body.notification_date)
        await HANDLERS[body.kind](mv, body)
        rows = await conn.fetch(
            "SELECT movement_id, atena_number, kind, event_date, notification_date,"
            " recorded_at::text AS recorded_at, staff_id FROM movements"
            " WHERE movement_id = ANY($1::bigint[]) ORDER BY movement_id", mv.movement_ids)
    await log_accesses(audit, principal, [r["atena_number"] for r in rows], f"movement:{body.kind}")
    return m.MovementResult(kind=body.kind,
                            movements=[m.MovementPublic(**dict(r)) for r in rows],
                            outbox_messages=mv.outbox_rows)
