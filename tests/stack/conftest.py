"""Shared helpers of the stack tier: the dev config as raw values, as Pulumi would pass them."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _own_event_loop():
    """Pulumi's mocks register resources on the current event loop; async tests of other tiers
    (pytest-asyncio) leave the main thread with none set, so each stack test gets its own."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def raw_config(stack: str = "dev") -> dict:
    """The committed stack file's config as the program gets it; a stack on this machine's site
    hosts (dev) on the machine's own engine, as every scratch stack (stacks.automation.stack_config):
    the shape tests that want sites on engines of their own give them."""
    from stacks.automation import stack_config

    # Pulumi hands structured config to the program as JSON: keys become strings.
    return json.loads(json.dumps({k.split(":", 1)[1]: v for k, v in stack_config(stack).items()}))


@pytest.fixture
def dev_raw() -> dict:
    return copy.deepcopy(raw_config("dev"))


@pytest.fixture
def akita_raw() -> dict:
    return copy.deepcopy(raw_config("akita"))
