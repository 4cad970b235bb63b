"""The system under load for tests/load: the live dev stack when it is up (its frontdoor on
127.0.0.1 and its token keys from the stack outputs), else PostgreSQL + one process
per service and dev municipality started here (municloud.loadtest.local).

Parameters (environment): MC_LOAD_SECONDS (steady run length, default 60, read by the test),
MC_LOAD_SEED_POPULATION (residents seeded per municipality, default 300).
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import pytest

from municloud.loadtest.targets import (TargetError, municipalities_and_sla, municipality_params,
                                        running_services, stack_target)

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")

SEED_POPULATION = int(os.environ.get("MC_LOAD_SEED_POPULATION", "300"))


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@pytest.fixture
def load_target(tmp_path_factory):
    """Per test: a hung or overloaded system left by one run must not decide the next."""
    municipalities, sla, port = municipalities_and_sla("dev")
    if _listening(port):
        try:
            yield stack_target("dev", tmp_path_factory.mktemp("keys"))
            return
        except TargetError as exc:
            print(f"dev stack frontdoor listens but cannot be used ({exc}); starting services here")
    from municloud.loadtest.local import local_target

    with local_target(municipalities, sla, services=running_services("dev"),
                      params=municipality_params("dev")) as target:
        yield target


@pytest.fixture
def load_data(load_target, tmp_path_factory) -> Path:
    from municloud.loadtest.data import seed_target

    loaded = seed_target(load_target, tmp_path_factory.mktemp("data") / "data.json",
                         population_cap=SEED_POPULATION)
    print(loaded.sentence())
    return loaded.manifest
