"""Per-municipality parameter models: defaults, validators, JSON round trip."""

from __future__ import annotations

import json
from datetime import time

import pytest
from pydantic import ValidationError

from municloud.ids import validate_lgcode
from municloud.params import (
    KNOWN_MUNICIPALITIES,
    MunicipalityParams,
    ResidentTaxParams,
    ServiceWindow,
    default_municipality_params,
    default_nhi_params,
    non_taxable_limits_for_grade,
)

pytestmark = pytest.mark.unit


def test_known_municipalities_are_the_akita_twelve() -> None:
    assert len(KNOWN_MUNICIPALITIES) == 12
    assert sum(m.population for m in KNOWN_MUNICIPALITIES.values()) == 106_045  # DOMAIN.md
    for code, m in KNOWN_MUNICIPALITIES.items():
        assert validate_lgcode(code) == m.lgcode


def test_default_params_round_trip_through_json() -> None:
    params = default_municipality_params("053031")
    assert params.name == "小坂町" and params.population == 5_864
    again = MunicipalityParams.model_validate_json(params.model_dump_json())
    assert again == params
    assert again.nhi_for(2025).medical.cap == 660_000


def test_standard_resident_tax_rates() -> None:
    normal = ResidentTaxParams.standard()
    assert (normal.municipal_rate_bp, normal.prefectural_rate_bp) == (600, 400)
    city = ResidentTaxParams.standard(designated_city=True)
    assert (city.municipal_rate_bp, city.prefectural_rate_bp) == (800, 200)
    assert (city.adjustment_municipal_bp, city.adjustment_prefectural_bp) == (400, 100)


def test_adjustment_split_must_total_five_percent() -> None:
    with pytest.raises(ValidationError, match="must be 500"):
        ResidentTaxParams(adjustment_municipal_bp=300, adjustment_prefectural_bp=100)
    assert ResidentTaxParams(adjustment_municipal_bp=400,
                             adjustment_prefectural_bp=100).adjustment_municipal_bp == 400


@pytest.mark.parametrize(("grade", "single", "per_person"), [
    (1, 450_000, 350_000), (2, 415_000, 315_000), (3, 380_000, 280_000)])
def test_non_taxable_grades(grade: int, single: int, per_person: int) -> None:
    limits = non_taxable_limits_for_grade(grade)  # type: ignore[arg-type]
    assert (limits.per_capita_single, limits.per_person) == (single, per_person)
    assert limits.income_levy_single == 450_000  # statutory, same for every 級地


def test_nhi_defaults_per_fiscal_year() -> None:
    fy24, fy25 = default_nhi_params(2024), default_nhi_params(2025)
    assert (fy24.medical.cap, fy24.support.cap, fy24.care.cap) == (650_000, 240_000, 170_000)
    assert (fy25.medical.cap, fy25.support.cap, fy25.care.cap) == (660_000, 260_000, 170_000)
    assert fy24.reduction.five_tenths_per_insured == 295_000
    assert fy25.reduction.two_tenths_per_insured == 560_000
    fy26 = default_nhi_params(2026)
    assert fy26.child_support is not None and fy26.child_support.cap == 30_000
    for unsupported in (2023, 2027):
        with pytest.raises(ValueError, match=r"supported: \[2024, 2025, 2026\]"):
            default_nhi_params(unsupported)


@pytest.mark.parametrize(("patch", "field"), [
    ({"lgcode": "053032"}, "lgcode"),
    ({"population": 0}, "population"),
    ({"name": ""}, "name"),
    ({"surprise": 1}, "surprise"),
])
def test_municipality_params_reject_bad_fields(patch: dict[str, object], field: str) -> None:
    data = default_municipality_params("053279").model_dump(mode="json") | patch
    with pytest.raises(ValidationError) as info:
        MunicipalityParams.model_validate(data)
    assert field in str(info.value)


def test_nhi_key_must_match_fiscal_year() -> None:
    data = default_municipality_params("053279").model_dump(mode="json")
    data["nhi"] = {"2024": data["nhi"]["2025"]}
    with pytest.raises(ValidationError, match="fiscal_year 2025"):
        MunicipalityParams.model_validate(data)


def test_negative_rates_and_amounts_rejected() -> None:
    with pytest.raises(ValidationError, match="municipal_rate_bp"):
        ResidentTaxParams(municipal_rate_bp=-1)
    with pytest.raises(ValidationError):
        default_nhi_params(2024).model_copy(update={}).model_validate(
            default_nhi_params(2024).model_dump() | {"fiscal_year": 1999})


def test_service_window_order() -> None:
    assert ServiceWindow(start=time(6, 30), end=time(23, 0)).end == time(23, 0)
    with pytest.raises(ValidationError, match="after start"):
        ServiceWindow(start=time(23, 0), end=time(6, 30))


def test_unknown_lgcode_needs_name_and_population() -> None:
    with pytest.raises(ValueError, match="give name and population"):
        default_municipality_params("130001")
    assert default_municipality_params("130001", "東京都", 14_000_000).name == "東京都"


# --- fiscal years as data, partial overrides, the schema -------------------------------------------

def test_fiscal_years_are_one_table() -> None:
    from municloud.params import (
        FISCAL_YEARS,
        SUPPORTED_NHI_FISCAL_YEARS,
        SUPPORTED_RESIDENT_TAX_FISCAL_YEARS,
        check_fiscal_year,
    )
    from municloud.calc.errors import UnsupportedInput

    assert SUPPORTED_RESIDENT_TAX_FISCAL_YEARS == SUPPORTED_NHI_FISCAL_YEARS == (2024, 2025, 2026)
    assert FISCAL_YEARS[2026].child_support and not FISCAL_YEARS[2025].child_support
    assert check_fiscal_year(2026, "nhi").wareki == "令和8年度"
    for bad in (2023, 2027, "2026", 2026.0, True):
        with pytest.raises(UnsupportedInput, match=r"supported: \[2024, 2025, 2026\]"):
            check_fiscal_year(bad, "resident_tax")


def test_partial_override_merges_over_defaults_and_refuses_unknown() -> None:
    from municloud.calc.errors import UnsupportedInput
    from municloud.params import NhiParams, apply_overrides

    doc = apply_overrides(None, {"nhi": {"2026": {"medical": {"income_rate_bp": 720}}}})
    merged = NhiParams.model_validate_json(json.dumps(doc["nhi"]["2026"]))
    assert merged.medical.income_rate_bp == 720
    assert merged.medical.cap == default_nhi_params(2026).medical.cap
    assert merged.child_support == default_nhi_params(2026).child_support
    base = default_municipality_params("053031")
    doc = apply_overrides(base, {"resident_tax": {"municipal_per_capita": 3_500}})
    assert doc["resident_tax"]["municipal_per_capita"] == 3_500 and doc["lgcode"] == "053031"
    assert doc["nhi"]["2025"] == base.nhi[2025].model_dump(mode="json")
    for overrides, field in (({"nhi": {"2023": {}}}, "nhi.2023"), ({"rates": 1}, "rates"),
                             ({"nhi": []}, "nhi")):
        with pytest.raises(UnsupportedInput) as info:
            apply_overrides(base, overrides)
        assert info.value.field == field


def test_schema_is_versioned_and_generated() -> None:
    from municloud.params import PARAMS_SCHEMA_VERSION, params_json_schema

    schema = params_json_schema()
    assert schema["$id"].endswith(PARAMS_SCHEMA_VERSION)
    assert {"lgcode", "resident_tax", "nhi"} <= set(schema["properties"])
    assert "ChildSupportPartParams" in schema["$defs"]
