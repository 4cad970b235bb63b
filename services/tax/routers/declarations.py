"""申告 (income declarations): submit a revision, read the current one."""

from __future__ import annotations

from fastapi import APIRouter

from municloud.calc.resident_tax import ResidentTaxDeclaration
from municloud.service.deps import AuditDep, ConnDep, PrincipalDep, log_access, require_purpose
from municloud.service.errors import not_found
from municloud.service.types import AtenaNumber, ResidentTaxYearPath
from services.tax import models as m
from services.tax.assessment import store_declaration

router = APIRouter(prefix="/declarations", tags=["declarations"])


def _public(row) -> m.DeclarationPublic:
    data = dict(row)
    data["declaration"] = ResidentTaxDeclaration.model_validate_json(data["declaration"])
    return m.DeclarationPublic(**data)
TAX = frozenset({"tax_assessment"})


@router.post("", status_code=201, response_model=m.DeclarationPublic)
async def submit_declaration(body: m.DeclarationCreate, conn: ConnDep, principal: PrincipalDep,
                             audit: AuditDep) -> m.DeclarationPublic:
    require_purpose(principal, TAX)
    row = await store_declaration(conn, body.atena_number, body.fiscal_year, body.declaration,
                                  principal.staff_id)
    await log_access(audit, principal, body.atena_number, "declaration:submit")
    return _public(row)


@router.get("/{atena_number}/{fiscal_year}", response_model=m.DeclarationPublic)
async def get_declaration(atena_number: AtenaNumber, fiscal_year: ResidentTaxYearPath, conn: ConnDep,
                          principal: PrincipalDep, audit: AuditDep) -> m.DeclarationPublic:
    require_purpose(principal, TAX)
    row = await conn.fetchrow(
        "SELECT atena_number, fiscal_year, revision, declaration, staff_id,"
        " submitted_at::text AS submitted_at FROM declarations"
        " WHERE atena_number = $1 AND fiscal_year = $2 ORDER BY revision DESC LIMIT 1",
        atena_number, fiscal_year)
    if row is None:
        raise not_found("declaration", "fiscal_year")
    await log_access(audit, principal, atena_number, "declaration:read")
    return _public(row)
