"""Real client addresses at the gateway, on the live stack (decision 0019): the frontdoor runs on the
host network, so no userland proxy stands between the client and HAProxy, and the address it hands
to the gateway by PROXY protocol is the client's own. Rate limits and the access log are per client.

On the e2e tier's stack (``e2e_stack``: the shared session stack ``live_stack`` unless
MC_E2E_STACK names one of its own). Clients are sockets bound to 127.0.0.2 and 127.0.0.3 (on Linux the whole 127/8 is local), talking
to the frontdoor on 127.0.0.1 only. A client's bucket is emptied by pipelined POSTs to a member's
open data path: the gateway counts them against the client's address (limit_req runs before access
control) and refuses each with 403 itself (open data is GET only), so the flood reaches no service.
Every batch is bounded in count (MAX_BATCH per connection, 3 x burst per flood) and every socket in
time (SOCKET_TIMEOUT_S).
"""

from __future__ import annotations

import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from e2e_support import A, B, report

pytestmark = [pytest.mark.live, pytest.mark.e2e]

MAX_BATCH = 800  # below nginx's keepalive_requests (1000): the gateway closes a connection after that many
PIPELINE = 100  # requests written at once on one connection
SOCKET_TIMEOUT_S = 30.0
LOG_WAIT_S = 15.0  # the gateway's access log is flushed every 2 s (buffer=64k flush=2s)


@dataclass
class Batch:
    """The answers of one pipelined batch from one client socket."""

    source: str
    statuses: list[int]
    seconds: float
    #: when each request was written (time.monotonic): the gateway handled it no earlier
    sent: list[float]

    @property
    def refused(self) -> int:
        return self.statuses.count(429)

    @property
    def admitted(self) -> int:
        return len(self.statuses) - self.refused

    @property
    def last_admitted_sent(self) -> float:
        """When the last request the rate limit let through was written: the limit's bucket was
        last charged no earlier (refused requests do not charge it)."""
        return max(t for t, status in zip(self.sent, self.statuses) if status != 429)


class Client:
    """One TLS connection to the frontdoor from ``source`` (a loopback address of this host)."""

    def __init__(self, stack, source: str) -> None:
        url = urlsplit(stack.frontdoor_url)
        assert url.hostname == "127.0.0.1", url  # traffic to the published loopback frontdoor only
        context = ssl.create_default_context(cafile=str(stack.ca_file))
        context.check_hostname = False  # the gateway's name, not the address it is reached at
        raw = socket.create_connection((url.hostname, url.port), timeout=SOCKET_TIMEOUT_S,
                                       source_address=(source, 0))
        self.source = source
        self.sock = context.wrap_socket(raw, server_hostname="gateway.municloud")
        self.buffer = b""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()

    def batch(self, requests: list[tuple[str, str]]) -> Batch:
        """Send the (method, path)s pipelined (HTTP/1.1), PIPELINE at a time, reading each group's
        answers before the next group (so neither side's buffers fill up while the other waits)."""
        assert 0 < len(requests) <= MAX_BATCH
        t0 = time.monotonic()
        statuses: list[int] = []
        sent: list[float] = []
        for i in range(0, len(requests), PIPELINE):
            group = requests[i:i + PIPELINE]
            sent += [time.monotonic()] * len(group)
            self.sock.sendall(b"".join(
                f"{method} {path} HTTP/1.1\r\nHost: gateway.municloud\r\nContent-Length: 0\r\n\r\n".encode()
                for method, path in group))
            statuses += [self._answer() for _ in group]
        return Batch(self.source, statuses, time.monotonic() - t0, sent)

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the frontdoor closed the connection from {self.source}")
        self.buffer += chunk

    def _answer(self) -> int:
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                while b"\r\n" not in self.buffer:
                    self._read()
                size_line, _, self.buffer = self.buffer.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(self.buffer) < size + 2:
                    self._read()
                self.buffer = self.buffer[size + 2:]
                if size == 0:
                    break
        else:
            length = int(headers.get("content-length", "0"))
            while len(self.buffer) < length:
                self._read()
            self.buffer = self.buffer[length:]
        return int(lines[0].split(" ", 2)[1])


def _limits(stack) -> tuple[int, int]:
    from stacks.config import DEFAULTS

    rate = stack.config("municloud:gateway_rate_per_second") or DEFAULTS["gateway_rate_per_second"]
    burst = stack.config("municloud:gateway_burst") or DEFAULTS["gateway_burst"]
    return int(rate), int(burst)


def _flood(lgcode: str, n: int) -> list[tuple[str, str]]:
    return [("POST", f"/{lgcode}/opendata/flood.csv")] * n


