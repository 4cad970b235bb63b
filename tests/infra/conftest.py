"""testinfra against the live containers of a stack.

By default the session's shared live stack (the `live_stack` fixture: a throwaway copy of the
dev consortium brought up for the test run). MC_INFRA_STACK=dev checks a stack you brought up
yourself with `make up` instead; a named stack with no running container is an error, not a skip.
"""

from __future__ import annotations

import os

import docker
import pytest




@pytest.fixture(scope="session")
def stack_name(request) -> str:
    if os.environ.get("MC_INFRA_STACK"):
        return os.environ["MC_INFRA_STACK"]
    return request.getfixturevalue("live_stack").name


@pytest.fixture(scope="session")
def containers(stack_name):
    client = docker.from_env()
    found = client.containers.list(filters={"label": f"municloud.stack={stack_name}"})
    if not found:
        pytest.fail(f"stack {stack_name} is not up (no running container labelled for it)")
    return {c.name: c for c in found}


@pytest.fixture(scope="session")
def lgcodes(containers) -> list[str]:
    return sorted({c.labels["municloud.lgcode"] for c in containers.values()} - {"shared"})
