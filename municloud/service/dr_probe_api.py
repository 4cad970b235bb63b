"""DR probe (災害対策訓練の疎通確認): synthetic numbered transactions for `municloud dr rehearse`.

`POST /api/v1/dr-probe` {run_id, n} stores one row and answers 201 only after COMMIT (in
synchronous replication: after the DR standby confirmed it), with the site whose service
stored it. `GET /api/v1/dr-probe/{run_id}` lists the numbers present. Operators only
(auth.OPERATOR_PURPOSES); no personal data, so no access-log entry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from municloud.auth import OPERATOR_PURPOSES
from municloud.service.deps import PoolDep, PrincipalDep, SettingsDep, require_purpose

router = APIRouter(prefix="/dr-probe", tags=["dr probe"])

RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_N = 1_000_000
MAX_LISTED = 100_000


class ProbeWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    run_id: str = Field(pattern=RUN_ID_PATTERN, description="rehearsal run (letters, digits, _ -; 1-64)")
    n: int = Field(ge=1, le=MAX_N, description="write number within the run")


class ProbeAck(BaseModel):
    run_id: str
    n: int
    site: str | None


class ProbeRun(BaseModel):
    run_id: str
    site: str | None
    count: int
    numbers: list[int]


@router.post("", status_code=201, response_model=ProbeAck)
async def write_probe(body: ProbeWrite, pool: PoolDep, principal: PrincipalDep,
                      settings: SettingsDep) -> ProbeAck:
    """Idempotent per (run_id, n): a retried number is acknowledged again, stored once."""
    require_purpose(principal, OPERATOR_PURPOSES)
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO dr_probe (run_id, n, site) VALUES ($1, $2, $3)"
                           " ON CONFLICT (run_id, n) DO NOTHING", body.run_id, body.n, settings.site)
    return ProbeAck(run_id=body.run_id, n=body.n, site=settings.site)


@router.get("/{run_id}", response_model=ProbeRun)
async def read_probe(run_id: Annotated[str, Path(pattern=RUN_ID_PATTERN)], pool: PoolDep,
                     principal: PrincipalDep, settings: SettingsDep) -> ProbeRun:
    require_purpose(principal, OPERATOR_PURPOSES)
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT n FROM dr_probe WHERE run_id = $1 ORDER BY n LIMIT $2",
                                run_id, MAX_LISTED)
    numbers = [r["n"] for r in rows]
    return ProbeRun(run_id=run_id, site=settings.site, count=len(numbers), numbers=numbers)