def flood(stack, source: str, lgcode: str, n: int) -> Batch:
    """``n`` counted requests from ``source``, on as many connections as nginx needs (MAX_BATCH each)."""
    t0, statuses, sent = time.monotonic(), [], []
    for i in range(0, n, MAX_BATCH):
        with Client(stack, source) as client:
            batch = client.batch(_flood(lgcode, min(MAX_BATCH, n - i)))
        statuses, sent = statuses + batch.statuses, sent + batch.sent
    return Batch(source, statuses, time.monotonic() - t0, sent)


def _logged_clients(gateway, marker: str) -> set[str]:
    """The client addresses the gateway logged for requests whose path holds ``marker``."""
    deadline = time.monotonic() + LOG_WAIT_S
    while time.monotonic() < deadline:
        found = {line.split()[0] for line in gateway.logs(tail=5000).decode(errors="replace").splitlines()
                 if marker in line}
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no gateway log line for {marker}")


def test_two_client_addresses_get_two_rate_limit_buckets(e2e_stack):
    rate, burst = _limits(e2e_stack)
    # the flood: enough to empty a bucket even if serving it took (3 * burst - burst) / rate seconds;
    # the probe: just under a whole bucket, which a fresh bucket admits and an emptied one does not
    flood_size, probe_size = 3 * burst, burst - 10
    with Client(e2e_stack, "127.0.0.3") as second:  # connected first: the probe follows the flood at once
        flooded = flood(e2e_stack, "127.0.0.2", A, flood_size)
        t_flood_done = time.monotonic()
        probe = second.batch(_flood(A, probe_size) + [("GET", f"/{A}/residents_registry/readyz")])
        gap = time.monotonic() - t_flood_done
    report("client addresses", f"{flooded.source}: {flood_size} requests in {flooded.seconds:.2f} s, {flooded.refused} "
                               f"refused (429); then {probe.source}: {probe_size + 1} requests within {gap:.2f} s, "
                               f"{probe.refused} refused; limit {rate} r/s burst {burst}")
    assert flooded.refused > 0, f"the flood from {flooded.source} was not held: {flooded.statuses[-5:]}"
    assert set(flooded.statuses) <= {403, 429}, set(flooded.statuses)  # the gateway answered every one itself
    # another address: a bucket of its own, untouched by the flood
    assert probe.refused == 0, probe.statuses
    assert probe.statuses[-1] == 200
    # discriminating: one shared bucket would have admitted at most rate * gap of the probe
    assert rate * gap + 1 < probe_size, f"the probe came {gap:.2f} s after the flood: too late to tell"


def test_twin_two_clients_from_one_address_share_one_bucket(e2e_stack):
    rate, burst = _limits(e2e_stack)
    flood_size, probe_size = 3 * burst, burst - 10
    # the flood empties 127.0.0.2's bucket whatever the test above left in it
    with Client(e2e_stack, "127.0.0.2") as second:
        flooded = flood(e2e_stack, "127.0.0.2", B, flood_size)
        t_flood_done = time.monotonic()
        probe = second.batch(_flood(B, probe_size) + [("GET", f"/{B}/residents_registry/readyz")])
        gap = time.monotonic() - t_flood_done
    # the bucket refilled from the flood's last charge to the probe's last request: at most from the
    # writing of the last flood request it let through to the probe's end, whatever the client's
    # reading of the flood's answers took after the gateway had handled them (a loaded machine)
    window = time.monotonic() - flooded.last_admitted_sent
    report("client addresses", f"twin: {flooded.source} twice: flood {flooded.refused}/{flood_size} refused, then the "
                               f"second connection {probe.refused}/{probe_size + 1} refused within {gap:.2f} s "
                               f"({window:.2f} s after the flood's last admitted request was written)")
    assert flooded.refused > 0
    # the same address on a second connection: the bucket the flood emptied, refilled only by rate * window
    assert probe.refused > 0, probe.statuses
    assert probe.admitted <= rate * window + 2, (probe.admitted, window)
    # discriminating: a bucket of its own would have admitted (nearly) the whole probe
    assert rate * window + 2 < probe_size, f"the probe ended {window:.2f} s after the flood's last charge: too late to tell"


def test_the_gateway_access_log_shows_each_clients_own_address(e2e_stack):
    gateway = e2e_stack.container("gateway")
    markers = {}
    for source in ("127.0.0.2", "127.0.0.3"):
        markers[source] = f"client-{uuid.uuid4().hex[:12]}"
        with Client(e2e_stack, source) as client:
            [status] = client.batch([("GET", f"/{A}/residents_registry/{markers[source]}")]).statuses
        assert status == 404, status  # reached the member's registry, which knows no such path
    for source, marker in markers.items():
        assert _logged_clients(gateway, marker) == {source}
