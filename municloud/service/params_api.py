"""GET /params/schema: the JSON Schema of the municipality parameter file (versioned,
municloud.params.PARAMS_SCHEMA_VERSION); GET /params: the parameters this service computes with.

Both are public facts (rates are set by ordinance and published), so no token is needed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from municloud.params import params_json_schema
from municloud.service.errors import ApiError

router = APIRouter(prefix="/params", tags=["parameters"])


@router.get("/schema")
async def schema() -> dict:
    return params_json_schema()


@router.get("")
async def in_force(request: Request) -> dict:
    params = getattr(request.app.state, "params", None)
    if params is None:
        raise ApiError(503, "no_parameters", "no municipality parameters are configured "
                       "(MUNICIPALITY_PARAMS_FILE)")
    return params.model_dump(mode="json")
