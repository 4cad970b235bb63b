"""The edge as deployed: the real haproxy and nginx images running the configs roles/frontdoor and
roles/gateway render (host network, loopback only, upstreams = a recording echo server here).

- F-7: the hub API, platform inboxes and admin endpoints answer 404 through the frontdoor (the
  gateway's public listener) and are served on the gateway's internal listener (twin).
- Rate limiting: the frontdoor sends the client's address by PROXY protocol, the gateway believes
  it from the frontdoor only and keys limit_req on (real client, municipality): a bounded flood
  from one client gets 429 while another client, and the same client at another municipality,
  are still served.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from municloud_ops.ansible import AnsibleRunner

pytestmark = pytest.mark.integration

A, B = "053031", "053279"
RATE, BURST = 10, 10  # low, so that a bounded flood from Python exceeds it
WWW_DATA, HAPROXY_CA = 33, "/run/secrets/frontdoor-tls/ca.crt"
FLOOD_MAX_REQUESTS, FLOOD_MAX_SECONDS = 150, 20.0


def DOWN_ROUTES(closed_port: int) -> list[dict]:
    """Units that are down: nothing listens on the port (A nhi), or the name resolves nowhere (B tax)."""
    return [{"lgcode": A, "service": "nhi", "host": "127.0.0.1", "port": closed_port},
            {"lgcode": B, "service": "tax", "host": "mc-test-gone-unit", "port": 8000}]


class _Echo(BaseHTTPRequestHandler):
    """Records every request that reached an upstream: (method, path, X-Forwarded-For)."""

    hits: list[tuple[str, str, str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.hits.append((self.command, self.path, self.headers.get("x-forwarded-for", "")))
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Edge:
    def __init__(self, frontdoor: int, public: int, internal: int, ca_file: Path) -> None:
        self.frontdoor, self.public, self.internal, self.ca_file = frontdoor, public, internal, ca_file

    def request(self, port: int, target: str, *, method: str = "GET", source: str = "127.0.0.1",
                timeout: float = 5.0) -> tuple[int, bytes]:
        """`METHOD target HTTP/1.1` sent byte-exact over TLS from ``source``; (status, body)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.check_hostname = False
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
        with context.wrap_socket(raw, server_hostname="gateway.municloud") as sock:
            body = b"<x/>" if method == "POST" else b""
            head = [f"{method} {target} HTTP/1.1", "Host: gateway.municloud", "Connection: close",
                    f"Content-Length: {len(body)}", "Content-Type: application/xml"]
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head_bytes, _, payload = data.partition(b"\r\n\r\n")
        return int(head_bytes.split(b" ", 2)[1]), payload


def _render(runner: AnsibleRunner, role: str, variables: dict, out: Path, name: str) -> str:
    run = runner.apply_role(role, {**variables, f"{role}_output_dir": str(out)})
    assert (run.status, run.rc) == ("successful", 0), run.sentence()
    return (out / name).read_text(encoding="utf-8")


