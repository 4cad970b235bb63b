"""所得照会, JSON binding: the answer nhi gets when it asks directly (no hub in between)."""

from __future__ import annotations

from fastapi import APIRouter

from municloud.platform.models import IncomeInquiryResponse
from municloud.service.deps import (
    AuditDep,
    ConnDep,
    ParamsDep,
    PrincipalDep,
    log_accesses,
    require_purpose,
)
from services.tax import models as m
from services.tax.assessment import income_records

router = APIRouter(prefix="/income-inquiries", tags=["income inquiries"])
ASKERS = frozenset({"nhi_administration", "tax_assessment"})


@router.post("", response_model=IncomeInquiryResponse)
async def income_inquiry(body: m.IncomeInquiryIn, conn: ConnDep, principal: PrincipalDep,
                         params: ParamsDep, audit: AuditDep) -> IncomeInquiryResponse:
    require_purpose(principal, ASKERS)
    atenas = [s.atena_number for s in body.subjects]
    records = await income_records(conn, params, body.fiscal_year, atenas)
    await log_accesses(audit, principal, atenas, "income_inquiry")
    return IncomeInquiryResponse(fiscal_year=body.fiscal_year, records=records)
