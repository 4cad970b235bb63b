"""MSG-008 sends exactly what the hub's delivery worker sends: the same header names and the
same body bytes, captured on the wire from the hub's own delivery client (services/platform_hub/delivery.py)
and from the kit. (A kit sending more, e.g. a bearer token, would pass an inbox the hub cannot reach.)"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import pytest
from service_harness import free_port

from municloud_ops.conformance.context import KitContext, KitOptions
from municloud.platform.client import INBOX_PATH
from services.platform_hub.delivery import delivery_session, post_delivery

pytestmark = pytest.mark.unit


def _capture_one(port: int, seen: list[bytes]) -> threading.Thread:
    listener = socket.create_server(("127.0.0.1", port))

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                while len(body) < length:
                    body += conn.recv(65536)
                seen.append(head + b"\r\n\r\n" + body)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def _names_and_body(raw: bytes) -> tuple[set[str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return {line.split(":", 1)[0].lower() for line in lines[1:]}, body


def test_kit_sends_the_hub_delivery_shape_and_nothing_more(tmp_path: Path) -> None:
    body = b'<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="urn:municloud:platform:v1"/>'
    hub_seen: list[bytes] = []
    port = free_port()
    thread = _capture_one(port, hub_seen)

    async def deliver() -> tuple[int | None, str | None]:
        async with delivery_session(4) as http:
            return await post_delivery(http, f"http://127.0.0.1:{port}{INBOX_PATH}", body, 1, 5.0)

    assert asyncio.run(deliver()) == (200, None)
    thread.join(5)

    kit_seen: list[bytes] = []
    port = free_port()
    thread = _capture_one(port, kit_seen)
    options = KitOptions(unit="tax", base_url=f"http://127.0.0.1:{port}", token="t",
                         signing_key=tmp_path / "unused.key", timeout=5)
    kit = KitContext(options, client=None, key=None, lgcode="053031", peer_lgcode="053279",
                     unit_keys=None)
    assert kit.post_as_hub(body).status_code == 200
    thread.join(5)

    hub_names, hub_body = _names_and_body(hub_seen[0])
    kit_names, kit_body = _names_and_body(kit_seen[0])
    assert kit_names == hub_names == {"host", "content-length", "content-type",
                                      "x-municloud-delivery-attempt"}
    assert kit_body == hub_body == body
    assert "authorization" not in kit_names  # the twin of the inbox-demands-bearer mutant