def _wait(edge: Edge, port: int, containers: list) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if edge.request(port, "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        for c in containers:
            c.reload()
            if c.status == "exited":
                raise RuntimeError(f"{c.name} exited:\n" + c.logs(tail=20).decode(errors="replace"))
        if time.monotonic() > deadline:
            raise RuntimeError("edge did not start:\n" + "\n".join(
                c.logs(tail=10).decode(errors="replace") for c in containers))
        time.sleep(0.3)


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    import docker

    from municloud_ops.images import ensure_image
    from municloud_ops.scratch.tls import CertificateAuthority

    echo = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    echo_port = echo.server_address[1]
    client = docker.from_env(timeout=120)
    nginx, haproxy = ensure_image("nginx", client), ensure_image("haproxy", client)
    public, internal, fd_port = (_free_port() for _ in range(3))
    root = tmp_path_factory.mktemp("edge")
    os.chmod(root, 0o755)
    runner = AnsibleRunner(root / "state")
    routes = [{"lgcode": code, "service": svc, "host": "127.0.0.1", "port": echo_port}
              for code, svc in ((A, "residents_registry"), (A, "tax"), (B, "residents_registry"))]
    routes += DOWN_ROUTES(_free_port())
    gw_conf = _render(runner, "gateway", {
        "gateway_bind_address": "127.0.0.1", "gateway_listen_port": public, "gateway_internal_port": internal,
        "gateway_real_ip_from": ["127.0.0.1/32"], "gateway_rate_per_second": RATE, "gateway_burst": BURST,
        "gateway_routes": routes, "gateway_hub": {"host": "127.0.0.1", "port": echo_port},
        "gateway_status": {"host": "127.0.0.1", "port": echo_port}},
        root / "gw-out", "nginx.conf")
    fd_conf = _render(runner, "frontdoor", {
        "frontdoor_bind_address": "127.0.0.1", "frontdoor_listen_port": fd_port, "frontdoor_ca_file": HAPROXY_CA,
        "frontdoor_backends": [{"name": "primary", "host": "127.0.0.1", "port": public, "source": "127.0.0.1",
                                "backup": False}]},
        root / "fd-out", "haproxy.cfg")
    ca = CertificateAuthority.create()
    cert, key = ca.issue("gateway.municloud", ips=("127.0.0.1",))
    dirs = {name: root / name for name in ("gw-conf", "gw-tls", "fd-conf", "fd-tls")}
    for d in dirs.values():
        d.mkdir()
    files = [("gw-conf", "nginx.conf", gw_conf.encode(), 0o444), ("gw-tls", "ca.crt", ca.cert_pem, 0o444),
             ("gw-tls", "server.crt", cert, 0o444), ("gw-tls", "server.key", key, 0o400),
             ("fd-conf", "haproxy.cfg", fd_conf.encode(), 0o444), ("fd-tls", "ca.crt", ca.cert_pem, 0o444)]
    for d, name, content, mode in files:
        path = dirs[d] / name
        path.write_bytes(content)
        os.chown(path, WWW_DATA, WWW_DATA)
        os.chmod(path, mode)
    for d in dirs.values():
        os.chmod(d, 0o555)
    common = {"detach": True, "network_mode": "host", "read_only": True, "cap_drop": ["ALL"],
              "security_opt": ["no-new-privileges"], "tmpfs": {"/tmp": "rw,size=16m"},
              "labels": {"municloud.stack": "test", "municloud.site": "test", "municloud.lgcode": "shared",
                         "municloud.component": "gateway"}}
    containers = []
    try:
        containers.append(client.containers.run(nginx, name=f"mc-test-edge-gw-{public}", **common, volumes={
            str(dirs["gw-conf"]): {"bind": "/etc/municloud", "mode": "ro"},
            str(dirs["gw-tls"]): {"bind": "/run/secrets/gateway-tls", "mode": "ro"}}))
        common["labels"] = {**common["labels"], "municloud.component": "frontdoor"}
        containers.append(client.containers.run(haproxy, name=f"mc-test-edge-fd-{fd_port}", **common, volumes={
            str(dirs["fd-conf"]): {"bind": "/etc/municloud", "mode": "ro"},
            str(dirs["fd-tls"]): {"bind": "/run/secrets/frontdoor-tls", "mode": "ro"}}))
        target = Edge(fd_port, public, internal, dirs["gw-tls"] / "ca.crt")
        _wait(target, internal, containers)
        _wait(target, fd_port, containers)  # /healthz of the public listener, behind PROXY protocol
        yield target
    finally:
        for c in containers:
            c.remove(force=True)
        echo.shutdown()


MACHINE_PATHS = [
    ("GET", "/hub/api/v1/log/verify"),
    ("GET", "/hub/"),
    ("POST", "/hub/api/v1/messages"),
    ("POST", f"/{A}/tax/api/v1/platform/inbox"),
    ("POST", f"/{A}/residents_registry/api/v1/platform/inbox"),
    ("POST", f"/{A}/tax/api/v1//platform/inbox"),
    ("POST", f"/{A}/tax/api/v1/./platform/inbox"),
    ("POST", f"/{A}/tax/api/v1/x/../platform/inbox"),
    ("POST", f"/{A}/tax/api/v1/%70latform/inbox"),
    ("POST", f"/{A}/tax/api%2Fv1%2Fplatform%2Finbox"),
    ("POST", f"/{A}/tax/API/v1/Platform/inbox"),
    ("POST", f"/{A}/tax/api/v1/admin/seed"),
    ("POST", f"/{A}/tax/api/v1/admin"),
    ("POST", f"//{A}/tax/api/v1/admin/seed"),
]


@pytest.mark.parametrize("method,target", MACHINE_PATHS)
def test_machine_paths_are_not_served_through_the_frontdoor(edge, method, target):
    before = len(_Echo.hits)
    status, _ = edge.request(edge.frontdoor, target, method=method, source="127.0.0.11")
    assert status in (400, 404), (target, status)
    assert len(_Echo.hits) == before, f"{target} reached an upstream: {_Echo.hits[before:]}"


@pytest.mark.parametrize("method,target,upstream_path", [
    ("GET", "/hub/api/v1/log/verify", "/api/v1/log/verify"),
    ("POST", f"/{A}/tax/api/v1/platform/inbox", "/api/v1/platform/inbox"),
    ("POST", f"/{B}/residents_registry/api/v1/platform/inbox", "/api/v1/platform/inbox"),
    ("POST", f"/{A}/tax/api/v1/admin/seed", "/api/v1/admin/seed"),
])
def test_twin_machine_paths_are_served_on_the_internal_listener(edge, method, target, upstream_path):
    status, body = edge.request(edge.internal, target, method=method, source="127.0.0.12")
    assert status == 200 and json.loads(body)["path"] == upstream_path


def test_staff_routes_are_served_through_the_frontdoor_only(edge):
    status, body = edge.request(edge.frontdoor, f"/{A}/residents_registry/api/v1/residents/x", source="127.0.0.13")
    assert status == 200 and json.loads(body)["path"] == "/api/v1/residents/x"
    assert edge.request(edge.internal, f"/{A}/residents_registry/api/v1/residents/x")[0] == 404


def test_status_page_is_public_get_only_through_the_frontdoor(edge):
    """GET /status reaches the page unchanged; another method or a path below it reaches nothing."""
    status, body = edge.request(edge.frontdoor, "/status", source="127.0.0.16")
    assert status == 200 and json.loads(body)["path"] == "/status"
    before = len(_Echo.hits)
    for method, target in (("POST", "/status"), ("GET", "/status/../hub/"), ("GET", "/status/x")):
        status, _ = edge.request(edge.frontdoor, target, method=method, source="127.0.0.16")
        assert status in (400, 403, 404), (method, target, status)
    assert _Echo.hits[before:] == []
    assert edge.request(edge.internal, "/status")[0] == 404  # not on the internal listener


def test_open_data_is_public_read_only_and_not_a_way_into_the_service(edge):
    """/<lgcode>/opendata/ reaches only /api/v1/opendata/ of that municipality's registry, GET only."""
    status, body = edge.request(edge.frontdoor, f"/{A}/opendata/catalog.jsonld?as_of=2026-04-01",
                                source="127.0.0.15")
    assert status == 200 and json.loads(body)["path"] == "/api/v1/opendata/catalog.jsonld?as_of=2026-04-01"
    before = len(_Echo.hits)
    for method, target in (("POST", f"/{A}/opendata/catalog.jsonld"),
                           ("GET", f"/{A}/opendata/../residents_registry/api/v1/admin/seed"),
                           ("GET", f"/{A}/opendata/%2e%2e/residents/x")):
        status, _ = edge.request(edge.frontdoor, target, method=method, source="127.0.0.15")
        assert status in (400, 403, 404), (method, target, status)
    assert [h for h in _Echo.hits[before:] if not h[1].startswith("/api/v1/opendata/")] == []
    assert edge.request(edge.internal, f"/{A}/opendata/catalog.jsonld")[0] == 404
    # another municipality: its own registry's open data path
    assert edge.request(edge.frontdoor, f"/{B}/opendata/x.csv", source="127.0.0.15")[0] == 200
    assert _Echo.hits[-1][1] == "/api/v1/opendata/x.csv"


def test_frontdoor_hands_the_client_address_to_the_gateway(edge):
    status, _ = edge.request(edge.frontdoor, f"/{B}/residents_registry/api/v1/who", source="127.0.0.14")
    assert status == 200
    assert _Echo.hits[-1][2].split(",")[-1].strip() == "127.0.0.14", _Echo.hits[-1]


def test_public_listener_refuses_a_connection_without_proxy_header(edge):
    """Only the frontdoor speaks to the public listener (PROXY protocol first); a direct TLS
    client is cut off before any route is evaluated."""
    with pytest.raises((OSError, ssl.SSLError)):
        edge.request(edge.public, f"/{A}/residents_registry/healthz", timeout=3)


def test_flood_from_one_client_is_held_per_client_and_municipality(edge):
    statuses: dict[int, int] = {}
    started = time.monotonic()
    sent = 0
    while sent < FLOOD_MAX_REQUESTS and time.monotonic() - started < FLOOD_MAX_SECONDS:
        sent += 1
        with contextlib.suppress(OSError):
            status, _ = edge.request(edge.frontdoor, f"/{A}/residents_registry/healthz", source="127.0.0.2")
            statuses[status] = statuses.get(status, 0) + 1
        if statuses.get(429, 0) >= 20:
            break
    elapsed = time.monotonic() - started
    print(f"\nflood from 127.0.0.2 at {A}: {sent} requests in {elapsed:.1f} s, statuses {statuses}; "
          f"limit {RATE} r/s burst {BURST}")
    assert statuses.get(429, 0) > 0, "the flood was not held by rate limiting"
    assert statuses.get(200, 0) <= BURST + RATE * elapsed * 1.1 + 2
    # the same municipality from another client, and the same client at another municipality
    other_client = edge.request(edge.frontdoor, f"/{A}/residents_registry/healthz", source="127.0.0.3")[0]
    other_tenant = edge.request(edge.frontdoor, f"/{B}/residents_registry/healthz", source="127.0.0.2")[0]
    assert (other_client, other_tenant) == (200, 200)


def test_twin_requests_under_the_limit_are_all_served(edge):
    statuses = []
    for _ in range(8):
        statuses.append(edge.request(edge.frontdoor, f"/{A}/tax/healthz", source="127.0.0.4")[0])
        time.sleep(1.5 / RATE)
    assert statuses == [200] * 8


# --- fail fast, JSON errors, TLS profile -------------------------------------------------------------

def _raw(edge: Edge, data: bytes, port: int | None = None) -> tuple[int, dict, bytes, float]:
    """Send ``data`` byte-exact over TLS to the internal listener; (status, headers, body, seconds)."""
    context = ssl.create_default_context(cafile=str(edge.ca_file))
    context.check_hostname = False
    t0 = time.monotonic()
    raw = socket.create_connection(("127.0.0.1", port or edge.internal), timeout=10)
    with context.wrap_socket(raw, server_hostname="gateway.municloud") as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    seconds = time.monotonic() - t0
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
    return int(lines[0].split(" ", 2)[1]), headers, body, seconds


def _get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: gateway.municloud\r\nConnection: close\r\n{extra}\r\n".encode()


@pytest.mark.parametrize("lgcode,service", [(A, "nhi"), (B, "tax")], ids=["nothing-listens", "name-unknown"])
def test_a_unit_that_is_down_answers_json_503_within_1_s(edge, lgcode, service):
    status, headers, body, seconds = _raw(edge, _get(f"/{lgcode}/{service}/api/v1/platform/inbox"))
    assert status == 503 and json.loads(body)["error"]["code"] == "unavailable", (status, body)
    assert headers["content-type"] == "application/json" and headers["retry-after"] == "5"
    assert seconds < 1.0, f"{lgcode}/{service}: 503 after {seconds:.2f} s"


def test_twin_a_unit_that_is_up_answers_through_the_same_listener(edge):
    status, _headers, body, _ = _raw(edge, _get(f"/{A}/tax/api/v1/platform/inbox"))
    assert status == 200 and json.loads(body)["path"] == "/api/v1/platform/inbox"


@pytest.mark.parametrize("name,data,status,code", [
    ("no-host", b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "bad_request"),
    ("garbage", b"\x16NOT HTTP\r\n\r\n", 400, "bad_request"),
    ("body-too-large", _get(f"/{A}/tax/api/v1/platform/inbox", "Content-Length: 17000000\r\n").replace(
        b"GET", b"POST", 1), 413, "payload_too_large"),
    ("uri-too-long", _get("/" + "a" * 9000), 414, "uri_too_long"),
    ("header-too-large", _get("/", "X-Big: " + "b" * 9000 + "\r\n"), 400, "header_too_large"),
    ("no-route", _get("/999999/tax/"), 404, "no_route"),
])
def test_errors_nginx_produces_are_json(edge, name, data, status, code):
    got, headers, body, _ = _raw(edge, data)
    assert got == status, (name, got, body[:200])
    assert headers.get("content-type") == "application/json", (name, headers)
    assert json.loads(body)["error"]["code"] == code, (name, body)


def test_twin_an_upstream_error_body_is_passed_through_untouched(edge):
    """Only nginx's own errors are rewritten: an upstream's answer (here 200) reaches the client as sent."""
    status, headers, body, _ = _raw(edge, _get(f"/{A}/tax/api/v1/admin/seed"))
    assert status == 200 and json.loads(body) == {"path": "/api/v1/admin/seed"}


def test_every_answer_carries_hsts(edge):
    for data in (_get(f"/{A}/tax/api/v1/platform/inbox"), _get("/999999/tax/"), _get(f"/{A}/nhi/readyz")):
        _status, headers, _body, _ = _raw(edge, data)
        assert headers.get("strict-transport-security", "").startswith("max-age=63072000"), headers


@pytest.fixture(scope="module")
def weak_tls_server(tmp_path_factory):
    """A deliberately weak TLS server on 127.0.0.1 (TLS 1.2, a CBC suite only) with a certificate
    of the same kind as the gateway's, so the cipher suites are the one thing that differs."""
    import subprocess

    from municloud_ops.scratch.tls import CertificateAuthority

    root = tmp_path_factory.mktemp("weak-tls")
    ca = CertificateAuthority.create()
    cert, key = ca.issue("gateway.municloud", ips=("127.0.0.1",))
    for name, content in (("ca.crt", ca.cert_pem), ("server.crt", cert), ("server.key", key)):
        (root / name).write_bytes(content)
    port = _free_port()
    proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(root / "server.crt"),
                             "-key", str(root / "server.key"), "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA",
                             "-www", "-quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        yield port, root / "ca.crt"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_the_edge_complies_with_mozillas_intermediate_tls_profile(edge):
    from support.tls_scan import mozilla_check

    check = mozilla_check(edge.frontdoor, edge.ca_file, "gateway.municloud")
    print("\n" + check.sentence(f"frontdoor 127.0.0.1:{edge.frontdoor}", "intermediate"))
    assert check.compliant, check.sentence("the edge", "intermediate") + "\n" + check.output[-6000:]


def test_twin_a_weak_tls_server_fails_the_same_check_on_its_ciphers(weak_tls_server):
    from support.tls_scan import mozilla_check

    port, ca_file = weak_tls_server
    check = mozilla_check(port, ca_file, "gateway.municloud")
    assert not check.compliant
    assert [p for p in check.problems if p.startswith("ciphers:") and "CBC" in p], check.problems
