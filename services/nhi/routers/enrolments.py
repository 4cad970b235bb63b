"""資格: enrolment state, staff enrolment / withdrawal, 資格確認書 (JSON + printable)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from municloud.service.deps import (
    AuditDep,
    ConnDep,
    PrincipalDep,
    SettingsDep,
    log_access,
    require_purpose,
)
from municloud.service.errors import ApiError, not_found
from municloud.service.render import render
from municloud.service.types import AtenaNumber, wareki_text
from services.nhi import models as m
from services.nhi.enrolment import acquire, lose

router = APIRouter(prefix="/insured", tags=["enrolment"])
JST = ZoneInfo("Asia/Tokyo")
NHI = frozenset({"nhi_administration"})
READERS = frozenset({"nhi_administration", "certificate_issuance"})


@router.get("/{atena_number}", response_model=m.EnrolmentPublic)
async def get_enrolment(atena_number: AtenaNumber, conn: ConnDep, principal: PrincipalDep,
                        audit: AuditDep) -> m.EnrolmentPublic:
    require_purpose(principal, READERS)
    row = await conn.fetchrow("SELECT * FROM enrolments WHERE atena_number = $1", atena_number)
    if row is None:
        raise not_found("enrolment", "atena_number")
    await log_access(audit, principal, atena_number, "enrolment:read")
    return m.EnrolmentPublic(**{k: row[k] for k in m.EnrolmentPublic.model_fields})


async def _change(body: m.EnrolmentChange, conn, principal, audit, acquiring: bool):
    require_purpose(principal, NHI)
    async with conn.transaction():
        person = await conn.fetchrow("SELECT status FROM persons WHERE atena_number = $1",
                                     body.atena_number)
        if person is None:
            raise not_found("person", "atena_number")
        if acquiring and person["status"] != "active":
            raise ApiError(409, "not_active", f"person is {person['status']}", "atena_number")
        changed = await (acquire if acquiring else lose)(
            conn, body.atena_number, body.event_date, body.reason, staff_id=principal.staff_id)
        if not changed:
            raise ApiError(409, "no_change", "already insured" if acquiring else "not insured",
                           "atena_number")
        row = await conn.fetchrow("SELECT * FROM enrolments WHERE atena_number = $1",
                                  body.atena_number)
    await log_access(audit, principal, body.atena_number,
                     "enrolment:acquire" if acquiring else "enrolment:lose")
    return m.EnrolmentPublic(**{k: row[k] for k in m.EnrolmentPublic.model_fields})


@router.post("/enrolments", status_code=201, response_model=m.EnrolmentPublic)
async def enrol(body: m.EnrolmentChange, conn: ConnDep, principal: PrincipalDep,
                audit: AuditDep) -> m.EnrolmentPublic:
    return await _change(body, conn, principal, audit, True)


@router.post("/withdrawals", status_code=201, response_model=m.EnrolmentPublic)
async def withdraw(body: m.EnrolmentChange, conn: ConnDep, principal: PrincipalDep,
                   audit: AuditDep) -> m.EnrolmentPublic:
    return await _change(body, conn, principal, audit, False)


async def build_certificate(request: Request, conn, principal, settings, audit,
                            atena_number: str) -> m.QualificationCertificate:
    require_purpose(principal, READERS)
    row = await conn.fetchrow(
        "SELECT p.*, e.insured, e.acquired_on, e.lost_on, h.family_name AS head_family,"
        " h.given_name AS head_given FROM persons p JOIN enrolments e USING (atena_number)"
        " LEFT JOIN persons h ON h.household_number = p.household_number"
        "  AND h.relationship_to_head = '世帯主' AND h.status = 'active'"
        " WHERE p.atena_number = $1", atena_number)
    if row is None:
        raise not_found("insured person", "atena_number")
    await log_access(audit, principal, atena_number, "qualification_certificate")
    now = datetime.now(UTC).astimezone(JST)
    params = request.app.state.params
    return m.QualificationCertificate(
        title="国民健康保険 資格確認書", insurer=getattr(params, "name", settings.lgcode),
        lgcode=settings.lgcode, insured_number=atena_number,
        name=f"{row['family_name']}　{row['given_name']}",
        name_kana=f"{row['family_name_kana'] or ''}　{row['given_name_kana'] or ''}".strip(),
        birth_date=wareki_text(row["birth_date"]), birth_date_iso=row["birth_date"],
        sex="男" if row["sex"] == "1" else "女", address=row["address"],
        head_of_household=(f"{row['head_family']}　{row['head_given']}"
                           if row["head_family"] else None),
        acquired_on=wareki_text(row["acquired_on"]), acquired_on_iso=row["acquired_on"],
        lost_on=wareki_text(row["lost_on"]), valid=bool(row["insured"]),
        issued_at=now.isoformat(timespec="seconds"), issued_at_wareki=wareki_text(now.date()),
        issued_by_staff=principal.staff_id)


@router.get("/{atena_number}/certificate", response_model=m.QualificationCertificate)
async def qualification_certificate(request: Request, atena_number: AtenaNumber, conn: ConnDep,
                                    principal: PrincipalDep, settings: SettingsDep,
                                    audit: AuditDep) -> m.QualificationCertificate:
    return await build_certificate(request, conn, principal, settings, audit, atena_number)


@router.get("/{atena_number}/certificate.html", response_class=HTMLResponse)
async def qualification_certificate_html(request: Request, atena_number: AtenaNumber,
                                         conn: ConnDep, principal: PrincipalDep,
                                         settings: SettingsDep, audit: AuditDep) -> HTMLResponse:
    c = await build_certificate(request, conn, principal, settings, audit, atena_number)
    return HTMLResponse(render("services.nhi", "qualification_certificate.html", c=c),
                        headers={"Cache-Control": "no-store"})
