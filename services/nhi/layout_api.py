"""国民健康保険 in the intermediate standard layout (中間標準レイアウト): export / import.

Maps municloud/layout/definitions/nhi.yaml onto persons, enrolments (+ their history),
member_incomes (newest fiscal year per person) and premiums (the household's newest fiscal
year and revision, on the 世帯主's row). An import recomputes each premium with this service's
own computation (services.nhi.premium, municloud.calc.nhi_premium) from the imported members
and incomes: a file whose figures are not reproduced is refused (422, line and item).
Include with ``routers=[..., layout_api.router]``.
"""

from __future__ import annotations

import json

import asyncpg

from municloud.layout import LayoutIssue, load_layout
from municloud.layout.person_copy import COLUMNS, person_cells, person_records
from municloud.layout.router import ImportContext, LayoutStore, Row, RowIssues, make_layout_router
from municloud.service.errors import ApiError
from services.nhi.premium import compute_premium, household_members

LAYOUT = load_layout("国民健康保険")
PARTS = {"medical_levy": "medical", "support_levy": "support", "care_levy": "care"}
INCOME_ITEMS = ("total_income", "salary_income", "pension_income")

_EXPORT = """
SELECT p.*, e.insured, e.acquired_on, e.lost_on, e.reason,
       i.fiscal_year AS income_fiscal_year, i.found, i.total_income, i.salary_income,
       i.pension_income, i.is_earner
FROM persons p
LEFT JOIN enrolments e ON e.atena_number = p.atena_number
LEFT JOIN (SELECT DISTINCT ON (atena_number) * FROM member_incomes
           ORDER BY atena_number, fiscal_year DESC) i ON i.atena_number = p.atena_number
ORDER BY p.atena_number
"""
_PREMIUMS = """
SELECT DISTINCT ON (household_number) household_number, fiscal_year, breakdown, members
FROM premiums ORDER BY household_number, fiscal_year DESC, revision DESC
"""


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("1" if value else "0")


def _premium_cells(fiscal_year: int, breakdown: dict) -> Row:
    amounts = {p["part"]: p["amount"] for p in breakdown["parts"]}
    row: Row = {key: amounts.get(part, 0) for key, part in PARTS.items()}
    row.update(premium_fiscal_year=fiscal_year, total_levy=breakdown["total"])
    return row


async def export_rows(conn: asyncpg.Connection) -> list[Row]:
    premiums = {}
    for p in await conn.fetch(_PREMIUMS):
        members = json.loads(p["members"])
        head = next((m["atena_number"] for m in members if m.get("head")),
                    members[0]["atena_number"])
        premiums[head] = _premium_cells(p["fiscal_year"], json.loads(p["breakdown"]))
    rows = []
    for r in await conn.fetch(_EXPORT):
        row = person_cells(r)
        row.update(insured=_flag(r["insured"]), acquired_on=r["acquired_on"],
                   lost_on=r["lost_on"], qualification_reason=r["reason"],
                   income_fiscal_year=r["income_fiscal_year"], income_found=_flag(r["found"]),
                   total_income=r["total_income"], salary_income=r["salary_income"],
                   pension_income=r["pension_income"], is_earner=_flag(r["is_earner"]))
        row.update(premiums.get(r["atena_number"], dict.fromkeys(
            ("premium_fiscal_year", *PARTS, "total_levy"))))
        rows.append(row)
    return rows


async def is_empty(conn: asyncpg.Connection) -> bool:
    return not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM persons)")


async def import_rows(conn: asyncpg.Connection, rows: list[Row],
                      context: ImportContext) -> list[str]:
    people, issues = person_records(LAYOUT, rows)
    if issues:
        raise RowIssues(issues)
    staff = context.principal.staff_id
    await conn.copy_records_to_table("persons", columns=list(COLUMNS.values()), records=people)
    enrolled = [r for r in rows if r["insured"] is not None]
    await conn.copy_records_to_table(
        "enrolments", columns=["atena_number", "insured", "acquired_on", "lost_on", "reason"],
        records=[(r["atena_number"], r["insured"] == "1", r["acquired_on"], r["lost_on"],
                  r["qualification_reason"]) for r in enrolled])
    events = [(r["atena_number"], "acquire", r["acquired_on"], r["qualification_reason"], staff)
              for r in enrolled]
    events += [(r["atena_number"], "lose", r["lost_on"], r["qualification_reason"], staff)
               for r in enrolled if r["lost_on"] is not None]
    await conn.copy_records_to_table(
        "enrolment_events", records=events,
        columns=["atena_number", "event", "event_date", "reason", "staff_id"])
    await conn.copy_records_to_table(
        "member_incomes",
        columns=["atena_number", "fiscal_year", "found", "total_income", "salary_income",
                 "pension_income", "is_earner", "source"],
        records=[(r["atena_number"], r["income_fiscal_year"], r["income_found"] == "1",
                  *(r[k] for k in INCOME_ITEMS),
                  None if r["is_earner"] is None else r["is_earner"] == "1",
                  f"layout_import:{staff}") for r in rows if r["income_fiscal_year"]])
    for line, row in enumerate(rows, start=2):
        if row["premium_fiscal_year"] is not None:
            issues += await _recompute(conn, context, row, line)
    if issues:
        raise RowIssues(issues)
    return [str(p[0]) for p in people]


async def _recompute(conn: asyncpg.Connection, context: ImportContext, row: Row,
                     line: int) -> list[LayoutIssue]:
    if context.params is None:
        raise ApiError(503, "params_unavailable", "municipality parameters are needed to "
                                                  "check imported premiums")
    fiscal_year = int(row["premium_fiscal_year"])  # type: ignore[arg-type]
    try:
        members = await household_members(conn, str(row["household_number"]))
        _, breakdown, _ = await compute_premium(conn, context.params, str(
            row["household_number"]), fiscal_year, members, context.principal.staff_id)
    except ApiError as exc:
        return [LayoutIssue(line, LAYOUT.item("premium_fiscal_year").name, exc.message)]
    except KeyError:
        return [LayoutIssue(line, LAYOUT.item("premium_fiscal_year").name,
                            "a member of the household has no 所得 for that fiscal year")]
    expected = _premium_cells(fiscal_year, breakdown.model_dump())
    return [LayoutIssue(line, LAYOUT.item(key).name,
                        f"differs from the computation with this municipality's parameters "
                        f"({expected[key]})")
            for key in (*PARTS, "total_levy") if expected[key] != row[key]]


router = make_layout_router(LAYOUT, LayoutStore(export_rows, is_empty, import_rows))
