"""End-to-end tier: fixtures over the live consortium stack and a run summary.

The stack is the shared session fixture ``live_stack`` (tests/conftest.py, stack ``citest`` on
frontdoor port 18443). ``MC_E2E_STACK=<name>`` runs these tests on a stack of their own instead
(frontdoor port ``MC_E2E_FRONTDOOR_PORT``, default 18453; network ``MC_E2E_NETWORK_BASE``,
default 10.213.0.0/16; ``MC_E2E_CONFIG`` = a JSON object of further config keys), so an e2e run
never collides with another suite's ``citest`` on the same engine. ``MC_TEST_KEEP_STACK=1`` keeps
either up after the session.
"""

from __future__ import annotations

import json
import os

import pytest

from e2e_support import SUMMARY, Frontdoor


@pytest.fixture(scope="session")
def e2e_stack(request):
    name = os.environ.get("MC_E2E_STACK")
    if not name:
        yield request.getfixturevalue("live_stack")
        return
    from support.stack import stack_up

    with stack_up(name, overrides={
        "municloud:frontdoor_port": int(os.environ.get("MC_E2E_FRONTDOOR_PORT", "18453")),
        "municloud:network_base": os.environ.get("MC_E2E_NETWORK_BASE", "10.213.0.0/16"),
        **json.loads(os.environ.get("MC_E2E_CONFIG", "{}")),
    }) as stack:
        yield stack


@pytest.fixture(scope="session")
def frontdoor(e2e_stack):
    with Frontdoor(e2e_stack) as fd:
        yield fd


def pytest_terminal_summary(terminalreporter):
    if not SUMMARY:
        return
    terminalreporter.section("end-to-end flows (measured on the live stack)")
    for line in SUMMARY:
        terminalreporter.write_line(line)
