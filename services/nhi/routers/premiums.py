"""Household premiums: compute (asking tax for missing incomes) and read; income records."""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from municloud.calc.nhi_premium import NhiPremiumBreakdown
from municloud.platform.models import IncomeInquiryResponse
from municloud.service.deps import (
    AuditDep,
    ConnDep,
    ParamsDep,
    PrincipalDep,
    SettingsDep,
    log_accesses,
    require_purpose,
)
from municloud.service.errors import ApiError, not_found
from municloud.service.types import HouseholdNumber, NhiYearPath
from services.nhi import models as m
from services.nhi.incomes import store_income_records
from services.nhi.premium import compute_premium, household_members, missing_incomes, request_incomes

router = APIRouter(tags=["premiums"])
NHI = frozenset({"nhi_administration"})


@router.post("/premiums/{household_number}/{fiscal_year}", status_code=201,
             response_model=m.PremiumPublic,
             responses={202: {"model": m.PremiumPending}, 409: {"description": "incomes missing"}})
async def compute_household_premium(household_number: HouseholdNumber, fiscal_year: NhiYearPath,
                                    conn: ConnDep, principal: PrincipalDep, params: ParamsDep,
                                    settings: SettingsDep, audit: AuditDep):
    require_purpose(principal, NHI)
    async with conn.transaction():
        members = await household_members(conn, household_number)
        missing = await missing_incomes(conn, members, fiscal_year)
        if missing and settings.platform_enabled:
            await request_incomes(conn, settings.lgcode, fiscal_year, missing)
        elif not missing:
            revision, breakdown, used = await compute_premium(
                conn, params, household_number, fiscal_year, members, principal.staff_id)
    await log_accesses(audit, principal, [mb["atena_number"] for mb in members], "premium:compute")
    if missing and settings.platform_enabled:
        pending = m.PremiumPending(
            household_number=household_number, fiscal_year=fiscal_year, status="income_inquiry_sent",
            missing_incomes=missing,
            message=f"所得照会 for {len(missing)} member(s) sent to tax through the hub; retry "
                    "when the answer has arrived")
        return JSONResponse(pending.model_dump(mode="json"), 202)
    if missing:
        raise ApiError(409, "income_missing",
                       f"incomes of {len(missing)} member(s) for fiscal year {fiscal_year} are "
                       "not on record; HUB_URL is unset: post tax's 所得照会 answer to "
                       "/api/v1/income-records", "household_number")
    return m.PremiumPublic(household_number=household_number, fiscal_year=fiscal_year,
                           revision=revision, total=breakdown.total, members=used,
                           breakdown=breakdown)


@router.get("/premiums/{household_number}/{fiscal_year}", response_model=m.PremiumPublic)
async def get_household_premium(household_number: HouseholdNumber, fiscal_year: NhiYearPath,
                                conn: ConnDep, principal: PrincipalDep,
                                audit: AuditDep) -> m.PremiumPublic:
    require_purpose(principal, NHI)
    row = await conn.fetchrow(
        "SELECT * FROM premiums WHERE household_number = $1 AND fiscal_year = $2"
        " ORDER BY revision DESC LIMIT 1", household_number, fiscal_year)
    if row is None:
        raise not_found("premium", "fiscal_year")
    members = json.loads(row["members"])
    await log_accesses(audit, principal, [mb["atena_number"] for mb in members], "premium:read")
    return m.PremiumPublic(household_number=household_number, fiscal_year=fiscal_year,
                           revision=row["revision"], total=row["total"], members=members,
                           breakdown=NhiPremiumBreakdown.model_validate_json(row["breakdown"]))


@router.post("/income-records", status_code=201)
async def post_income_records(body: IncomeInquiryResponse, conn: ConnDep, principal: PrincipalDep,
                              audit: AuditDep) -> dict:
    """Store tax's 所得照会 answer (the path used when HUB_URL is unset)."""
    require_purpose(principal, NHI)
    async with conn.transaction():
        stored = await store_income_records(conn, body, f"api:{principal.staff_id}")
    await log_accesses(audit, principal, [r.atena_number for r in body.records], "income:store")
    return {"stored": stored, "fiscal_year": body.fiscal_year}
