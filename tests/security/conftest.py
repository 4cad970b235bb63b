"""Adversarial suite: every attack test is an attempt that must be refused, every twin an
allowed action that must succeed (so a check that can never fail shows up as a failing twin).

Mark tests with `pytest.mark.attack("<category>")` or `pytest.mark.twin("<category>")`;
categories are CATEGORIES. At the end of the run the terminal summary prints, per category,
how many attempts were made and how many were refused, and how many twins were allowed.
A strict xfail on an attack (a known, reported vulnerability) is counted as "vulnerable".
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")

CATEGORIES = ("cross-tenant", "hostile input", "auth", "secrets", "audit")
_KEY = "security_check"
# (kind:category, outcome) -> count, for this run (one pytest process).
TALLY: Counter = Counter()


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
            item.user_properties.append((_KEY, f"{kind}:{category}"))


def _outcome(report: pytest.TestReport) -> str | None:
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfail" if report.skipped else "xpass"
        return report.outcome
    if report.outcome != "passed":  # setup/teardown error or skip
        return "skipped" if report.skipped else "error"
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    tag = dict(report.user_properties).get(_KEY)
    outcome = _outcome(report)
    if tag is not None and outcome is not None:
        TALLY[(tag, outcome)] += 1


def summary_lines(tally: Counter) -> list[str]:
    lines = [f"{'category':<14} {'attempts':>8} {'refused':>8} {'vulnerable':>10} "
             f"{'not run':>8} {'twins':>6} {'allowed':>8}"]
    totals = Counter()
    for category in CATEGORIES:
        attack = {o: n for (t, o), n in tally.items() if t == f"attack:{category}"}
        twin = {o: n for (t, o), n in tally.items() if t == f"twin:{category}"}
        row = Counter(
            attempts=sum(attack.values()), refused=attack.get("passed", 0),
            vulnerable=attack.get("failed", 0) + attack.get("xfail", 0) + attack.get("xpass", 0),
            not_run=attack.get("skipped", 0) + attack.get("error", 0),
            twins=sum(twin.values()), allowed=twin.get("passed", 0))
        totals.update(row)
        lines.append(f"{category:<14} {row['attempts']:>8} {row['refused']:>8} {row['vulnerable']:>10} "
                     f"{row['not_run']:>8} {row['twins']:>6} {row['allowed']:>8}")
    lines.append(f"{'total':<14} {totals['attempts']:>8} {totals['refused']:>8} "
                 f"{totals['vulnerable']:>10} {totals['not_run']:>8} {totals['twins']:>6} "
                 f"{totals['allowed']:>8}")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not TALLY:
        return
    terminalreporter.section("security: attempts per category")
    for line in summary_lines(TALLY):
        terminalreporter.write_line(line)


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
