"""Status prober: measures its site's units on the engine every few seconds and serves the
latest probe as Prometheus metrics (``GET /metrics``); Prometheus scrapes it.

It reaches the engine through its unix socket (like the site supervisor) and only lists
containers and runs two read-only queries in them (psql, pgbackrest info); it joins the
monitoring network only, which nothing but Prometheus shares.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from municloud.status.facts import Facts, exposition, probe
from municloud.supervisor import SOCKET, Engine

log = logging.getLogger("municloud.status.prober")

PROBER_PORT = 9100
UNIT_INTERVAL_S = 5.0
DEEP_INTERVAL_S = 30.0


class Prober:
    """Keeps the latest probe: units every UNIT_INTERVAL_S; replication, backups and usage every
    DEEP_INTERVAL_S in a thread of their own, so a slow ``docker exec`` never delays the units."""

    def __init__(self, engine: Engine, stack: str, site: str, standby_sites: set[str]) -> None:
        self.engine, self.stack, self.site, self.standby_sites = engine, stack, site, standby_sites
        self.latest: Facts | None = None
        self._deep: Facts | None = None
        self._last: float | None = None
        self._lock = threading.Lock()

    def once(self) -> Facts:
        now = time.monotonic()
        since = now - self._last if self._last is not None else None
        self._last = now
        facts = probe(self.engine, self.stack, self.standby_sites, self.site, deep=False, since_s=since)
        with self._lock:
            if self._deep is not None:
                facts.replication, facts.backups = self._deep.replication, self._deep.backups
                facts.usage = self._deep.usage
                facts.errors = list(self._deep.errors)
            self.latest = facts
        return facts

    def deep_once(self) -> Facts:
        deep = probe(self.engine, self.stack, self.standby_sites, self.site)
        for sentence in deep.errors:
            log.warning(sentence)
        with self._lock:
            self._deep = deep
        return deep

    def run(self, stop: threading.Event) -> None:
        def loop(step, interval: float) -> None:
            while not stop.is_set():
                try:
                    step()
                except (OSError, ConnectionError, ValueError) as exc:
                    log.warning("probe of stack %s at %s failed: %s", self.stack, self.site, exc)
                stop.wait(interval)

        threading.Thread(target=loop, args=(self.deep_once, DEEP_INTERVAL_S), name="deep", daemon=True).start()
        loop(self.once, UNIT_INTERVAL_S)


def serve(prober: Prober, port: int = PROBER_PORT) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            facts = prober.latest
            if self.path != "/metrics" or facts is None:
                self.send_error(404 if self.path != "/metrics" else 503)
                return
            body = exposition(facts).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("0.0.0.0", port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m municloud.status.prober", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--standby-site", action="append", default=[], help="site whose services wait as a pilot light")
    parser.add_argument("--socket", default=SOCKET)
    parser.add_argument("--port", type=int, default=PROBER_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    prober = Prober(Engine(args.socket), args.stack, args.site, set(args.standby_site))
    stop = threading.Event()
    threading.Thread(target=prober.run, args=(stop,), name="probe", daemon=True).start()
    log.info("probing stack %s at site %s; metrics on :%d/metrics", args.stack, args.site, args.port)
    serve(prober, args.port).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
