"""Open data (指針7): 自治体標準オープンデータセット 「地域・年齢別人口」 and 世帯数 as of a date.

Public: no token (the gateway serves /<lgcode>/opendata/ to anyone; docs/opendata.md). Only counts
leave the database: the aggregation runs in SQL, small cells are suppressed with complementary
cells (municloud.opendata.suppression) before anything is rendered, and nothing is logged per
resident because no resident is read."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from municloud.opendata import definition, render, suppression, table
from municloud.service.deps import ConnDep, ParamsDep, SettingsDep
from municloud.service.errors import ApiError
from municloud.service.types import DATE_NOT_AFTER_TODAY

router = APIRouter(prefix="/opendata", tags=["opendata"])
JST = ZoneInfo("Asia/Tokyo")

# 地域 = the address up to its first digit (町字: the seed's 字…, a live 異動's 町名); the finest
# cells per 地域, sex and age band as of $1. Residents counted: born and registered by then, and
# still active or left after it. (Their current address stands for their address on that date.)
_COUNTED = """
    FROM residents
    WHERE birth_date <= $1 AND resident_since <= $1
      AND (status = 'active' OR coalesce(status_date > $1, false))
"""
_AREA = "regexp_replace(address, '[0-9０-９].*$', '')"
POPULATION_SQL = f"""
    SELECT {_AREA} AS area, sex,
           least(extract(year FROM age($1::date, birth_date))::int / $2, $3) AS band,
           count(*)::int AS n
    {_COUNTED} GROUP BY 1, 2, 3"""
HOUSEHOLDS_SQL = f"SELECT {_AREA} AS area, count(DISTINCT household_number)::int AS n {_COUNTED} GROUP BY 1"

AsOf = Annotated[date, Query(description="調査年月日 (YYYY-MM-DD), not after today (JST)",
                             json_schema_extra={"format": DATE_NOT_AFTER_TODAY})]


def _area_name(address_part: str, municipality: str) -> str:
    """The 地域 name without 都道府県・郡・市町村 (what precedes the municipality's name)."""
    head, sep, tail = address_part.partition(municipality)
    return (tail if sep else address_part).strip() or municipality


def _check_date(as_of: date) -> None:
    if as_of > datetime.now(JST).date():
        raise ApiError(422, "as_of_in_future", "as_of must not be after today", "as_of")


async def _tables(conn, params, as_of: date, min_count: int) -> dict:
    _check_date(as_of)
    pop = definition.load("population_by_area_age")
    counts: dict[str, dict[str, int]] = {}
    width = pop.band_width
    for row in await conn.fetch(POPULATION_SQL, as_of, width, pop.open_band_from // width):
        cells = counts.setdefault(_area_name(row["area"], params.name), {})
        col = pop.band_column(row["sex"], row["band"])
        cells[col] = cells.get(col, 0) + row["n"]
    hh = definition.load("households_by_area")
    hh_counts: dict[str, dict[str, int]] = {}
    for row in await conn.fetch(HOUSEHOLDS_SQL, as_of):
        cells = hh_counts.setdefault(_area_name(row["area"], params.name), {"世帯数": 0})
        cells["世帯数"] += row["n"]
    files = {}
    for d, c in ((pop, counts), (hh, hh_counts)):
        t = table.build(d, c)
        suppression.suppress(t, min_count)
        files[d] = render.to_csv(t, params.lgcode, params.name, as_of)
    return files


def _base_url(request: Request, lgcode: str) -> str:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return f"{proto}://{request.headers.get('host', 'localhost')}/{lgcode}/opendata"


@router.get("/catalog.jsonld", response_class=JSONResponse,
            responses={200: {"content": {"application/ld+json": {"schema": {"type": "object"}}},
                             "description": "DCAT catalog (JSON-LD)"}})
async def catalog(request: Request, as_of: AsOf, conn: ConnDep, params: ParamsDep,
                  settings: SettingsDep) -> JSONResponse:
    """DCAT catalog (JSON-LD) of the datasets as of the date."""
    files = await _tables(conn, params, as_of, settings.opendata_min_cell)
    body = render.dcat(files, params.lgcode, params.name, as_of, _base_url(request, params.lgcode))
    return JSONResponse(body, media_type="application/ld+json")


@router.get("/ckan.json")
async def ckan(request: Request, as_of: AsOf, conn: ConnDep, params: ParamsDep,
               settings: SettingsDep) -> JSONResponse:
    """CKAN-compatible package descriptions (the bodies `package_create` takes)."""
    files = await _tables(conn, params, as_of, settings.opendata_min_cell)
    return JSONResponse(render.ckan_packages(files, params.lgcode, params.name, as_of,
                                             _base_url(request, params.lgcode)))


@router.get("/{file_name}")
async def dataset_file(file_name: str, as_of: AsOf, conn: ConnDep, params: ParamsDep,
                       settings: SettingsDep) -> Response:
    """One dataset as CSV (UTF-8 with BOM)."""
    if not re.fullmatch(r"[a-z_]{1,60}\.csv", file_name):
        raise ApiError(404, "no_dataset", "unknown dataset file", "file_name")
    files = await _tables(conn, params, as_of, settings.opendata_min_cell)
    for d, data in files.items():
        if d.file_name == file_name:
            return Response(data, media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="{params.lgcode}_{as_of:%Y%m%d}_{file_name}"'})
    raise ApiError(404, "no_dataset", "unknown dataset file", "file_name")
