"""Liveness (/healthz) and readiness (/readyz: the database answers; read_only on a standby)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from municloud.service.deps import PoolDep, SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(settings: SettingsDep) -> dict:
    return {"status": "ok", "service": settings.service_name, "lgcode": settings.lgcode}


@router.get("/readyz")
async def readyz(request: Request, pool: PoolDep, settings: SettingsDep) -> JSONResponse:
    try:
        async with pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, 503)
    # read_only: a warm DR service on a standby (municloud/service/read_only.py)
    return JSONResponse({"status": "ready", "service": settings.service_name,
                         "lgcode": settings.lgcode, "read_only": request.app.state.read_only})
