"""Liveness (/healthz) and readiness (/readyz: the database answers; read_only on a standby)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from municloud.service.deps import KitSettingsDep, PoolDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(settings: KitSettingsDep) -> dict:
    return {"status": "ok", **settings.identity()}


@router.get("/readyz")
async def readyz(request: Request, pool: PoolDep, settings: KitSettingsDep) -> JSONResponse:
    try:
        async with pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
    # read_only: a warm DR service on a standby (municloud/service/read_only.py)
    return JSONResponse({"status": "ready", **settings.identity(),
                         "read_only": request.app.state.read_only})
