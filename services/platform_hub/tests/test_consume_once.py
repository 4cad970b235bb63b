"""municloud.platform.consume_once against a real PostgreSQL: a duplicate is skipped, a failing
handler rolls its inbox row back (so the redelivery applies it), concurrent duplicates apply once."""

import asyncio
import ssl

import asyncpg
import pytest

from municloud.platform import build_message, consume_once, ensure_inbox
from municloud.platform.samples import sample_move_notice

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg():
    from municloud_ops.scratch.postgres import postgres_container

    with postgres_container(("tax",)) as handle:
        yield handle


async def _connect(pg):
    return await asyncpg.connect(host=pg.host, port=pg.port, database="tax", user="tax",
                                 password=pg.passwords["tax"], ssl=ssl.create_default_context(cafile=str(pg.ca_file)))


def _message(serial):
    return build_message(sample_move_notice("053031", serial), sender_unit="residents_registry",
                         sender_lgcode="053031", receiver_unit="platform_hub", receiver_lgcode="053031")


async def _setup(conn):
    await ensure_inbox(conn)
    await conn.execute("CREATE TABLE IF NOT EXISTS effects (message_id uuid NOT NULL)")


async def _apply(conn, message):
    await conn.execute("INSERT INTO effects VALUES ($1)", message.header.message_id)


async def _effects(conn, message) -> int:
    return await conn.fetchval("SELECT count(*) FROM effects WHERE message_id = $1", message.header.message_id)


async def test_duplicate_is_skipped(pg):
    conn = await _connect(pg)
    try:
        await _setup(conn)
        message = _message(1)
        assert await consume_once(conn, message, _apply) is True
        assert await consume_once(conn, message, _apply) is False
        assert await _effects(conn, message) == 1
    finally:
        await conn.close()


async def test_failing_handler_leaves_no_inbox_row_and_the_retry_applies(pg):
    conn = await _connect(pg)
    try:
        await _setup(conn)
        message = _message(2)

        async def broken(c, m):
            await _apply(c, m)
            raise RuntimeError("handler failed")

        with pytest.raises(RuntimeError):
            await consume_once(conn, message, broken)
        assert await _effects(conn, message) == 0
        assert await conn.fetchval("SELECT count(*) FROM platform_inbox WHERE message_id=$1", message.header.message_id) == 0
        assert await consume_once(conn, message, _apply) is True
        assert await _effects(conn, message) == 1
    finally:
        await conn.close()


async def test_concurrent_duplicates_apply_once(pg):
    conns = [await _connect(pg) for _ in range(4)]
    try:
        await _setup(conns[0])
        message = _message(3)

        async def slow(c, m):
            await _apply(c, m)
            await asyncio.sleep(0.2)  # hold the inbox row uncommitted while the others arrive

        results = await asyncio.gather(*(consume_once(c, message, slow) for c in conns))
        assert sorted(results) == [False, False, False, True]
        assert await _effects(conns[0], message) == 1
    finally:
        for c in conns:
            await c.close()
