"""個人住民税 in the intermediate standard layout (中間標準レイアウト): export / import.

Maps municloud/layout/definitions/tax.yaml onto taxpayers, declarations (the newest revision per
fiscal year) and assessments (the newest revision). An import writes revision 1 of each and
recomputes every assessment with municloud.calc.resident_tax and this municipality's
parameters: a file whose figures the computation does not reproduce is refused (422, line and
item), so the imported figures are the ones this system would assess. Include with
``routers=[..., layout_api.router]``.
"""

from __future__ import annotations

import asyncpg
from pydantic import ValidationError

from municloud.calc.errors import UnsupportedInput
from municloud.calc.resident_tax import (
    Dependant,
    ResidentTaxDeclaration,
    Spouse,
    compute,
)
from municloud.layout import LayoutIssue, load_layout
from municloud.layout.person_copy import COLUMNS, person_cells, person_records
from municloud.layout.router import ImportContext, LayoutStore, Row, RowIssues, make_layout_router
from municloud.service.errors import ApiError

LAYOUT = load_layout("個人住民税")
FIGURES = {"total_income": "total_income", "taxable_income": "taxable_income",
           "municipal_tax": "municipal_total", "prefectural_tax": "prefectural_total",
           "total_tax": "total"}

_EXPORT = """
SELECT t.*, d.fiscal_year, d.declaration, a.total_income, a.taxable_income,
       a.municipal_total, a.prefectural_total, a.total
FROM taxpayers t
LEFT JOIN (SELECT DISTINCT ON (atena_number, fiscal_year) atena_number, fiscal_year, declaration
           FROM declarations ORDER BY atena_number, fiscal_year, revision DESC) d
       ON d.atena_number = t.atena_number
LEFT JOIN (SELECT DISTINCT ON (atena_number, fiscal_year) * FROM assessments
           ORDER BY atena_number, fiscal_year, revision DESC) a
       ON a.atena_number = t.atena_number AND a.fiscal_year = d.fiscal_year
ORDER BY t.atena_number, d.fiscal_year
"""


def format_dependants(dependants: list[Dependant]) -> str | None:
    return ";".join(f"{d.age}:{d.total_income}:{int(d.cohabiting_parent)}"
                    for d in dependants) or None


def parse_dependants(text: str | None) -> list[Dependant]:
    """Inverse of format_dependants; ValueError names what is wrong."""
    if not text:
        return []
    dependants = []
    for number, entry in enumerate(text.split(";"), start=1):
        parts = entry.split(":")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts) \
                or parts[2] not in ("0", "1"):
            raise ValueError(f"entry {number} is not 年齢:合計所得金額:同居老親(0|1)")
        dependants.append(Dependant(age=int(parts[0]), total_income=int(parts[1]),
                                    cohabiting_parent=parts[2] == "1"))
    return dependants


def _declaration_cells(declaration: ResidentTaxDeclaration) -> Row:
    return {
        "age": declaration.age, "salary_income": declaration.salary_income,
        "pension_income": declaration.public_pension_income,
        "other_income": declaration.other_income,
        "social_insurance": declaration.social_insurance_paid,
        "life_insurance": declaration.life_insurance_deduction,
        "special_non_taxable": "1" if declaration.special_non_taxable else "0",
        "spouse_age": declaration.spouse.age if declaration.spouse else None,
        "spouse_income": declaration.spouse.total_income if declaration.spouse else None,
        "dependants": format_dependants(declaration.dependants),
    }


async def export_rows(conn: asyncpg.Connection) -> list[Row]:
    rows = []
    for r in await conn.fetch(_EXPORT):
        row = person_cells(r)
        row["fiscal_year"] = r["fiscal_year"]
        if r["declaration"] is not None:
            row.update(_declaration_cells(
                ResidentTaxDeclaration.model_validate_json(r["declaration"])))
        row.update({key: r[column] for key, column in FIGURES.items()})
        rows.append(row)
    return rows


async def is_empty(conn: asyncpg.Connection) -> bool:
    return not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM taxpayers)")


def _declaration(row: Row) -> ResidentTaxDeclaration:
    spouse = (Spouse(age=row["spouse_age"], total_income=row["spouse_income"])
              if row["spouse_age"] is not None else None)
    return ResidentTaxDeclaration(
        age=row["age"], salary_income=row["salary_income"],
        public_pension_income=row["pension_income"], other_income=row["other_income"],
        social_insurance_paid=row["social_insurance"],
        life_insurance_deduction=row["life_insurance"],
        special_non_taxable=row["special_non_taxable"] == "1", spouse=spouse,
        dependants=parse_dependants(row["dependants"]))  # type: ignore[arg-type]


async def import_rows(conn: asyncpg.Connection, rows: list[Row],
                      context: ImportContext) -> list[str]:
    people, issues = person_records(LAYOUT, rows)
    declarations, assessments = [], []
    for line, row in enumerate(rows, start=2):
        if row["fiscal_year"] is None:
            continue
        try:
            declaration = _declaration(row)
        except (ValueError, ValidationError) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            item = "dependants" if "entry" in reason else "age"
            issues.append(LayoutIssue(line, LAYOUT.item(item).name, reason[:200]))
            continue
        fiscal_year = int(row["fiscal_year"])  # type: ignore[arg-type]
        declarations.append((row["atena_number"], fiscal_year, 1,
                             declaration.model_dump_json(), context.principal.staff_id))
        if row["total_tax"] is None:
            continue
        if context.params is None:
            raise ApiError(503, "params_unavailable", "municipality parameters are needed to "
                                                      "check imported assessments")
        try:
            b = compute(declaration, context.params.resident_tax, fiscal_year)
        except UnsupportedInput as exc:
            issues.append(LayoutIssue(line, LAYOUT.item("fiscal_year").name, exc.reason))
            continue
        for key, attr in FIGURES.items():
            if getattr(b, attr) != row[key]:
                issues.append(LayoutIssue(line, LAYOUT.item(key).name,
                                          f"differs from the computation with this "
                                          f"municipality's parameters ({getattr(b, attr)})"))
        assessments.append((row["atena_number"], fiscal_year, 1, 1, b.total_income,
                            b.taxable_income, b.municipal_total, b.prefectural_total, b.total,
                            b.model_dump_json(), context.principal.staff_id))
    if issues:
        raise RowIssues(sorted(issues, key=lambda i: i.line))
    await conn.copy_records_to_table("taxpayers", columns=list(COLUMNS.values()), records=people)
    await conn.copy_records_to_table(
        "declarations", records=declarations,
        columns=["atena_number", "fiscal_year", "revision", "declaration", "staff_id"])
    await conn.copy_records_to_table(
        "assessments", records=assessments,
        columns=["atena_number", "fiscal_year", "revision", "declaration_revision",
                 "total_income", "taxable_income", "municipal_total", "prefectural_total",
                 "total", "breakdown", "staff_id"])
    return [str(p[0]) for p in people]


router = make_layout_router(LAYOUT, LayoutStore(export_rows, is_empty, import_rows))
