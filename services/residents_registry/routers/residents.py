"""Residents: search, one resident, 異動履歴, 住民票の写し (JSON and printable HTML)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from municloud.auth import Principal
from municloud.rules import Rule, operation_rules
from municloud.service.deps import AuditDep, ConnDep, PrincipalDep, log_access, log_accesses, principal_of
from municloud.service.errors import ApiError, not_found
from municloud.service.types import AtenaNumber, AtenaNumberRawPath, FlexibleDate, validate_path_atena, wareki_text
from services.residents_registry import models as m
from services.residents_registry.certificate import render_certificate_html

router = APIRouter(prefix="/residents", tags=["residents"])
JST = ZoneInfo("Asia/Tokyo")
MASKED = "************"
_CRITERIA = ("family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date")
#: a search names at least one criterion (an empty name is no criterion): never the whole register
SEARCH_CRITERION = Rule(
    "search-criterion", "family_name_kana", "give at least one search criterion",
    check={"kind": "at-least-one-of", "in": "query", "of": list(_CRITERIA)})


def _shown_number(row, principal: Principal) -> str | None:
    if row["individual_number"] is None:
        return None
    return row["individual_number"] if principal.may_see_my_number else MASKED


@router.get("", response_model=list[m.ResidentSummary], openapi_extra=operation_rules(SEARCH_CRITERION))
async def search_residents(
    conn: ConnDep, principal: PrincipalDep, audit: AuditDep,
    family_name: Annotated[str | None, Query(max_length=60)] = None,
    given_name: Annotated[str | None, Query(max_length=60)] = None,
    family_name_kana: Annotated[str | None, Query(max_length=120)] = None,
    given_name_kana: Annotated[str | None, Query(max_length=120)] = None,
    birth_date: Annotated[FlexibleDate | None, Query()] = None,
    status: Annotated[str, Query(pattern="^(active|moved_out|deceased|any)$")] = "active",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[m.ResidentSummary]:
    """Search by name (prefix), kana (prefix) and birth date; at least one criterion."""
    clauses, args = [], []
    for column, value in (("family_name", family_name), ("given_name", given_name),
                          ("family_name_kana", family_name_kana),
                          ("given_name_kana", given_name_kana)):
        if value:
            args.append(value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
            clauses.append(f"{column} LIKE ${len(args)}")
    if birth_date is not None:
        args.append(birth_date)
        clauses.append(f"birth_date = ${len(args)}")
    if not clauses:
        raise ApiError(422, "invalid", SEARCH_CRITERION.message, SEARCH_CRITERION.field)
    if status != "any":
        args.append(status)
        clauses.append(f"status = ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT * FROM residents WHERE {' AND '.join(clauses)}"
        f" ORDER BY family_name_kana, given_name_kana, atena_number LIMIT ${len(args)}", *args)
    await log_accesses(audit, principal, [r["atena_number"] for r in rows], "search")
    return [m.ResidentSummary(**{k: row[k] for k in m.ResidentSummary.model_fields}) for row in rows]


async def _resident(conn, atena_number: str):
    row = await conn.fetchrow("SELECT * FROM residents WHERE atena_number = $1", atena_number)
    if row is None:
        raise not_found("resident", "atena_number")
    return row


@router.get("/{atena_number}", response_model=m.ResidentPublic)
async def get_resident(atena_number: AtenaNumber, conn: ConnDep, principal: PrincipalDep,
                       audit: AuditDep) -> m.ResidentPublic:
    row = await _resident(conn, atena_number)
    await log_access(audit, principal, atena_number, "read")
    data = {k: row[k] for k in m.ResidentPublic.model_fields}
    data["individual_number"] = _shown_number(row, principal)
    return m.ResidentPublic(**data)


@router.get("/{atena_number}/movements", response_model=list[m.MovementPublic])
async def resident_history(atena_number: AtenaNumber, conn: ConnDep, principal: PrincipalDep,
                           audit: AuditDep) -> list[m.MovementPublic]:
    """異動履歴 of one resident, oldest first."""
    await _resident(conn, atena_number)
    rows = await conn.fetch(
        "SELECT movement_id, atena_number, kind, event_date, notification_date,"
        " recorded_at::text AS recorded_at, staff_id FROM movements WHERE atena_number = $1"
        " ORDER BY movement_id", atena_number)
    await log_access(audit, principal, atena_number, "history")
    return [m.MovementPublic(**dict(r)) for r in rows]


async def build_certificate(request: Request, conn, principal: Principal, settings,
                            atena_number: str, household: bool, include_my_number: bool,
                            include_resident_record_code: bool) -> m.ResidentCertificate:
    """住民票の写し of one person (or the whole household, 世帯全員)."""
    if include_my_number and not principal.may_see_my_number:
        raise ApiError(403, "purpose_not_allowed",
                       f"purpose {principal.purpose} may not include the 個人番号",
                       "include_my_number")
    subject = await conn.fetchrow(
        "SELECT r.*, hr.family_name AS head_family_name, hr.given_name AS head_given_name"
        " FROM residents r JOIN households h USING (household_number)"
        " LEFT JOIN residents hr ON hr.atena_number = h.head_atena_number"
        " WHERE r.atena_number = $1", atena_number)
    if subject is None:
        raise not_found("resident", "atena_number")
    if household:
        rows = await conn.fetch(
            "SELECT * FROM residents WHERE household_number = $1 AND status = 'active'"
            " ORDER BY (relationship_to_head <> '世帯主'), birth_date, atena_number",
            subject["household_number"])
    else:
        rows = [subject]
    params = request.app.state.params
    municipality = getattr(params, "name", None) or settings.lgcode
    now = datetime.now(UTC).astimezone(JST)
    entries = [
        m.CertificateEntry.model_construct(
            name=f"{r['family_name']}　{r['given_name']}",
            name_kana=f"{r['family_name_kana']}　{r['given_name_kana']}",
            birth_date=m.DatePair.of(r["birth_date"]), sex="男" if r["sex"] == "1" else "女",
            relationship_to_head=r["relationship_to_head"],
            resident_since=m.DatePair.of(r["resident_since"]),
            address_date=m.DatePair.of(r["address_date"]),
            notification_date=m.DatePair.of(r["notification_date"]),
            previous_address=r["previous_address"],
            resident_record_code=r["resident_record_code"] if include_resident_record_code else None,
            individual_number=r["individual_number"] if include_my_number else None,
            status={"active": "在籍", "moved_out": "転出", "deceased": "死亡"}[r["status"]],
            status_date=m.DatePair.of(r["status_date"]),
        )
        for r in rows
    ]
    await log_accesses(audit_of(request), principal, [r["atena_number"] for r in rows],
                       "certificate+my_number" if include_my_number else "certificate")
    # model_construct: every value comes from validated rows; skipping re-validation halves
    # the CPU of the benchmarked read path's model work.
    return m.ResidentCertificate.model_construct(
        title="住民票の写し" + ("（世帯全員）" if household else ""),
        municipality=municipality, lgcode=settings.lgcode, address=subject["address"],
        head_of_household=(f"{subject['head_family_name']}　{subject['head_given_name']}"
                           if subject["head_family_name"] else None),
        household_number=subject["household_number"], entries=entries,
        issued_at=now.isoformat(timespec="seconds"),
        issued_at_wareki=wareki_text(now.date()) + now.strftime(" %H時%M分"),
        issued_by_staff=principal.staff_id, purpose=principal.purpose,
        individual_number_included=include_my_number,
        resident_record_code_included=include_resident_record_code)


def audit_of(request: Request):
    return request.app.state.audit


@router.get("/{atena_number}/certificate", response_model=m.ResidentCertificate)
async def resident_certificate(
    request: Request, atena_number: AtenaNumberRawPath, household: bool = False,
    include_my_number: bool = False, include_resident_record_code: bool = False,
) -> Response:
    """住民票の写し as JSON. The benchmarked read path: no injected dependencies (see
    municloud.service.deps.principal_of), one query, one serialisation."""
    principal = await principal_of(request)
    atena_number = validate_path_atena(atena_number)
    app = request.app
    async with app.state.pool.acquire() as conn:
        certificate = await build_certificate(request, conn, principal, app.state.settings,
                                              atena_number, household, include_my_number,
                                              include_resident_record_code)
    return Response(certificate.model_dump_json(), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@router.get("/{atena_number}/certificate.html", response_class=HTMLResponse)
async def resident_certificate_html(
    request: Request, atena_number: AtenaNumberRawPath, household: bool = False,
    include_my_number: bool = False, include_resident_record_code: bool = False,
) -> HTMLResponse:
    principal = await principal_of(request)
    atena_number = validate_path_atena(atena_number)
    async with request.app.state.pool.acquire() as conn:
        certificate = await build_certificate(request, conn, principal,
                                              request.app.state.settings, atena_number,
                                              household, include_my_number,
                                              include_resident_record_code)
    return HTMLResponse(render_certificate_html(certificate),
                        headers={"Cache-Control": "no-store"})
