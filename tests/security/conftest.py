"""Adversarial suite: every attack test is an attempt that must be refused, every twin an
allowed action that must succeed (so a check that can never fail shows up as a failing twin).

Mark tests with `pytest.mark.attack("<category>")` or `pytest.mark.twin("<category>")`;
categories are CATEGORIES. At the end of the run the terminal summary (tests/support/security_tally.py) prints, per category,
how many attempts were made and how many were refused, and how many twins were allowed.
A strict xfail on an attack (a known, reported vulnerability) is counted as "vulnerable".
"""

from __future__ import annotations

import os

import pytest

from support.security_tally import CATEGORIES, KEY

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "attack(category): an attempt that must be refused")
    config.addinivalue_line("markers", "twin(category): the allowed twin that must succeed")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for kind in ("attack", "twin"):
            marker = item.get_closest_marker(kind)
            if marker is None:
                continue
            category = marker.args[0] if marker.args else None
            if category not in CATEGORIES:
                raise pytest.UsageError(f"{item.nodeid}: {kind} category must be one of {CATEGORIES}")
            item.user_properties.append((KEY, f"{kind}:{category}"))


@pytest.fixture(scope="session")
def tenants():
    """(A, B, http client): two isolated municipalities with their residents_registry running,
    each seeded with one resident through its own API (see tenant_target.py)."""
    from tenant_target import move_in_body, two_tenants

    with two_tenants() as (a, b, client):
        for tenant in (a, b):
            response = client.post(f"{tenant.url}/api/v1/movements", json=move_in_body(tenant.lgcode, 1),
                                   headers=tenant.headers())
            assert response.status_code == 201, response.text
            moved = response.json()["movements"][0]
            tenant.atena_number = moved["atena_number"]
            tenant.household_number = client.get(
                f"{tenant.url}/api/v1/residents/{tenant.atena_number}",
                headers=tenant.headers()).json()["household_number"]
        yield a, b, client
