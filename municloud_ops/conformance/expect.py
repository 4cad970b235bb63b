"""Assertions shared by the suite's checks; failures read as the check's reason."""

from __future__ import annotations

import httpx
import pytest

from municloud_ops.conformance.context import KitContext
from municloud.platform import Message, PlatformError


def reply_of(kit: KitContext, response: httpx.Response) -> Message:
    """The reply as a platform message, or a check failure saying why it is not one."""
    try:
        return kit.parse_reply(response)
    except PlatformError as exc:
        pytest.fail(f"reply (HTTP {response.status_code}) is not a valid signed platform "
                    f"message: {exc.__class__.__name__}: {exc}")


def expect_fault(kit: KitContext, response: httpx.Response, status: int, code: str) -> Message:
    assert response.status_code == status, (
        f"expected HTTP {status} with Fault {code}, got HTTP {response.status_code}")
    reply = reply_of(kit, response)
    assert reply.header.message_type == "Fault", f"expected a Fault, got {reply.header.message_type}"
    assert reply.body.code == code, f"expected Fault code {code}, got {reply.body.code}"
    assert reply.header.sender_unit.value == kit.options.unit, "Fault not sent by the unit"
    return reply
