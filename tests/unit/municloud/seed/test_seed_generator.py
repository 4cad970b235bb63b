"""Seed-data generator: determinism, valid identifiers, plausible population, speed."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import pytest

from municloud.calc import nhi_premium, resident_tax
from municloud.ids import (
    validate_atena_number,
    validate_household_number,
    validate_my_number,
    validate_resident_record_code,
)
from municloud.params import default_municipality_params
from municloud.seed import SeedError, generate

pytestmark = pytest.mark.unit


def test_small_sample_is_cheap_and_exact() -> None:
    data = generate("053279", population=30, seed=1)
    assert len(data.residents) == 30
    assert data.municipality_name == "上小阿仁村"
    assert sum(len(h.member_atena_numbers) for h in data.households) == 30


def test_same_seed_same_output_different_seed_differs() -> None:
    a = generate("053031", 300, seed=7)
    b = generate("053031", 300, seed=7)
    c = generate("053031", 300, seed=8)
    assert a == b
    assert a.residents != c.residents


def test_identifiers_are_valid_and_unique() -> None:
    data = generate("053465", 2_000, seed=3)
    for r in data.residents:
        validate_my_number(r.my_number)
        validate_resident_record_code(r.resident_record_code)
        validate_atena_number(r.atena_number)
        validate_household_number(r.household_number)
        assert r.atena_number.startswith("053465")
    for field in ("my_number", "resident_record_code", "atena_number"):
        assert len({getattr(r, field) for r in data.residents}) == 2_000, field


def test_different_lgcodes_give_disjoint_person_ids() -> None:
    a = generate("053031", 1_000, seed=1)
    b = generate("053279", 1_000, seed=1)
    for field in ("my_number", "resident_record_code", "atena_number", "household_number"):
        assert not {getattr(r, field) for r in a.residents} & \
            {getattr(r, field) for r in b.residents}, field


def test_households_are_consistent() -> None:
    data = generate("054640", 1_000, seed=2)
    for h in data.households:
        members = data.members(h)
        assert members[0].relationship == "世帯主"
        assert members[0].atena_number == h.head_atena_number
        assert sum(m.relationship == "世帯主" for m in members) == 1
        assert {m.household_number for m in members} == {h.household_number}
        assert {m.address for m in members} == {h.address}
        assert h.address.startswith("秋田県雄勝郡東成瀬村字")
        assert len({m.family_name for m in members if m.relationship in ("世帯主", "妻", "夫",
                                                                        "子")}) == 1


def test_population_looks_like_a_depopulating_town() -> None:
    data = generate("053031", 5_864, seed=0)
    ages = [nhi_premium.age_on(r.birth_date, data.as_of) for r in data.residents]
    share_65 = sum(a >= 65 for a in ages) / len(ages)
    assert 0.38 <= share_65 <= 0.55
    assert max(ages) <= 100 and min(ages) >= 0
    schemes = Counter(r.insurance for r in data.residents)
    assert set(schemes) == {"nhi", "employee", "late_elderly"}
    for r, age in zip(data.residents, ages, strict=True):
        assert (r.insurance == "late_elderly") is (age >= 75)
        assert all("\u30a0" <= ch <= "\u30ff" for ch in r.family_name_kana + r.given_name_kana)
        if age < 18:
            assert r.salary_income == r.public_pension_income == 0
        assert r.resident_since >= r.birth_date


def test_declarations_and_nhi_households_compute() -> None:
    data = generate("053031", 600, seed=4)
    params = default_municipality_params("053031")
    fy = data.fiscal_year
    assert fy == 2025
    taxed = 0
    for r in data.residents:
        b = resident_tax.compute(data.declaration_for(r.atena_number), params.resident_tax, fy)
        taxed += b.total > 0
    assert 0 < taxed < len(data.residents)
    nhi_households = [hh for h in data.households if (hh := data.nhi_household_for(h))]
    assert nhi_households
    for hh in nhi_households:
        assert nhi_premium.compute(hh, params.nhi_for(fy), fy).total >= 0


def test_twenty_thousand_residents_fast() -> None:
    start = time.perf_counter()
    data = generate("054348", 20_000, seed=5)
    elapsed = time.perf_counter() - start
    assert len(data.residents) == 20_000
    assert elapsed < 5.0, f"took {elapsed:.2f} s"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lgcode": "053032", "population": 10}, "check digit"),
    ({"lgcode": "053031", "population": 0}, "population"),
    ({"lgcode": "053031", "population": True}, "population"),
    ({"lgcode": "130001", "population": 10}, "address_prefix"),
    ({"lgcode": "053031", "population": 10, "as_of": date(2024, 2, 29)}, "29 February"),
])
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)  # type: ignore[arg-type]


def test_unknown_lgcode_with_address_prefix() -> None:
    data = generate("130001", 20, seed=1, address_prefix="東京都千代田区")
    assert data.residents[0].address.startswith("東京都千代田区字")
    assert isinstance(SeedError("x"), ValueError)
