"""The site gateway as an attack target: the real nginx image running the real
roles/gateway/templates/nginx.conf.j2, rendered with routes to the two tenants' services
(127.0.0.1, host network, listening on 127.0.0.1 only), read-only root filesystem, all
capabilities dropped, as deployed. Requests are sent byte-exact over TLS so that no client
library normalises the path tricks away."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "roles" / "gateway" / "templates" / "nginx.conf.j2"
WWW_DATA = 33  # the nginx image's user
# Rate limiting for the test: lower than the role's defaults (200 r/s, burst 400) so that one
# bounded flood from Python exceeds it; the mechanism (limit_req per client address) is the same.
TEST_RATE, TEST_BURST = 20, 40


@dataclass
class Gateway:
    port: int
    ca_file: Path
    container: object

    def request(self, target: str, token: str | None = None, *, method: str = "GET",
                source: str = "127.0.0.1", timeout: float = 5.0) -> tuple[int, bytes]:
        """Send `METHOD target HTTP/1.1` exactly as given; return (status, body)."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.check_hostname = False  # the certificate names gateway.municloud; we dial an IP
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout, source_address=(source, 0))
        with context.wrap_socket(raw) as sock:
            lines = [f"{method} {target} HTTP/1.1", "Host: gateway.municloud", "Connection: close"]
            if token:
                lines.append(f"Authorization: Bearer {token}")
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if b"transfer-encoding: chunked" in head.lower():
            body = _dechunk(body)
        return status, body


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, body = out + rest[:size], rest[size + 2:]
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render(routes: list[dict], port: int, rate: int = TEST_RATE, burst: int = TEST_BURST) -> str:
    """The role's template with its defaults and vars, as Ansible renders it (one renderer:
    policies.guardrails.render_role_template), for two tenants on 127.0.0.1."""
    from policies.guardrails import render_role_template

    return render_role_template("gateway", "nginx.conf.j2", {
        "gateway_bind_address": "127.0.0.1", "gateway_listen_port": port, "gateway_internal_port": 0,
        "gateway_real_ip_from": [], "gateway_server_name": "gateway.municloud",
        "gateway_tls_dir": "/run/secrets/gateway-tls", "gateway_rate_per_second": rate, "gateway_burst": burst,
        "gateway_routes": routes, "gateway_hub": {}})


@contextlib.contextmanager
def gateway(routes: list[dict]) -> Iterator[Gateway]:
    import docker

    from municloud_ops.images import ensure_image
    from municloud_ops.scratch.tls import CertificateAuthority

    client = docker.from_env(timeout=120)
    image = ensure_image("nginx", client)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="mc-sec-gw-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        conf, tls = root / "conf", root / "tls"
        conf.mkdir()
        tls.mkdir()
        (conf / "nginx.conf").write_text(render(routes, port), encoding="utf-8")
        ca = CertificateAuthority.create()
        cert, key = ca.issue("gateway.municloud", dns_names=("gateway.municloud",), ips=("127.0.0.1",))
        for name, content, mode in (("ca.crt", ca.cert_pem, 0o444), ("server.crt", cert, 0o444),
                                    ("server.key", key, 0o400)):
            (tls / name).write_bytes(content)
            os.chown(tls / name, WWW_DATA, WWW_DATA)
            os.chmod(tls / name, mode)
        for directory in (conf, tls):
            os.chmod(directory, 0o555)
        container = client.containers.run(
            image, name=f"mc-sec-gateway-{port}", detach=True, network_mode="host", read_only=True,
            cap_drop=["ALL"], security_opt=["no-new-privileges"], tmpfs={"/tmp": "rw,size=64m"},
            labels={"municloud.stack": "test", "municloud.site": "test", "municloud.lgcode": "shared",
                    "municloud.component": "gateway"},
            volumes={str(conf): {"bind": "/etc/municloud", "mode": "ro"},
                     str(tls): {"bind": "/run/secrets/gateway-tls", "mode": "ro"}})
        try:
            target = Gateway(port, tls / "ca.crt", container)
            deadline = time.monotonic() + 30
            while True:
                try:
                    if target.request("/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                container.reload()
                if time.monotonic() > deadline or container.status == "exited":
                    raise RuntimeError("gateway did not start:\n" + container.logs(tail=20).decode(errors="replace"))
                time.sleep(0.3)
            yield target
        finally:
            container.remove(force=True)
