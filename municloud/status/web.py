"""The status page server: reads the prober's series from Prometheus, renders the page.

``GET /status`` (through the gateways and the frontdoor: public, read only, GET only) and
``GET /status/healthz``. Every figure on the page is one PromQL query (QUERIES) against the
stack's Prometheus; nothing is cached, so the page is as fresh as the last scrape.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from municloud.naming import SERVICE_PORT
from municloud.status.availability import WINDOWS, observed_fraction
from municloud.status.page import Section, StatusView, UnitRow, render

log = logging.getLogger("municloud.status.web")

SCRAPE_INTERVAL_S = 5.0
#: a site whose prober has not reported for this long shows its units as unknown
STALE_AFTER_S = 30.0
QUERIES = {
    "up": "municloud_unit_up",
    "standby": "municloud_unit_standby",
    **{f"avail_{w}": f"avg_over_time(municloud_unit_up[{w}])" for w in WINDOWS},
    **{f"count_{w}": f"count_over_time(municloud_unit_up[{w}])" for w in WINDOWS},
    "standbys": "municloud_replication_standbys",
    "lag_bytes": "municloud_replication_lag_bytes",
    "lag_seconds": "municloud_replication_lag_seconds",
    "backup_age": "time() - max by (stanza) (municloud_backup_last_verified_timestamp_seconds)",
    "probe_age": "time() - max by (prober_site) (municloud_probe_timestamp_seconds)",
    # usage per member (and the shared units): the engine's figures of every running unit
    "cpu_5m": "sum by (lgcode) (rate(municloud_unit_cpu_seconds_total[5m]))",
    "cpu_24h": "sum by (lgcode) (increase(municloud_unit_cpu_seconds_total[24h])) / 3600",
    "memory": "sum by (lgcode) (municloud_unit_memory_bytes)",
}


class PrometheusError(RuntimeError):
    """Prometheus did not answer a query."""


def query(base_url: str, promql: str, timeout_s: float = 5.0) -> list[dict]:
    """An instant query's result vector (Prometheus HTTP API /api/v1/query)."""
    url = f"{base_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            body = json.load(resp)
    except (OSError, ValueError) as exc:
        raise PrometheusError(f"Prometheus at {base_url} did not answer {promql!r}: {exc}") from None
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus refused {promql!r}: {body.get('error')}")
    return body["data"]["result"]


def build_view(results: dict[str, list[dict]], consortium: str, members: list[tuple[str, str]],
               now: float, interval_s: float = SCRAPE_INTERVAL_S) -> StatusView:
    """The page's content from the QUERIES' result vectors."""
    def key(sample: dict) -> tuple[str, str, str]:
        m = sample["metric"]
        return m.get("lgcode", ""), m.get("site", ""), m.get("component", "")

    def by_key(name: str) -> dict[tuple[str, str, str], float]:
        return {key(s): float(s["value"][1]) for s in results.get(name, [])}

    stale = {s["metric"].get("prober_site", ""): float(s["value"][1]) for s in results.get("probe_age", [])}
    notes = [f"the prober of site {site} last reported {age:.0f} s ago: its units show as unknown"
             for site, age in sorted(stale.items()) if age > STALE_AFTER_S]
    stale_sites = {site for site, age in stale.items() if age > STALE_AFTER_S}
    up, standby = by_key("up"), by_key("standby")
    avail = {w: by_key(f"avail_{w}") for w in WINDOWS}
    counts = {w: by_key(f"count_{w}") for w in WINDOWS}
    sections = [Section("shared", "Consortium (shared units)")] + [Section(code, name) for code, name in members]
    index = {s.lgcode: s for s in sections}
    for k in sorted(set(up) | set(standby) | set(avail["30d"])):
        lgcode, site, component = k
        section = index.get(lgcode)
        if section is None:
            continue
        if site in stale_sites:
            state = "unknown"
        elif k in standby:
            state = "standby"
        elif k in up:
            state = "up" if up[k] == 1 else "down"
        else:  # measured before, its prober reports, but the unit is not there any more
            state = "down"
            notes.append(f"{component} of {lgcode} at {site} is no longer reported by its prober "
                         f"(its container is gone)")
        row = UnitRow(site, component, state)
        for w, seconds in WINDOWS.items():
            if k in avail[w]:
                setattr(row, f"avail_{w}", avail[w][k])
                setattr(row, f"observed_{w}",
                        observed_fraction(int(counts[w].get(k, 0)), interval_s, seconds) * seconds)
        section.units.append(row)
    for name, attr in (("standbys", "standbys"), ("lag_bytes", "lag_bytes"), ("lag_seconds", "lag_seconds")):
        for s in results.get(name, []):
            section = index.get(s["metric"].get("lgcode", ""))
            if section is not None:
                value = float(s["value"][1])
                setattr(section, attr, int(value) if attr == "standbys" else value)
    for name, attr in (("cpu_5m", "cpu_cores_5m"), ("cpu_24h", "cpu_core_hours_24h"), ("memory", "memory_bytes")):
        for s in results.get(name, []):
            section = index.get(s["metric"].get("lgcode", ""))
            if section is not None:
                setattr(section, attr, float(s["value"][1]))
    for s in results.get("backup_age", []):
        stanza = s["metric"].get("stanza", "")
        section = index.get("shared" if stanza == "hub" else stanza)
        if section is not None:
            section.backup_age_s = float(s["value"][1])
    for section in sections:
        section.units.sort(key=lambda u: (u.site, u.component))
    return StatusView(consortium, now, sections, notes)


def current_view(prometheus: str, consortium: str, members: list[tuple[str, str]]) -> StatusView:
    with ThreadPoolExecutor(max_workers=4) as pool:  # one round trip's time, not twelve
        results = dict(zip(QUERIES, pool.map(lambda q: query(prometheus, q), QUERIES.values())))
    return build_view(results, consortium, members, time.time())


def read_members(path: str) -> list[tuple[str, str]]:
    """The members file (JSON: ``[[lgcode, name], ...]`` in the page's order), read again for each
    page: a member joining or leaving changes the file in place (the stack's ``up``), not the
    container. A file that is not such a list is refused with what is wrong."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list) or not all(isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m)
                                             for m in data):
        raise ValueError(f"{path}: not a list of [lgcode, name] pairs")
    return [(code, name) for code, name in data]


def serve(prometheus: str, consortium: str, members: Callable[[], list[tuple[str, str]]],
          port: int = SERVICE_PORT) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: str, ctype: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = urllib.parse.urlsplit(self.path).path
            if path == "/status/healthz":
                self._send(200, "ok\n", "text/plain; charset=utf-8")
            elif path in ("/status", "/status/"):
                try:
                    html = render(current_view(prometheus, consortium, members()))
                except PrometheusError as exc:
                    log.warning("%s", exc)
                    self._send(503, "<!DOCTYPE html><title>status unavailable</title><p>The status store does "
                                    "not answer; try again in a minute.</p>\n", "text/html; charset=utf-8")
                    return
                self._send(200, html, "text/html; charset=utf-8")
            else:
                self._send(404, "<!DOCTYPE html><title>not found</title><p>Not found.</p>\n",
                           "text/html; charset=utf-8")

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("0.0.0.0", port), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m municloud.status.web", description=__doc__.splitlines()[0])
    parser.add_argument("--consortium", required=True)
    parser.add_argument("--prometheus", required=True, help="base URL of the stack's Prometheus")
    parser.add_argument("--members-file", required=True,
                        help="JSON list of [lgcode, name] in the page's order, read again for each page")
    parser.add_argument("--port", type=int, default=SERVICE_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(message)s")
    members = read_members(args.members_file)  # refused at start when malformed, not at the first page
    log.info("status page of %s on :%d/status (Prometheus %s), %d members", args.consortium, args.port,
             args.prometheus, len(members))
    serve(args.prometheus, args.consortium, lambda: read_members(args.members_file), args.port).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
