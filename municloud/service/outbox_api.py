"""GET /outbox: pending and sent platform messages (operators and tests check the relay)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from municloud.service.deps import ConnDep, PrincipalDep

router = APIRouter(prefix="/outbox", tags=["outbox"])


class OutboxRow(BaseModel):
    id: int
    message_type: str
    receiver_unit: str
    receiver_lgcode: str
    source_ref: str | None
    attempts: int
    sent: bool
    dead: bool
    last_error: str | None


@router.get("", response_model=list[OutboxRow])
async def list_outbox(conn: ConnDep, _: PrincipalDep,
                      pending: bool = True,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[OutboxRow]:
    """Metadata only (no payload: it holds personal data)."""
    rows = await conn.fetch(
        "SELECT id, message_type, receiver_unit, receiver_lgcode, source_ref, attempts,"
        " sent_at IS NOT NULL AS sent, dead_at IS NOT NULL AS dead, last_error FROM outbox"
        " WHERE ($1::boolean IS FALSE OR sent_at IS NULL) ORDER BY id LIMIT $2", pending, limit)
    return [OutboxRow(**dict(r)) for r in rows]
