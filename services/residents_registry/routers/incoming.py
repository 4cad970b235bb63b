"""転出証明書情報 received from other consortium municipalities, for the 転入 that follows."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from municloud.platform.models import MoveOutCertificate
from municloud.service.deps import (
    AuditDep,
    ConnDep,
    PrincipalDep,
    log_access,
    log_accesses,
    require_purpose,
)
from municloud.service.errors import not_found

router = APIRouter(prefix="/move-out-certificates", tags=["move-out certificates"])
READERS = frozenset({"resident_record"})


class IncomingCertificate(BaseModel):
    sender_lgcode: str
    received_at: str
    used: bool
    certificate: MoveOutCertificate


@router.get("/incoming", response_model=list[IncomingCertificate])
async def incoming_certificates(conn: ConnDep, principal: PrincipalDep, audit: AuditDep,
                                unused_only: bool = True) -> list[IncomingCertificate]:
    require_purpose(principal, READERS)
    rows = await conn.fetch(
        "SELECT sender_lgcode, received_at::text AS received_at, used_at IS NOT NULL AS used,"
        " payload FROM incoming_move_out_certificates WHERE NOT ($1 AND used_at IS NOT NULL)"
        " ORDER BY received_at", unused_only)
    result = [IncomingCertificate(sender_lgcode=r["sender_lgcode"], received_at=r["received_at"],
                                  used=r["used"],
                                  certificate=MoveOutCertificate.model_validate(json.loads(r["payload"])))
              for r in rows]
    for item in result:
        await log_access(audit, principal, None,
                         f"move_out_certificate:{item.certificate.certificate_number}")
    return result


@router.get("/{certificate_number}", response_model=IncomingCertificate)
async def incoming_certificate(
    certificate_number: Annotated[str, Path(pattern=r"^[0-9A-Za-z-]{1,30}$")],
    conn: ConnDep, principal: PrincipalDep, audit: AuditDep,
) -> IncomingCertificate:
    """One received certificate: what the clerk completes the 転入 with (logged per member)."""
    require_purpose(principal, READERS)
    row = await conn.fetchrow(
        "SELECT sender_lgcode, received_at::text AS received_at, used_at IS NOT NULL AS used,"
        " payload FROM incoming_move_out_certificates WHERE certificate_number = $1",
        certificate_number)
    if row is None:
        raise not_found("move-out certificate", "certificate_number")
    item = IncomingCertificate(sender_lgcode=row["sender_lgcode"], received_at=row["received_at"],
                               used=row["used"],
                               certificate=MoveOutCertificate.model_validate(json.loads(row["payload"])))
    await log_accesses(audit, principal, [m.atena_number for m in item.certificate.members],
                       f"move_out_certificate:{certificate_number}")
    return item
