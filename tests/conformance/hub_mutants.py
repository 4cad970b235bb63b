"""Mutants of our real hub (services/platform_hub) for the kit's receiver-side checks
(`municloud conformance receive`, RCV-xxx): each mutant changes exactly one behaviour of the hub's
own code while it runs in this process (tests/conformance/test_receive_mutants.py proves the kit
fails exactly that mutant's check and no other). The faithful hub is the unchanged service.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

from municloud.platform import SigningKey, sign_message
from municloud.platform.client import delivery_headers
from services.platform_hub import app as hub_app
from services.platform_hub import delivery as hub_delivery
from services.platform_hub.routing import DEFAULT_ROUTES_FILE

# mutant -> the one RCV check that must catch it
HUB_MUTANTS: dict[str, str] = {
    "hub-delivery-sends-bearer-token": "RCV-001",
    "hub-re-signs-deliveries": "RCV-002",
    "hub-delivers-to-first-subscriber-only": "RCV-003",
    "hub-retries-after-ack": "RCV-004",
    "hub-dead-letters-a-503": "RCV-005",
    "hub-retries-a-fault": "RCV-006",
    "hub-skips-signature-check": "RCV-007",
    "hub-lets-individual-number-through": "RCV-008",
    "hub-redelivers-a-duplicate-publish": "RCV-009",
}

_classify = hub_delivery.classify
_store = hub_app.store_message
_parse = hub_app.parse_message


def _classify_mutant(override: Callable[[int], str | None]):
    def classify(status_code: int | None) -> str:
        return (override(status_code) if status_code is not None else None) or _classify(
            status_code)
    return classify


def routes_file(folder: Path, name: str) -> Path:
    """The routing table the hub runs with: the shipped one, or for the 個人番号 mutant the same
    with tax → nhi allowed to carry one."""
    text = DEFAULT_ROUTES_FILE.read_text(encoding="utf-8")
    if name == "hub-lets-individual-number-through":
        assert text.count("individual_number: false") == 1
        text = text.replace("individual_number: false", "individual_number: true")
    path = folder / f"routes-{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def mutated(name: str | None, hub_key: SigningKey) -> Iterator[None]:
    """Patch the hub's code for mutant `name` (None: faithful) while the block runs."""
    patches: list = []
    if name == "hub-delivery-sends-bearer-token":
        patches.append(mock.patch.object(hub_delivery, "delivery_headers", lambda attempt: {
            **delivery_headers(attempt), "Authorization": "Bearer hub-to-receiver"}))
    elif name == "hub-re-signs-deliveries":
        async def store(conn, message, raw, route, subscribers):
            return await _store(conn, message, sign_message(message, hub_key), route, subscribers)
        patches.append(mock.patch.object(hub_app, "store_message", store))
    elif name == "hub-delivers-to-first-subscriber-only":
        async def store(conn, message, raw, route, subscribers):
            return await _store(conn, message, raw, route, subscribers[:1])
        patches.append(mock.patch.object(hub_app, "store_message", store))
    elif name == "hub-retries-after-ack":
        patches.append(mock.patch.object(hub_delivery, "classify", _classify_mutant(
            lambda s: "retry" if 200 <= s < 300 else None)))
    elif name == "hub-dead-letters-a-503":
        patches.append(mock.patch.object(hub_delivery, "classify", _classify_mutant(
            lambda s: "refused" if s >= 500 else None)))
    elif name == "hub-retries-a-fault":
        patches.append(mock.patch.object(hub_delivery, "classify", _classify_mutant(
            lambda s: "retry" if 400 <= s < 500 else None)))
    elif name == "hub-skips-signature-check":
        def parse(data, *, registry=None, **kwargs):
            return _parse(data, require_signature=False, **kwargs)
        patches.append(mock.patch.object(hub_app, "parse_message", parse))
    elif name == "hub-redelivers-a-duplicate-publish":
        async def store(conn, message, raw, route, subscribers):
            if await _store(conn, message, raw, route, subscribers):
                return True
            await conn.execute(  # the identical message again: its deliveries start afresh
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now()"
                " WHERE message_id = $1", message.header.message_id)
            return True
        patches.append(mock.patch.object(hub_app, "store_message", store))
    elif name not in (None, "hub-lets-individual-number-through"):  # that one is its table
        raise KeyError(name)
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield
