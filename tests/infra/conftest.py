"""testinfra against the live containers of a stack (default `dev`, or MC_INFRA_STACK).

These tests need the stack up (`make up`); with no container labelled for the stack they are
skipped with that reason, never passed.
"""

from __future__ import annotations

import os

import docker
import pytest




@pytest.fixture(scope="session")
def stack_name() -> str:
    return os.environ.get("MC_INFRA_STACK", "dev")


@pytest.fixture(scope="session")
def containers(stack_name):
    client = docker.from_env()
    found = client.containers.list(filters={"label": f"municloud.stack={stack_name}"})
    if not found:
        pytest.skip(f"stack {stack_name} is not up (no running container labelled for it); run `make up`")
    return {c.name: c for c in found}


@pytest.fixture(scope="session")
def lgcodes(containers) -> list[str]:
    return sorted({c.labels["municloud.lgcode"] for c in containers.values()} - {"shared"})
