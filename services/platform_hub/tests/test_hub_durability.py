"""Durability: under a bounded stream of messages the hub process is SIGKILLed (as `docker kill`
does) and restarted. Every acknowledged message is applied exactly once by each subscriber,
none is lost, and the message log verifies. Receivers also drop 10 % of their answers after
committing, so redelivery and deduplication are exercised, not assumed."""

import asyncio
import time

import httpx
import pytest

from municloud.platform import build_message, parse_message, sign_message
from municloud.platform.models import Ack
from municloud.platform.samples import sample_move_notice
from hub_harness import DEV, hub_world

pytestmark = pytest.mark.integration

MESSAGES = 300
SENDERS = 8
KILL_AFTER = 120


async def _stream(world, signed: list[tuple[str, bytes]], acked: set, kills: list) -> None:
    queue: asyncio.Queue = asyncio.Queue()
    for item in signed:
        queue.put_nowait(item)
    deadline = time.monotonic() + 180

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            mid, data = queue.get_nowait()
            while True:  # a sender retries the same bytes until the hub acknowledges them
                if time.monotonic() > deadline:
                    raise AssertionError("stream did not finish in time")
                try:
                    response = await client.post(f"{world.hub.url}/api/v1/messages", content=data,
                                                 headers={"Content-Type": "application/xml"})
                    reply = parse_message(response.content, registry=world.registry)
                    if response.status_code == 202 and isinstance(reply.body, Ack):
                        acked.add(mid)
                        break
                    raise AssertionError(f"unexpected refusal {response.status_code}: {reply.body}")
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)

    async def killer() -> None:
        while len(acked) < KILL_AFTER:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(world.hub.kill)
        kills.append(len(acked))
        await asyncio.sleep(1.0)
        await asyncio.to_thread(world.hub.start)

    async with httpx.AsyncClient(timeout=5) as client:
        kill_task = asyncio.create_task(killer())
        await asyncio.gather(*(sender(client) for _ in range(SENDERS)))
        await kill_task


def test_kill_and_restart_loses_nothing_and_applies_nothing_twice():
    with hub_world() as world:
        world.receivers.flaky = 0.10
        signed = []
        for i in range(MESSAGES):
            lgcode = DEV[i % len(DEV)]
            message = build_message(sample_move_notice(lgcode, 1000 + i), sender_unit="residents_registry",
                                    sender_lgcode=lgcode, receiver_unit="platform_hub", receiver_lgcode=lgcode)
            signed.append((str(message.header.message_id), sign_message(message, world.key(lgcode, "residents_registry"))))
        acked: set = set()
        kills: list = []
        asyncio.run(_stream(world, signed, acked, kills))
        assert kills and KILL_AFTER <= kills[0] < MESSAGES, kills  # the kill happened mid-stream
        assert len(acked) == MESSAGES

        world.wait_delivered(acked, timeout=120)
        for unit in ("tax", "nhi"):
            applied = world.applied(unit, acked)
            assert set(applied) == acked, f"{unit}: {len(acked - set(applied))} acknowledged messages lost"
            assert set(applied.values()) == {1}, f"{unit}: a message was applied twice"
        assert world.applied("residents_registry", acked) == {}
        retries = int(world.sql("SELECT count(*) FROM message_log WHERE event = 'delivery-retry'"))
        assert retries > 0, "no redelivery happened: the exactly-once check was not exercised"
        assert world.receivers.seen > 2 * MESSAGES
        report = httpx.get(f"{world.hub.url}/api/v1/log/verify", timeout=30).json()
        assert report["ok"], report
        assert report["rows"] >= MESSAGES * 3
