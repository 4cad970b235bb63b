"""Taxpayers (own copy of residents) and the 課税証明書 (JSON and printable HTML)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from municloud import wareki
from municloud.calc.resident_tax import ResidentTaxBreakdown
from municloud.service.deps import (
    AuditDep,
    ConnDep,
    PrincipalDep,
    SettingsDep,
    log_access,
    require_purpose,
)
from municloud.service.errors import not_found
from municloud.service.render import render
from municloud.service.types import AtenaNumber, wareki_text
from services.tax import models as m
from services.tax.assessment import latest_assessment

router = APIRouter(prefix="/taxpayers", tags=["taxpayers"])
JST = ZoneInfo("Asia/Tokyo")
READERS = frozenset({"tax_assessment", "certificate_issuance"})


@router.get("/{atena_number}", response_model=m.TaxpayerPublic)
async def get_taxpayer(atena_number: AtenaNumber, conn: ConnDep, principal: PrincipalDep,
                       audit: AuditDep) -> m.TaxpayerPublic:
    require_purpose(principal, READERS)
    row = await conn.fetchrow("SELECT * FROM taxpayers WHERE atena_number = $1", atena_number)
    if row is None:
        raise not_found("taxpayer", "atena_number")
    await log_access(audit, principal, atena_number, "taxpayer:read")
    return m.TaxpayerPublic(**{k: row[k] for k in m.TaxpayerPublic.model_fields})


async def build_certificate(request: Request, conn, principal, settings, audit,
                            atena_number: str, fiscal_year: int) -> m.TaxCertificate:
    require_purpose(principal, READERS)
    person = await conn.fetchrow("SELECT * FROM taxpayers WHERE atena_number = $1", atena_number)
    if person is None:
        raise not_found("taxpayer", "atena_number")
    row = await latest_assessment(conn, atena_number, fiscal_year)
    if row is None:
        raise not_found(f"assessment for fiscal year {fiscal_year}", "fiscal_year")
    b = ResidentTaxBreakdown.model_validate_json(row["breakdown"])
    await log_access(audit, principal, atena_number, "tax_certificate")
    now = datetime.now(UTC).astimezone(JST)
    params = request.app.state.params
    fy_era = wareki.to_wareki(datetime(fiscal_year, 4, 1).date())
    return m.TaxCertificate(
        title="所得・課税証明書", municipality=getattr(params, "name", settings.lgcode),
        lgcode=settings.lgcode, fiscal_year=fiscal_year,
        fiscal_year_wareki=f"{fy_era.era.name}{'元' if fy_era.year == 1 else fy_era.year}年度",
        income_year=fiscal_year - 1,
        name=f"{person['family_name']}　{person['given_name']}", address=person["address"],
        birth_date=wareki_text(person["birth_date"]),
        salary_income=b.salary_income, salary_income_amount=b.salary_income_amount,
        public_pension_income=b.public_pension_income,
        public_pension_income_amount=b.public_pension_income_amount,
        other_income=b.other_income, total_income=b.total_income,
        total_deductions=b.total_deductions, taxable_income=b.taxable_income,
        municipal_income_levy=b.municipal_income_levy,
        prefectural_income_levy=b.prefectural_income_levy,
        municipal_per_capita=b.municipal_per_capita,
        prefectural_per_capita=b.prefectural_per_capita,
        forest_environment_tax=b.forest_environment_tax, total=b.total, non_taxable=b.non_taxable,
        issued_at=now.isoformat(timespec="seconds"),
        issued_at_wareki=wareki_text(now.date()), issued_by_staff=principal.staff_id)


@router.get("/{atena_number}/certificate", response_model=m.TaxCertificate)
async def tax_certificate(request: Request, atena_number: AtenaNumber, conn: ConnDep,
                          principal: PrincipalDep, settings: SettingsDep, audit: AuditDep,
                          fiscal_year: int = Query(ge=2024, le=2026)) -> m.TaxCertificate:
    return await build_certificate(request, conn, principal, settings, audit, atena_number,
                                   fiscal_year)


@router.get("/{atena_number}/certificate.html", response_class=HTMLResponse)
async def tax_certificate_html(request: Request, atena_number: AtenaNumber, conn: ConnDep,
                               principal: PrincipalDep, settings: SettingsDep, audit: AuditDep,
                               fiscal_year: int = Query(ge=2024, le=2026)) -> HTMLResponse:
    c = await build_certificate(request, conn, principal, settings, audit, atena_number,
                                fiscal_year)
    return HTMLResponse(render("services.tax", "tax_certificate.html", c=c),
                        headers={"Cache-Control": "no-store"})
