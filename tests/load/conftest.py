"""The system under load for tests/load: a live stack of its own (a throwaway copy of the dev
consortium, `citestload`; load goes to its frontdoor on 127.0.0.1 with its own token keys from the
stack outputs). Not the session's shared `live_stack`: other suites leave residents there, and the
load data must be the deterministic seed in empty tenants. MC_LOAD_LOCAL=1 instead starts PostgreSQL + one process per service
and dev municipality here (municloud_ops.loadtest.local), for quick runs without a stack.

Parameters (environment): MC_LOAD_SECONDS (steady run length, default 60, read by the test),
MC_LOAD_SEED_POPULATION (residents seeded per municipality, default 300).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from municloud_ops.loadtest.targets import (municipalities_and_sla, municipality_params,
                                        running_services, stack_target)

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")

SEED_POPULATION = int(os.environ.get("MC_LOAD_SEED_POPULATION", "300"))


#: how long the load stack may take to finish its start-up work (the first full backups)
STARTUP_WORK_S = 420.0


def wait_for_start_up_backups(stack, bound_s: float = STARTUP_WORK_S) -> str:
    """Until the backup repository holds the first full backup of every stanza (each member and the
    hub): the repository takes them one after the other a minute after it starts (images/postgres
    entrypoint, schedule_backups), reading and compressing every database. The gate's "steady" shape
    measures the steady state (docs/benchmarks.md "The idle stack and the load gate"), so it starts
    after that start-up work, as an operator's load test of a new stack would; a sentence says how long."""
    import json
    import time

    from municloud.status.facts import parse_backups

    stanzas = {*stack.municipalities, "hub"}
    repo = stack.container("backup_repo", site="dr")
    t0 = time.monotonic()
    while True:
        code, out = repo.exec_run(["pgbackrest", "--output=json", "info"], user="postgres")
        done = {b.stanza for b in parse_backups(out.decode())} if code == 0 else set()
        if stanzas <= done:
            return (f"start-up backups of {len(stanzas)} stanzas in the repository after "
                    f"{time.monotonic() - t0:.0f} s of waiting")
        if time.monotonic() - t0 > bound_s:
            raise AssertionError(f"the load stack's first backups not done within {bound_s:.0f} s: "
                                 f"{sorted(stanzas - done)} missing ({json.dumps(out.decode()[-300:])})")
        time.sleep(5)


@pytest.fixture(scope="module")
def load_stack():
    from support.stack import stack_up, suite_stack

    with stack_up(suite_stack("MC_LOAD_STACK")) as stack:
        print(wait_for_start_up_backups(stack))
        yield stack


@pytest.fixture
def load_target(request, tmp_path_factory):
    """Per test: a hung or overloaded system left by one run must not decide the next."""
    if not os.environ.get("MC_LOAD_LOCAL"):
        live = request.getfixturevalue("load_stack")
        yield stack_target(live.name, tmp_path_factory.mktemp("keys"), outputs=live.outputs,
                           root=live.work_dir)
        return
    from municloud_ops.loadtest.local import local_target

    municipalities, sla, _ = municipalities_and_sla("dev")
    with local_target(municipalities, sla, services=running_services("dev"),
                      params=municipality_params("dev")) as target:
        yield target


@pytest.fixture
def load_data(load_target, tmp_path_factory) -> Path:
    from municloud_ops.loadtest.data import seed_target

    loaded = seed_target(load_target, tmp_path_factory.mktemp("data") / "data.json",
                         population_cap=SEED_POPULATION)
    print(loaded.sentence())
    return loaded.manifest
