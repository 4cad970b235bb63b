"""GET /api/v1/access-log/verify: recompute the access-log chain and show its head.

The head (seq, hash) is what an operator or the backup job records outside the database: a
later verification against a recorded head detects even a rewrite that recomputes the chain."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from municloud.audit import HEAD_TABLE, verify_chain
from municloud.auth import OPERATOR_PURPOSES
from municloud.service.deps import PoolDep, PrincipalDep, require_purpose

router = APIRouter(prefix="/access-log", tags=["access log"])


class ChainReport(BaseModel):
    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    message: str


@router.get("/verify", response_model=ChainReport)
async def verify_access_log(pool: PoolDep, principal: PrincipalDep) -> ChainReport:
    require_purpose(principal, OPERATOR_PURPOSES)
    async with pool.acquire() as conn:
        result = await verify_chain(conn)
        head = await conn.fetchrow(f"SELECT seq, hash FROM {HEAD_TABLE}")
    return ChainReport(ok=result.ok, rows=result.rows, head_seq=head["seq"],
                       head_hash=bytes(head["hash"]).hex(), message=result.sentence())
