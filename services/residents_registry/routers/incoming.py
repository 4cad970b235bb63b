"""転出証明書情報 received from other consortium municipalities, for the 転入 that follows."""

from __future__ import annotations

import json

from fastapi import APIRouter
from pydantic import BaseModel

from municloud.platform.models import MoveOutCertificate
from municloud.service.deps import AuditDep, ConnDep, PrincipalDep, log_access, require_purpose

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
