"""Household incomes from tax (所得照会), stored per fiscal year.

Two paths (docs/services.md): with HUB_URL set, nhi sends an IncomeInquiry through the hub
and tax's IncomeInquiryResponse arrives at the inbox; with HUB_URL unset, staff (or the
operator's script) ask tax's JSON binding POST /api/v1/income-inquiries and hand the answer
to nhi's POST /api/v1/income-records. Either way the same table is filled."""

from __future__ import annotations

import asyncpg


async def store_income_records(conn: asyncpg.Connection, response, source: str) -> int:
    rows = [(r.atena_number, response.fiscal_year, r.found, r.total_income, r.salary_income,
             r.pension_income, r.is_earner, source) for r in response.records]
    await conn.executemany(
        """INSERT INTO member_incomes (atena_number, fiscal_year, found, total_income,
               salary_income, pension_income, is_earner, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (atena_number, fiscal_year) DO UPDATE SET found = EXCLUDED.found,
               total_income = EXCLUDED.total_income, salary_income = EXCLUDED.salary_income,
               pension_income = EXCLUDED.pension_income, is_earner = EXCLUDED.is_earner,
               source = EXCLUDED.source, received_at = now()""", rows)
    return len(rows)
