"""Flow 3 — nhi asks tax for household income (所得照会) through the hub and computes the premium;
the premium equals municloud.calc.nhi_premium.compute for the same inputs (same code — the
assertion proves the wiring: declarations → tax → hub → nhi → the municipality's parameters)."""

from __future__ import annotations

import json
import random
import time
from datetime import date

import pytest
from e2e_support import A, fresh_household, move_in, poll, report, sql, wait_propagated

from municloud.calc import nhi_premium, resident_tax

pytestmark = [pytest.mark.live, pytest.mark.e2e]

FISCAL_YEAR = 2025
INCOME_YEAR_END = date(FISCAL_YEAR - 1, 12, 31)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_premium_from_incomes_asked_through_the_hub(frontdoor, e2e_stack):
    rng = random.Random()
    household = fresh_household(A)
    atenas = [m["atena_number"] for m in move_in(frontdoor, household)["movements"]]
    wait_propagated(frontdoor, A, atenas)
    household_number = frontdoor.get(A, "residents_registry", f"/api/v1/residents/{atenas[0]}",
                                     purpose="resident_record").json()["household_number"]

    # 申告 at tax: a salaried head, the others with small salaries or pensions (some zero)
    declarations = {}
    for index, (atena, member) in enumerate(zip(atenas, household.members)):
        age = _age(date.fromisoformat(member["birth_date"]), INCOME_YEAR_END)
        salary = rng.randrange(2_000_000, 6_000_000, 1_000) if index == 0 else rng.choice(
            [0, rng.randrange(300_000, 1_500_000, 1_000)])
        declarations[atena] = {"age": age, "salary_income": salary,
                               "social_insurance_paid": salary * 14 // 100}
        r = frontdoor.post(A, "tax", "/api/v1/declarations", purpose="tax_assessment",
                           json={"atena_number": atena, "fiscal_year": FISCAL_YEAR,
                                 "declaration": declarations[atena]})
        assert r.status_code == 201, r.text

    path = f"/api/v1/premiums/{household_number}/{FISCAL_YEAR}"
    r = frontdoor.post(A, "nhi", path, purpose="nhi_administration")
    assert r.status_code == 202, r.text  # incomes unknown: 所得照会 sent to tax through the hub
    assert r.json()["status"] == "income_inquiry_sent"
    assert sorted(r.json()["missing_incomes"]) == sorted(atenas)
    t0 = time.monotonic()
    listed = ", ".join(f"'{a}'" for a in atenas)
    _, waited = poll(lambda: len(sql(e2e_stack, A, "nhi",
                                     "SELECT atena_number FROM member_incomes WHERE fiscal_year ="
                                     f" {FISCAL_YEAR} AND atena_number IN ({listed})")) == len(atenas),
                     "所得照会 answer stored by nhi", interval_s=0.2)
    report("3 所得照会", f"所得照会 nhi→tax→nhi answered through the hub in {waited:.2f} s "
                       f"({len(atenas)} members)")
    r = frontdoor.post(A, "nhi", path, purpose="nhi_administration")
    assert r.status_code == 201, r.text
    premium = r.json()

    # the expected value from the same library, with the parameters the stack deployed
    params = e2e_stack_params(e2e_stack)
    members = []
    for atena, member in zip(atenas, household.members):
        taxed = resident_tax.compute(resident_tax.ResidentTaxDeclaration(**declarations[atena]),
                                     params.resident_tax, FISCAL_YEAR)
        members.append(nhi_premium.HouseholdMember(
            birth_date=date.fromisoformat(member["birth_date"]), insured=True,
            is_head=member["relationship_to_head"] == "世帯主", total_income=taxed.total_income,
            salary_or_pension_earner=declarations[atena]["salary_income"] > 0))
    expected = nhi_premium.compute(nhi_premium.NhiHousehold(members=members),
                                   params.nhi_for(FISCAL_YEAR), FISCAL_YEAR)
    assert premium["total"] == expected.total > 0
    assert premium["breakdown"] == json.loads(expected.model_dump_json())
    report("3 所得照会", f"premium of household {household_number} = {premium['total']:,} yen "
                       f"= nhi_premium.compute(...) (total {time.monotonic() - t0:.2f} s after the 202)")
    # twin: with other incomes the premium differs — the answer really came from tax's records
    richer = [m.model_copy(update={"total_income": m.total_income + 2_000_000}) for m in members]
    assert nhi_premium.compute(nhi_premium.NhiHousehold(members=richer), params.nhi_for(FISCAL_YEAR),
                               FISCAL_YEAR).total != premium["total"]


def e2e_stack_params(stack):
    from e2e_support import municipality_params

    return municipality_params(stack, A)
