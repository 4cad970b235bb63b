"""Typed dependencies shared by every service's routers (`Annotated` aliases).

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, which costs
more than the work they do on the read path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Header, Request

from municloud.audit import AccessEntry, AuditLog
from municloud.auth import Principal, TokenCache, TokenError, verify_token
from municloud.service.errors import ApiError
from municloud.service.settings import KitSettings, ServiceSettings


async def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
#: the settings of any process on the kit (a business service or the platform hub)
KitSettingsDep = Annotated[KitSettings, Depends(get_settings)]


async def get_pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]


async def get_conn(pool: PoolDep) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as conn:
        yield conn


ConnDep = Annotated[asyncpg.Connection, Depends(get_conn)]


async def get_audit(request: Request) -> AuditLog:
    return request.app.state.audit


AuditDep = Annotated[AuditLog, Depends(get_audit)]


async def get_params(request: Request) -> Any:
    params = request.app.state.params
    if params is None:
        raise ApiError(503, "params_unavailable", "municipality parameters are not configured")
    return params


ParamsDep = Annotated[Any, Depends(get_params)]


async def get_principal(
    request: Request, settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    """Bearer token of this municipality, for this service; 401 with a reason code otherwise."""
    return authenticate(request.app, authorization)


async def principal_of(request: Request) -> Principal:
    """The same check without dependency injection, for the benchmarked read paths, where
    FastAPI's per-request dependency solving costs more than the work itself."""
    return authenticate(request.app, request.headers.get("authorization"))


def authenticate(app, authorization: str | None) -> Principal:
    settings = app.state.settings
    challenge = {"WWW-Authenticate": 'Bearer realm="municloud"'}
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, "missing_token", "a bearer token is required", "authorization",
                       challenge)
    token = authorization.removeprefix("Bearer ").strip()
    cache: TokenCache = app.state.token_cache
    principal = cache.get(token)
    if principal is not None:
        return principal
    try:
        principal = verify_token(token, app.state.token_key, settings.lgcode,
                                 settings.service_name)
    except TokenError as exc:
        raise ApiError(401, exc.reason, exc.message, "authorization", challenge) from None
    cache.put(token, principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def log_access(audit: AuditLog, principal: Principal, resident_id: str | None,
                     action: str) -> None:
    """Record one access; refuse to answer if the access log cannot take it."""
    await log_accesses(audit, principal, [resident_id], action)


async def log_accesses(audit: AuditLog, principal: Principal,
                       resident_ids: list[str | None], action: str) -> None:
    """Record one access per resident, committed together (one batch, one wait)."""
    try:
        await audit.record_many([AccessEntry(principal.staff_id, principal.lgcode,
                                             principal.purpose, resident_id, action)
                                 for resident_id in resident_ids])
    except RuntimeError:
        raise ApiError(503, "audit_unavailable", "access log unavailable; request refused") from None


def require_purpose(principal: Principal, allowed: frozenset[str] | set[str]) -> None:
    """403 unless the token's 利用目的 is one this endpoint serves."""
    if principal.purpose not in allowed:
        raise ApiError(403, "purpose_not_allowed",
                       f"purpose {principal.purpose} is not allowed here "
                       f"(allowed: {', '.join(sorted(allowed))})", "purpose")
