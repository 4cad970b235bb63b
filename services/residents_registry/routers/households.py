"""Households (世帯): members of one household."""

from __future__ import annotations

from fastapi import APIRouter

from municloud.service.deps import AuditDep, ConnDep, PrincipalDep, log_accesses
from municloud.service.errors import not_found
from municloud.service.types import HouseholdNumber
from services.residents_registry import models as m

router = APIRouter(prefix="/households", tags=["households"])


@router.get("/{household_number}", response_model=m.HouseholdPublic)
async def get_household(household_number: HouseholdNumber, conn: ConnDep,
                        principal: PrincipalDep, audit: AuditDep) -> m.HouseholdPublic:
    household = await conn.fetchrow("SELECT * FROM households WHERE household_number = $1",
                                    household_number)
    if household is None:
        raise not_found("household", "household_number")
    rows = await conn.fetch(
        "SELECT * FROM residents WHERE household_number = $1 AND status = 'active'"
        " ORDER BY (relationship_to_head <> '世帯主'), birth_date, atena_number", household_number)
    await log_accesses(audit, principal, [r["atena_number"] for r in rows], "household")
    return m.HouseholdPublic(
        household_number=household_number, head_atena_number=household["head_atena_number"],
        address=household["address"],
        members=[m.ResidentSummary(**{k: r[k] for k in m.ResidentSummary.model_fields}) for r in rows])
