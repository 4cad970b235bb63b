"""Site supervisor: brings back a container that died while it was meant to run.

The engine's restart policy restarts a container whose process crashes, is OOM-killed or is
SIGKILLed from inside, but it treats ``docker kill`` (and ``docker kill -s <stop signal>``) as a
manual stop and leaves the container down for good. This supervisor watches its site's engine for
``die`` events of the stack's containers at its site and starts a container again when

- its restart policy says it should keep running (``always``, ``unless-stopped``, or
  ``on-failure`` with a non-zero exit), so one-off containers (policy ``no``) are left alone;
- no ``stop`` event followed within the grace period: ``docker stop``, the program's replace and
  delete, and the DR fencing (municloud_ops/dr) all stop a container, and stopped stays stopped;
- the engine did not restart it itself meanwhile (in-process crashes stay the engine's job).

A container started more than ``MAX_STARTS`` times within ``WINDOW_S`` is given up on (a crash
loop needs an operator), with a sentence saying so. It runs in its own container with no network
and only the engine's socket (docs/security.md, "The site supervisor"); a site power cut takes it
down with everything else, which is what a DR rehearsal simulates (municloud_ops/dr/rehearsal.py).

Standard library only: it runs from the python image with nothing but this module.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import queue
import socket
import sys
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field

log = logging.getLogger("municloud.supervisor")

COMPONENT = "supervisor"
SOCKET = "/run/docker.sock"
GRACE_S = 1.0
MAX_STARTS = 5
WINDOW_S = 300.0


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None = 30.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class Engine:
    """The few Docker engine API calls the supervisor (and the status prober) need, over the unix socket."""

    def __init__(self, path: str = SOCKET) -> None:
        self.path = path

    def _call(self, method: str, url: str) -> tuple[int, bytes]:
        conn = _UnixConnection(self.path)
        try:
            conn.request(method, url)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def inspect(self, cid: str) -> dict | None:
        status, body = self._call("GET", f"/containers/{cid}/json")
        return json.loads(body) if status == 200 else None

    def stats(self, cid: str) -> dict | None:
        """The engine's figures of a running container, one sample (no wait for a second one)."""
        status, body = self._call("GET", f"/containers/{cid}/stats?stream=false&one-shot=true")
        return json.loads(body) if status == 200 else None

    def start(self, cid: str) -> int:
        return self._call("POST", f"/containers/{cid}/start")[0]

    def _post_json(self, url: str, body: dict) -> tuple[int, bytes]:
        conn = _UnixConnection(self.path)
        try:
            conn.request("POST", url, body=json.dumps(body), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def containers(self, labels: list[str]) -> list[dict]:
        """Every container (running or not) carrying every label, as the engine lists them."""
        filters = json.dumps({"label": labels})
        status, body = self._call("GET", "/containers/json?all=1&filters=" + urllib.parse.quote(filters))
        if status != 200:
            raise ConnectionError(f"engine refused the container list: HTTP {status}")
        return json.loads(body)

    def exec(self, cid: str, cmd: list[str], user: str = "", timeout_s: int = 20) -> tuple[int, str]:
        """Run ``cmd`` in a running container (ended after ``timeout_s``: exit 124); its exit code and
        standard output (the status prober's psql and pgbackrest queries, municloud/status/prober.py)."""
        status, body = self._post_json(f"/containers/{cid}/exec", {
            "Cmd": ["timeout", str(timeout_s), *cmd], "User": user, "Env": ["PGCONNECT_TIMEOUT=5"],
            "AttachStdout": True, "AttachStderr": True})
        if status != 201:
            return -1, ""
        exec_id = json.loads(body)["Id"]
        status, raw = self._post_json(f"/exec/{exec_id}/start", {"Detach": False, "Tty": False})
        out, i = bytearray(), 0
        while i + 8 <= len(raw):  # the engine's multiplexed stream: 8-byte header per frame
            kind, size = raw[i], int.from_bytes(raw[i + 4:i + 8], "big")
            if kind == 1:
                out += raw[i + 8:i + 8 + size]
            i += 8 + size
        status, body = self._call("GET", f"/exec/{exec_id}/json")
        code = json.loads(body).get("ExitCode") if status == 200 else None
        return (code if code is not None else -1), out.decode(errors="replace")

    def events(self, labels: list[str]):
        """Yield container events (die, stop) of containers carrying every label, until the stream ends."""
        filters = json.dumps({"type": ["container"], "event": ["die", "stop"], "label": labels})
        conn = _UnixConnection(self.path, timeout=None)
        try:
            conn.request("GET", "/events?filters=" + urllib.parse.quote(filters))
            resp = conn.getresponse()
            if resp.status != 200:
                raise ConnectionError(f"engine refused the event stream: HTTP {resp.status}")
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()


def should_run(info: dict) -> bool:
    """Whether the container's restart policy asks for it to be running after this exit."""
    policy = (info.get("HostConfig", {}).get("RestartPolicy") or {}).get("Name") or "no"
    if policy in ("always", "unless-stopped"):
        return True
    return policy == "on-failure" and int(info.get("State", {}).get("ExitCode") or 0) != 0


@dataclass
class Supervisor:
    """Decides, for each ``die``, whether to start the container again (see the module docstring)."""

    engine: Engine
    grace_s: float = GRACE_S
    max_starts: int = MAX_STARTS
    window_s: float = WINDOW_S
    clock: object = time.monotonic
    pending: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    starts: dict[str, deque] = field(default_factory=dict)

    def on_event(self, event: dict) -> None:
        cid, action = event.get("id", ""), event.get("Action") or event.get("status")
        name = (event.get("Actor", {}).get("Attributes") or {}).get("name", cid[:12])
        if action == "die":
            now = self.clock()
            self.pending[cid] = (now + self.grace_s, now, name)
        elif action == "stop":
            self.pending.pop(cid, None)  # stopped on purpose: stays stopped

    def due(self) -> list[str]:
        """Sentences for the containers whose grace period ended (each one handled once)."""
        now = self.clock()
        out = []
        for cid, (deadline, died_at, name) in list(self.pending.items()):
            if deadline <= now:
                del self.pending[cid]
                sentence = self.handle(cid, name, died_at)
                if sentence:
                    out.append(sentence)
        return out

    def handle(self, cid: str, name: str, died_at: float) -> str | None:
        info = self.engine.inspect(cid)
        if info is None:
            return None  # removed (docker rm -f, a replace): nothing to bring back
        state = info.get("State", {})
        if state.get("Running") or state.get("Restarting"):
            return None  # the engine's restart policy took it (an in-process crash)
        if not should_run(info):
            return None
        recent = self.starts.setdefault(cid, deque())
        now = self.clock()
        while recent and now - recent[0] > self.window_s:
            recent.popleft()
        if len(recent) >= self.max_starts:
            return (f"gave up on {name}: started {len(recent)} times in {self.window_s:.0f} s and it died "
                    f"again (exit {state.get('ExitCode')}); an operator must look at it")
        status = self.engine.start(cid)
        recent.append(now)
        if status not in (204, 304):
            return f"could not start {name} again (engine answered HTTP {status})"
        return (f"started {name} again {now - died_at:.1f} s after it died (exit {state.get('ExitCode')}, "
                f"oom {bool(state.get('OOMKilled'))}, not stopped on purpose)")


def run(stack: str, site: str, engine: Engine | None = None, stop: threading.Event | None = None) -> None:
    """Watch the engine until ``stop`` is set, reconnecting when the event stream breaks."""
    engine = engine or Engine()
    stop = stop or threading.Event()
    sup = Supervisor(engine)
    events: queue.Queue = queue.Queue()
    labels = [f"municloud.stack={stack}", f"municloud.site={site}"]

    def reader() -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                log.info("watching containers of stack %s at site %s", stack, site)
                for event in engine.events(labels):
                    backoff = 0.5
                    events.put(event)
            except (OSError, ConnectionError, http.client.HTTPException, ValueError) as exc:
                log.warning("event stream of the engine broke (%s); reconnecting in %.1f s", exc, backoff)
            stop.wait(backoff)
            backoff = min(10.0, backoff * 2)

    threading.Thread(target=reader, name="events", daemon=True).start()
    while not stop.is_set():
        try:
            sup.on_event(events.get(timeout=0.2))
        except queue.Empty:
            pass
        for sentence in sup.due():
            log.warning(sentence)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m municloud.supervisor", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--socket", default=SOCKET)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    run(args.stack, args.site, Engine(args.socket))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
