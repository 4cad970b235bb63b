"""The hub's delivery client (aiohttp keep-alive pool) against a real local server: status codes
and the outcome the worker records, keep-alive reuse, chunked and close-delimited bodies, a
refused connection and a timeout."""

import asyncio

import pytest

from services.platform_hub.delivery import delivery_session, post_delivery

pytestmark = pytest.mark.unit


async def _server(responses: list[bytes]):
    connections = []

    async def handle(reader, writer):
        connections.append(writer)
        while responses:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1])
            await reader.readexactly(length)
            reply = responses.pop(0)
            if reply == b"HANG":
                await asyncio.sleep(5)
                return
            writer.write(reply)
            await writer.drain()
            if b"Connection: close" in reply:
                writer.close()
                return

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], connections


async def test_statuses_keep_alive_and_body_framings():
    server, port, connections = await _server([
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 503 Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    ])
    url = f"http://127.0.0.1:{port}/inbox"
    try:
        async with delivery_session(4) as http:
            assert await post_delivery(http, url, b"<x/>", 1, 2) == (200, None)
            assert await post_delivery(http, url, b"<x/>", 2, 2) == (400, "HTTP 400")
            assert len(connections) == 1  # the first two shared one kept-alive connection
            assert await post_delivery(http, url, b"<x/>", 3, 2) == (503, "HTTP 503")
    finally:
        server.close()


async def test_refused_connection_and_timeout_are_no_answer():
    server, port, _ = await _server([b"HANG"])
    try:
        async with delivery_session(4) as http:
            status, error = await post_delivery(http, "http://127.0.0.1:9/inbox", b"x", 1, 2)
            assert status is None and error.startswith("ClientConnector")
            assert await post_delivery(http, f"http://127.0.0.1:{port}/inbox", b"x", 1, 0.3) == (
                None, "TimeoutError")
    finally:
        server.close()
