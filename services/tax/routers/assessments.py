"""賦課: compute 所得割 + 均等割 for a fiscal year; read one taxpayer's assessment."""

from __future__ import annotations

from fastapi import APIRouter

from municloud.calc.resident_tax import ResidentTaxBreakdown
from municloud.service.deps import (
    AuditDep,
    ConnDep,
    ParamsDep,
    PrincipalDep,
    log_access,
    log_accesses,
    require_purpose,
)
from municloud.service.errors import not_found
from municloud.service.types import AtenaNumber, ResidentTaxYearPath
from services.tax import models as m
from services.tax.assessment import assess, latest_assessment

router = APIRouter(prefix="/assessments", tags=["assessments"])
TAX = frozenset({"tax_assessment"})


@router.post("/{fiscal_year}", status_code=201, response_model=m.AssessmentSummary)
async def compute_assessments(fiscal_year: ResidentTaxYearPath, body: m.AssessmentRequest, conn: ConnDep,
                              principal: PrincipalDep, params: ParamsDep,
                              audit: AuditDep) -> m.AssessmentSummary:
    require_purpose(principal, TAX)
    computed, total, message = await assess(conn, params, fiscal_year, body.atena_numbers,
                                            principal.staff_id)
    if body.atena_numbers:
        await log_accesses(audit, principal, list(body.atena_numbers), "assessment:compute")
    if body.atena_numbers is None:
        await log_access(audit, principal, None, f"assessment:compute-all:{computed}")
    return m.AssessmentSummary(fiscal_year=fiscal_year, computed=computed, total_tax=total,
                               message=message)


@router.get("/{atena_number}/{fiscal_year}", response_model=m.AssessmentPublic)
async def get_assessment(atena_number: AtenaNumber, fiscal_year: ResidentTaxYearPath, conn: ConnDep,
                         principal: PrincipalDep, audit: AuditDep) -> m.AssessmentPublic:
    require_purpose(principal, TAX)
    row = await latest_assessment(conn, atena_number, fiscal_year)
    if row is None:
        raise not_found("assessment", "fiscal_year")
    await log_access(audit, principal, atena_number, "assessment:read")
    return m.AssessmentPublic(atena_number=atena_number, fiscal_year=fiscal_year,
                              revision=row["revision"], total=row["total"],
                              breakdown=ResidentTaxBreakdown.model_validate_json(row["breakdown"]),
                              computed_at=row["computed_at"].isoformat())
