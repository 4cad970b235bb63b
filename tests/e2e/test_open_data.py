"""Open data on the live stack: each member's files through the frontdoor without a token, valid
against the definition with no suppressed cell recoverable; the same token-less caller is refused
by the personal endpoints of every service (twin)."""

from __future__ import annotations

from datetime import date

import pytest
from e2e_support import SUMMARY, A, B, C

from municloud_ops.opendata.publish import Frontdoor, publish

pytestmark = [pytest.mark.live, pytest.mark.e2e]


@pytest.mark.parametrize("lgcode", [A, B, C])
def test_open_data_through_the_frontdoor_without_a_token(e2e_stack, tmp_path, lgcode):
    sentences = publish(Frontdoor(e2e_stack.frontdoor_url, e2e_stack.ca_file), lgcode, date.today(),
                        tmp_path)
    assert any("population_by_area_age.csv: valid" in s for s in sentences), sentences
    assert any("households_by_area.csv: valid" in s for s in sentences), sentences
    SUMMARY.append(f"open data {lgcode}: " + "; ".join(s for s in sentences if "valid" in s))


@pytest.mark.parametrize("service,path", [
    ("residents_registry", "/api/v1/residents?family_name=佐藤"),
    ("residents_registry", "/api/v1/households/053031000000001"),
    ("residents_registry", "/api/v1/layout/export"),
    ("tax", "/api/v1/taxpayers/053031000000001"),
    ("nhi", "/api/v1/insured/053031000000001"),
])
def test_twin_personal_endpoints_refuse_the_token_less_caller(frontdoor, service, path):
    r = frontdoor.client.get(f"/{A}/{service}{path}")
    assert r.status_code == 401, (service, path, r.status_code, r.text[:200])
    assert r.json()["error"]["code"] == "missing_token"
