"""Assertions shared by the suite's checks; failures read as the check's reason and always show
what the endpoint answered (HTTP status, Fault code and reason, or the start of the body)."""

from __future__ import annotations

import httpx
import pytest

from municloud_ops.conformance.context import KitContext
from municloud.platform import Message, PlatformError, parse_message


def got(response: httpx.Response) -> str:
    """What came back, for failure messages: the Fault's code, reason and path when the body is
    a Fault, else the first bytes of the body."""
    try:
        reply = parse_message(response.content)
    except PlatformError:
        text = response.content[:300].decode("utf-8", errors="replace")
        return f"HTTP {response.status_code}, body: {text!r}"
    body = reply.body
    if reply.header.message_type == "Fault":
        return (f"HTTP {response.status_code}, Fault code {body.code!r}, reason {body.reason!r}"
                + (f", path {body.path!r}" if body.path else ""))
    return f"HTTP {response.status_code}, {reply.header.message_type}"


def reply_of(kit: KitContext, response: httpx.Response) -> Message:
    """The reply as a platform message, or a check failure saying why it is not one."""
    try:
        return kit.parse_reply(response)
    except PlatformError as exc:
        pytest.fail(f"reply (HTTP {response.status_code}) is not a valid signed platform "
                    f"message: {exc.__class__.__name__}: {exc}")


def expect_fault(kit: KitContext, response: httpx.Response, status: int, code: str) -> Message:
    assert response.status_code == status, (
        f"expected HTTP {status} with Fault {code}, got {got(response)}")
    reply = reply_of(kit, response)
    assert reply.header.message_type == "Fault", f"expected a Fault, got {got(response)}"
    assert reply.body.code == code, f"expected Fault code {code}, got {got(response)}"
    assert reply.header.sender_unit.value == kit.options.unit, "Fault not sent by the unit"
    return reply
