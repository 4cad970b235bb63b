"""A lean HTTP/1.1 POST client with keep-alive, for deliveries to inboxes on the project's own
networks (plain http). Measured reason: httpx spent about half of the hub's CPU per message.
Only what delivery needs: POST a body, read the status, drain the response (Content-Length,
chunked or until close). https URLs are left to httpx by the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class HttpError(Exception):
    """Connection failed or the peer broke the protocol."""


class Http11Pool:
    def __init__(self, max_idle_per_host: int = 16) -> None:
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._max_idle = max_idle_per_host

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """Status code of the POST; raises HttpError or asyncio.TimeoutError."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// URLs, got {url}")
        host, port = parts.hostname, parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        return await asyncio.wait_for(self._exchange((host, port), request), timeout)

    async def _exchange(self, key: tuple[str, int], request: bytes) -> int:
        idle = self._idle.setdefault(key, [])
        reused = bool(idle)
        reader, writer = idle.pop() if idle else await self._connect(key)
        try:
            writer.write(request)
            await writer.drain()
            status, keep = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
            writer.close()
            if reused:  # a kept-alive connection the server had closed: one fresh try
                return await self._exchange_fresh(key, request)
            raise HttpError(type(exc).__name__) from None
        except BaseException:
            writer.close()
            raise
        if keep and len(idle) < self._max_idle:
            idle.append((reader, writer))
        else:
            writer.close()
        return status

    async def _exchange_fresh(self, key, request: bytes) -> int:
        reader, writer = await self._connect(key)
        try:
            writer.write(request)
            await writer.drain()
            status, keep = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, HttpError, ValueError) as exc:
            writer.close()
            raise HttpError(type(exc).__name__) from None
        except BaseException:
            writer.close()
            raise
        if keep and len(self._idle.setdefault(key, [])) < self._max_idle:
            self._idle[key].append((reader, writer))
        else:
            writer.close()
        return status

    async def _connect(self, key: tuple[str, int]):
        try:
            return await asyncio.open_connection(*key)
        except OSError as exc:
            raise HttpError(f"connect failed: {type(exc).__name__}") from None

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for _, writer in conns:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readuntil(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise HttpError("bad status line")
    status = int(parts[1])
    length, chunked, keep = None, False, parts[0] == b"HTTP/1.1"
    while True:
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection":
            keep = value == b"keep-alive" if parts[0] == b"HTTP/1.0" else value != b"close"
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()  # body until close
        keep = False
    return status, keep
