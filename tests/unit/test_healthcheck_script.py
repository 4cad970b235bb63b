"""The services' health check (images/python/healthcheck.sh, ``mc-healthcheck`` in the image):
healthy exactly when the service's own endpoint answers 200, run by bash against a local server."""

import http.server
import socket
import subprocess
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / "images" / "python" / "healthcheck.sh"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def service():
    """A local HTTP server answering each path with the status set in ``answers`` (404 otherwise)."""
    answers: dict[str, int] = {}
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append(self.path)
            self.send_response(answers.get(self.path, 404))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], answers, seen
    server.shutdown()
    server.server_close()


def _check(port: int, *args: str) -> int:
    return subprocess.run(["bash", str(SCRIPT), *args], env={"PORT": str(port), "PATH": "/usr/bin:/bin"},
                          capture_output=True, timeout=20).returncode


def test_healthy_when_readyz_answers_200(service):
    port, answers, seen = service
    answers["/readyz"] = 200
    assert _check(port) == 0 and seen == ["/readyz"]  # /readyz is the default


@pytest.mark.parametrize("status", [503, 500, 404])
def test_unhealthy_when_the_endpoint_answers_anything_else(service, status):
    port, answers, _ = service
    answers["/readyz"] = status
    assert _check(port, "/readyz") == 1


def test_the_path_is_the_argument(service):
    port, answers, seen = service
    answers["/healthz"] = 200
    assert (_check(port, "/healthz"), _check(port, "/readyz")) == (0, 1) and seen == ["/healthz", "/readyz"]


def test_unhealthy_when_nothing_listens():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    free = s.getsockname()[1]
    s.close()  # bound then closed: nothing listens there
    assert _check(free) == 1


def test_the_port_is_the_second_argument_over_the_environment(service):
    """The status prober's check names its own port (9100 in the image); $PORT is then not used."""
    port, answers, seen = service
    answers["/metrics"] = 200
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    free = s.getsockname()[1]
    s.close()
    assert _check(free, "/metrics", str(port)) == 0 and seen == ["/metrics"]
    assert _check(port, "/metrics", str(free)) == 1  # twin: the argument wins over $PORT
