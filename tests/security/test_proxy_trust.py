"""Client-address spoofing at the gateway, on the live stack: the gateway's public listener reads
the client address from the PROXY protocol header (its rate limit and its log key on it), and
believes that header only from the host side of its edge network, where the frontdoor (on the
host network, decision 0019) connects from. A container that shares a network with the gateway
(the platform hub, on its own network, which the gateway joins) claiming another client address
in its own header is logged — and rate limited — under its real address; the frontdoor's header is believed (twin): the gateway logs the client's
own address."""

from __future__ import annotations

import ssl
import time
import uuid

import httpx
import pytest

from security_support import TENANTS

pytestmark = [pytest.mark.live, pytest.mark.security, pytest.mark.stack]

GATEWAY_PUBLIC_PORT = 8444  # stacks/gateway.py
SPOOFED = "192.0.2.77"  # TEST-NET-1: only ever written into a header, never sent traffic

# Runs inside the hub container: one HTTPS request to the gateway's public listener, preceded by a
# PROXY v1 header that claims argv[3] as the client address.
SPOOF = """
import socket, ssl, sys
host, port, claimed, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ip = socket.gethostbyname(host)
raw = socket.create_connection((ip, port), timeout=10)
raw.sendall(f"PROXY TCP4 {claimed} {ip} 40000 {port}\\r\\n".encode())
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # a probe of our own gateway
with ctx.wrap_socket(raw, server_hostname=host) as s:
    s.sendall(f"GET {path} HTTP/1.1\\r\\nHost: {host}\\r\\nConnection: close\\r\\n\\r\\n".encode())
    print(s.recv(64).decode(errors="replace").split("\\r\\n")[0])
"""


def _hub_net_ip(container, stack_name: str) -> str:
    container.reload()
    return container.attrs["NetworkSettings"]["Networks"][f"mc-{stack_name}-primary-hub-net"]["IPAddress"]


def _logged_client(gateway, marker: str, timeout: float = 15.0) -> str:
    """The client address the gateway logged for the request whose path holds ``marker``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # access log is flushed every 2 s (buffer=64k flush=2s)
        for line in gateway.logs(tail=2000).decode(errors="replace").splitlines():
            if marker in line:
                return line.split()[0]
        time.sleep(0.5)
    raise AssertionError(f"no gateway log line for {marker}")


@pytest.mark.attack("auth")
def test_a_gateway_neighbour_cannot_claim_a_client_address(live_stack):
    hub, gateway = live_stack.container("hub"), live_stack.container("gateway")
    marker = f"spoof-{uuid.uuid4().hex[:12]}"
    rc, out = hub.exec_run(["python3", "-c", SPOOF, gateway.name, str(GATEWAY_PUBLIC_PORT), SPOOFED,
                            f"/{TENANTS[0]}/residents_registry/{marker}"])
    assert rc == 0 and out.decode().startswith("HTTP/1.1 "), out.decode(errors="replace")
    logged = _logged_client(gateway, marker)
    assert logged != SPOOFED, "the gateway believed a PROXY header from the hub"
    assert logged == _hub_net_ip(hub, live_stack.name)


@pytest.mark.twin("auth")
def test_twin_the_frontdoor_header_is_believed(live_stack):
    gateway = live_stack.container("gateway")
    marker = f"front-{uuid.uuid4().hex[:12]}"
    client_address = "127.0.0.5"  # a loopback address of this host: the client's own, not the frontdoor's
    ctx = ssl.create_default_context(cafile=str(live_stack.ca_file))
    transport = httpx.HTTPTransport(verify=ctx, local_address=client_address)
    with httpx.Client(transport=transport, timeout=10) as http:
        response = http.get(f"{live_stack.frontdoor_url}/{TENANTS[0]}/residents_registry/{marker}")
    assert response.status_code < 500
    # the address the frontdoor claims is where the request reached it from: the client itself
    assert _logged_client(gateway, marker) == client_address
