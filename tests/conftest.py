"""Test-wide settings: the same environment as tools/bootstrap/env.sh, for runs of plain pytest."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("MC_ROOT", str(REPO_ROOT))
os.environ.setdefault("MC_STATE", str(REPO_ROOT / ".state"))
# testcontainers: Ryuk's image cannot be pulled; reach published ports through loopback only.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
os.environ.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def live_stack():
    """The dev consortium, up once per test session (throwaway stack `citest`), destroyed after.

    MC_TEST_KEEP_STACK=1 keeps it up for the next run (which then is a fast no-op `up`).
    """
    from municloud.testing.stack import stack_up

    with stack_up(os.environ.get("MC_TEST_STACK", "citest")) as stack:
        yield stack
