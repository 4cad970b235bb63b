"""One harness for the tests that run an ASGI app (a service, the hub, receiver inboxes, a vendor
endpoint) in this process: uvicorn in a thread on a free loopback port, with an explicit wait until
it serves and a bounded shutdown."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(app, *, name: str = "asgi-app", port: int | None = None, startup_timeout_s: float = 90.0,
          shutdown_timeout_s: float = 15.0, log_level: str = "warning") -> Iterator[str]:
    """``with serve(app) as url:`` — ``url`` is ``http://127.0.0.1:<port>``; the app's lifespan runs
    (startup before the first request, shutdown at the end). Fails naming ``name`` when the server
    exits or does not start within ``startup_timeout_s``."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"{name} exited before it served (see its log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"{name} did not start within {startup_timeout_s:.0f} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=shutdown_timeout_s)
