"""Household premium (国民健康保険税) with municloud.calc.nhi_premium.

Members judged: everyone insured in the household plus the 世帯主 (a head outside 国保 is
the 擬制世帯主: not insured, but counted for 軽減). Incomes must be present for each judged
member (from tax, by 所得照会); a person tax has no declaration for (found = false) counts as
zero income — our design; in practice 軽減 needs a 申告 (OPEN)."""

from __future__ import annotations

import json

import asyncpg

from municloud.calc.errors import UnsupportedInput
from municloud.calc.nhi_premium import HouseholdMember, NhiHousehold, compute
from municloud.platform.models import IncomeInquiry, IncomeInquirySubject
from municloud.service import outbox
from municloud.service.errors import ApiError

HEAD = "世帯主"


async def household_members(conn: asyncpg.Connection, household_number: str) -> list:
    rows = await conn.fetch(
        "SELECT p.atena_number, p.birth_date, p.relationship_to_head,"
        " coalesce(e.insured, false) AS insured FROM persons p"
        " LEFT JOIN enrolments e USING (atena_number)"
        " WHERE p.household_number = $1 AND p.status = 'active'"
        " ORDER BY (p.relationship_to_head <> '世帯主'), p.birth_date, p.atena_number",
        household_number)
    judged = [r for r in rows if r["insured"] or r["relationship_to_head"] == HEAD]
    if not judged:
        raise ApiError(404, "not_found", "household unknown to nhi", "household_number")
    if not any(r["insured"] for r in judged):
        raise ApiError(409, "no_insured", "nobody in the household is insured", "household_number")
    if sum(r["relationship_to_head"] == HEAD for r in judged) != 1:
        raise ApiError(409, "no_head", "the household has no 世帯主 on record", "household_number")
    return judged


async def missing_incomes(conn, members: list, fiscal_year: int) -> list[str]:
    have = {r["atena_number"] for r in await conn.fetch(
        "SELECT atena_number FROM member_incomes WHERE fiscal_year = $1"
        " AND atena_number = ANY($2::text[])", fiscal_year, [m["atena_number"] for m in members])}
    return [m["atena_number"] for m in members if m["atena_number"] not in have]


async def request_incomes(conn, lgcode: str, fiscal_year: int, atena_numbers: list[str]) -> None:
    """Queue a 所得照会 to tax through the hub (answered at the inbox)."""
    await outbox.enqueue(
        conn, IncomeInquiry(fiscal_year=fiscal_year, purpose="国民健康保険税の賦課",
                            subjects=[IncomeInquirySubject(atena_number=a) for a in atena_numbers]),
        receiver_unit="tax", receiver_lgcode=lgcode, source_ref=f"premium:{fiscal_year}")


async def compute_premium(conn, params, household_number: str, fiscal_year: int, members: list,
                          staff_id: str):
    incomes = {r["atena_number"]: r for r in await conn.fetch(
        "SELECT * FROM member_incomes WHERE fiscal_year = $1 AND atena_number = ANY($2::text[])",
        fiscal_year, [m["atena_number"] for m in members])}
    household = NhiHousehold(members=[
        HouseholdMember(
            birth_date=m["birth_date"], insured=m["insured"],
            is_head=m["relationship_to_head"] == HEAD,
            total_income=incomes[m["atena_number"]]["total_income"] or 0,
            salary_or_pension_earner=bool(incomes[m["atena_number"]]["is_earner"]))
        for m in members])
    try:
        nhi_params = params.nhi_for(fiscal_year)
    except KeyError:
        raise ApiError(422, "unsupported", f"no NHI parameters for fiscal year {fiscal_year}",
                       "fiscal_year") from None
    except UnsupportedInput as exc:  # a year outside municloud.params.FISCAL_YEARS
        raise ApiError(422, "unsupported", exc.reason, exc.field) from None
    try:
        breakdown = compute(household, nhi_params, fiscal_year)
    except UnsupportedInput as exc:
        raise ApiError(422, "unsupported", exc.reason, exc.field) from None
    used = [{"atena_number": m["atena_number"], "insured": m["insured"],
             "head": m["relationship_to_head"] == HEAD} for m in members]
    revision = await conn.fetchval(
        "INSERT INTO premiums (household_number, fiscal_year, revision, total, breakdown, members,"
        " staff_id) SELECT $1, $2, coalesce(max(revision), 0) + 1, $3, $4, $5, $6 FROM premiums"
        " WHERE household_number = $1 AND fiscal_year = $2 RETURNING revision",
        household_number, fiscal_year, breakdown.total, breakdown.model_dump_json(),
        json.dumps(used), staff_id)
    return revision, breakdown, used
