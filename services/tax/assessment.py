"""Assessment (賦課) with municloud.calc.resident_tax, and income records for 所得照会."""

from __future__ import annotations

import json
import time

import asyncpg

from municloud.calc.errors import UnsupportedInput
from municloud.calc.resident_tax import ResidentTaxBreakdown, ResidentTaxDeclaration, compute
from municloud.platform.models import IncomeRecord
from municloud.service.errors import ApiError

LATEST_DECLARATIONS = """
SELECT DISTINCT ON (atena_number) atena_number, revision, declaration
FROM declarations
WHERE fiscal_year = $1 AND ($2::text[] IS NULL OR atena_number = ANY($2::text[]))
ORDER BY atena_number, revision DESC
"""


def _compute(declaration: ResidentTaxDeclaration, params, fiscal_year: int,
             field: str) -> ResidentTaxBreakdown:
    try:
        return compute(declaration, params.resident_tax, fiscal_year)
    except UnsupportedInput as exc:
        raise ApiError(422, "unsupported", exc.reason, f"{field}.{exc.field}") from None


async def assess(conn: asyncpg.Connection, params, fiscal_year: int,
                 atena_numbers: list[str] | None, staff_id: str) -> tuple[int, int, str]:
    """Compute and store the assessment of every (listed) taxpayer with a declaration."""
    started = time.monotonic()
    async with conn.transaction():
        rows = await conn.fetch(LATEST_DECLARATIONS, fiscal_year, atena_numbers)
        if atena_numbers is not None:
            missing = sorted(set(atena_numbers) - {r["atena_number"] for r in rows})
            if missing:
                index = atena_numbers.index(missing[0])
                raise ApiError(404, "not_found", f"no declaration for fiscal year {fiscal_year}",
                               f"atena_numbers.{index}")
        revisions = {r["atena_number"]: r["revision"] for r in await conn.fetch(
            "SELECT atena_number, max(revision) AS revision FROM assessments"
            " WHERE fiscal_year = $1 GROUP BY atena_number", fiscal_year)}
        records, total_tax = [], 0
        for row in rows:
            declaration = ResidentTaxDeclaration.model_validate_json(row["declaration"])
            b = _compute(declaration, params, fiscal_year, "declaration")
            total_tax += b.total
            records.append((row["atena_number"], fiscal_year,
                            revisions.get(row["atena_number"], 0) + 1, row["revision"],
                            b.total_income, b.taxable_income, b.municipal_total,
                            b.prefectural_total, b.total, b.model_dump_json(), staff_id))
        await conn.copy_records_to_table(
            "assessments", records=records,
            columns=["atena_number", "fiscal_year", "revision", "declaration_revision",
                     "total_income", "taxable_income", "municipal_total", "prefectural_total",
                     "total", "breakdown", "staff_id"])
    return len(records), total_tax, (
        f"assessed {len(records)} taxpayer(s) for fiscal year {fiscal_year}: total "
        f"{total_tax:,} yen in {time.monotonic() - started:.2f} s")


async def latest_assessment(conn: asyncpg.Connection, atena_number: str, fiscal_year: int):
    return await conn.fetchrow(
        "SELECT * FROM assessments WHERE atena_number = $1 AND fiscal_year = $2"
        " ORDER BY revision DESC LIMIT 1", atena_number, fiscal_year)


async def income_records(conn: asyncpg.Connection, params, fiscal_year: int,
                         atena_numbers: list[str]) -> list[IncomeRecord]:
    """所得照会 answers, in the order asked: from the assessment, else from the declaration."""
    assessed = {r["atena_number"]: r["breakdown"] for r in await conn.fetch(
        "SELECT DISTINCT ON (atena_number) atena_number, breakdown FROM assessments"
        " WHERE fiscal_year = $1 AND atena_number = ANY($2::text[])"
        " ORDER BY atena_number, revision DESC", fiscal_year, atena_numbers)}
    declared = {r["atena_number"]: r["declaration"] for r in await conn.fetch(
        LATEST_DECLARATIONS, fiscal_year, atena_numbers)}
    records = []
    for atena in atena_numbers:
        if atena in assessed:
            b = ResidentTaxBreakdown.model_validate_json(assessed[atena])
        elif atena in declared:
            b = _compute(ResidentTaxDeclaration.model_validate_json(declared[atena]), params,
                         fiscal_year, "declaration")
        else:
            records.append(IncomeRecord(atena_number=atena, found=False))
            continue
        records.append(IncomeRecord(
            atena_number=atena, found=True, total_income=b.total_income,
            salary_income=b.salary_income_amount, pension_income=b.public_pension_income_amount,
            is_earner=b.salary_income > 0 or b.public_pension_income > 0))
    return records


async def store_declaration(conn: asyncpg.Connection, atena_number: str, fiscal_year: int,
                            declaration: ResidentTaxDeclaration, staff_id: str) -> asyncpg.Record:
    async with conn.transaction():
        exists = await conn.fetchval("SELECT status FROM taxpayers WHERE atena_number = $1 FOR SHARE",
                                     atena_number)
        if exists is None:
            raise ApiError(404, "not_found", "taxpayer not known to the tax service", "atena_number")
        return await conn.fetchrow(
            "INSERT INTO declarations (atena_number, fiscal_year, revision, declaration, staff_id)"
            " SELECT $1, $2, coalesce(max(revision), 0) + 1, $3, $4 FROM declarations"
            " WHERE atena_number = $1 AND fiscal_year = $2"
            " RETURNING atena_number, fiscal_year, revision, declaration, staff_id,"
            " submitted_at::text AS submitted_at",
            atena_number, fiscal_year, declaration.model_dump_json(), staff_id)


def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False)
