"""The status page on the live stack (stacks/status_page.py, docs/operator-guide.md "The status page").

Public and read only through the frontdoor: every member and unit up on a healthy stack (pilot-light
units standing by); a killed unit shows down and comes back once the site supervisor restarts it;
the availability on the page is Prometheus' ``avg_over_time``, which is recomputed here from the raw
samples of Prometheus' own API; headless Chromium renders it without script and saves a screenshot;
``municloud stack status`` exits 0 on the healthy stack and 1 naming a stopped unit.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse

import pytest
from e2e_support import A, C, report

from municloud.status.availability import availability, percent
from municloud.status.facts import Unit, parse_stats
from municloud_ops.images import STATE_DIR

pytestmark = [pytest.mark.live, pytest.mark.e2e]

POLL_S = 1.0
#: prober every 5 s + scrape every 5 s + one render: a change shows within this (with margin for load)
SHOWS_WITHIN_S = 60.0


def page(frontdoor) -> str:
    r = frontdoor.client.get("/status", timeout=60.0)  # no token: the page is public
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def wait_for(frontdoor, predicate, within_s: float, what: str) -> tuple[str, float]:
    t0 = time.monotonic()
    html = ""
    while time.monotonic() - t0 < within_s:
        html = page(frontdoor)
        if predicate(html):
            return html, time.monotonic() - t0
        time.sleep(POLL_S)
    pytest.fail(f"the status page did not show {what} within {within_s:.0f} s; last summary: "
                + (re.search(r'<p class="summary[^>]*>(.*?)</p>', html) or [None, html[:300]])[1])


def all_up(html: str) -> bool:
    return "All units up." in html


def prometheus(stack, path: str, **params) -> dict:
    """Prometheus' own HTTP API, asked from inside its container (its port is not published)."""
    url = f"http://127.0.0.1:9090{path}?" + urllib.parse.urlencode(params)
    code, out = stack.container("prometheus").exec_run(["curl", "-fsS", "--max-time", "10", url])
    assert code == 0, out[-300:]
    body = json.loads(out)
    assert body["status"] == "success", body
    return body["data"]


def section(html: str, lgcode: str) -> str:
    m = re.search(rf'<section id="m-{lgcode}">(.*?)</section>', html, re.S)
    assert m, f"no section for {lgcode}"
    return m.group(1)


def replication_measured(html: str) -> bool:
    """Every member's replication to DR measured (the prober's deeper probe runs every 30 s, apart
    from the units': right after "All units up." a section may still say no standby streams)."""
    sections = re.findall(r'<section id="m-\d{6}">(.*?)</section>', html, re.S)
    return bool(sections) and all(re.search(r"\d+(\.\d+)? (B|KiB|MiB) behind", s) for s in sections)


def test_every_member_and_unit_is_up_pilot_lights_stand_by_and_the_page_is_read_only(e2e_stack, frontdoor):
    html, seconds = wait_for(frontdoor, lambda h: all_up(h) and replication_measured(h), 180.0,
                             "every unit up and every member's replication measured")
    members = e2e_stack.municipalities
    for code, m in members.items():
        body = section(html, code)
        assert m["name"] in body
        for unit in ("residents_registry", "tax", "nhi", "postgres"):
            assert re.search(rf"<td>{unit}</td><td>primary</td><td class=\"up\">up</td>", body), (code, unit)
        assert re.search(r"<td>tax</td><td>dr</td><td class=\"standby\">standby \(pilot light\)</td>", body)
        assert re.search(r"<td>standby</td><td>dr</td><td class=\"up\">up</td>", body)
        assert "B behind" in body or "KiB behind" in body or "MiB behind" in body, body  # one standby streams
    shared = section(html, "shared")
    for unit in ("frontdoor", "gateway", "hub", "backup_repo", "prometheus", "status", "prober", "supervisor"):
        assert f"<td>{unit}</td>" in shared, unit
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    # read only: anything but GET is refused at the gateway
    assert frontdoor.client.post("/status", content=b"x").status_code == 403
    assert frontdoor.client.get("/status").status_code == 200  # twin: GET is served
    report("status page", f"every unit of {len(members)} members up on the page {seconds:.1f} s after the first look")


def test_last_verified_backup_age_is_pgbackrest_s(e2e_stack, frontdoor):
    from municloud.status.facts import parse_backups

    code, out = e2e_stack.container("backup_repo", site="dr").exec_run(
        ["pgbackrest", "--output=json", "info"], user="postgres")
    assert code == 0
    backups = {b.stanza: b for b in parse_backups(out.decode())}
    html = page(frontdoor)
    for code_ in e2e_stack.municipalities:
        line = re.search(r"<dt>Last verified backup</dt><dd>(.*?)</dd>", section(html, code_)).group(1)
        if code_ in backups:
            age = time.time() - backups[code_].stop_epoch
            assert line.endswith(" ago"), line
            shown = int(re.match(r"(\d+)", line).group(1))
            unit = line.split()[1]
            expected = {"s": age, "min": age / 60, "h": age / 3600, "d": age / 86400}[unit]
            assert abs(shown - expected) <= 2, (line, age)
        else:  # twin: nothing in the repository, and the page says so instead of inventing an age
            assert line == "no data", line


def test_availability_on_the_page_is_prometheus_avg_over_time_of_the_raw_samples(e2e_stack, frontdoor):
    wait_for(frontdoor, all_up, 180.0, "every unit up")
    selector = f'municloud_unit_up{{lgcode="{C}",site="primary",component="tax"}}'
    at = f"{time.time():.3f}"
    raw = prometheus(e2e_stack, "/api/v1/query", query=f"{selector}[24h]", time=at)["result"]
    assert len(raw) == 1 and raw[0]["values"], raw
    mine = availability(float(v) for _t, v in raw[0]["values"])
    theirs = float(prometheus(e2e_stack, "/api/v1/query", query=f"avg_over_time({selector}[24h])",
                              time=at)["result"][0]["value"][1])
    assert mine == pytest.approx(theirs, abs=1e-9)
    # the page renders the same query a moment later: at most one new sample apart
    row = re.search(r"<td>tax</td><td>primary</td><td class=\"up\">up</td><td>([^<]*)", section(page(frontdoor), C))
    shown = float(row.group(1).split()[0]) / 100
    assert abs(shown - theirs) <= 2 / (len(raw[0]["values"]) + 1) + 1e-4, (row.group(1), theirs)
    report("status page", f"availability 24 h of {C} tax: {percent(theirs)} from {len(raw[0]['values'])} samples, "
                          "recomputed from Prometheus' raw samples")


USAGE = re.compile(r"<dt>Usage \(running units, the engine's figures\)</dt><dd>CPU ([\d.]+) cores over the last "
                   r"5 minutes(?:, ([\d.]+) core-hours in the last 24 h)?; memory ([\d.]+) MiB now</dd>")


def _engine_memory(stack, lgcode: str) -> int:
    """What the engine says the member's running containers use now, less the inactive file cache
    (read as the prober reads it: municloud.status.facts.parse_stats)."""
    used = 0
    for c in stack.engine("primary").containers.list(filters={"label": [f"municloud.stack={stack.name}",
                                                                         f"municloud.lgcode={lgcode}"]}):
        unit = Unit("primary", lgcode, c.labels.get("municloud.component", ""), c.name, "up", "running")
        usage = parse_stats(unit, c.stats(stream=False))
        used += usage.memory_bytes if usage else 0
    return used


def test_each_members_usage_is_on_the_page_and_is_what_its_running_units_use(e2e_stack, frontdoor):
    """Usage per member on the page (the prober's engine stats, summed per member by Prometheus): CPU
    and memory for every member and the shared units; a member's memory on the page agrees with what
    the engine says its running containers use (less the inactive file cache) within 25 %. The page's
    figure is up to 35 s old (probe every 30 s, scrape every 5 s) and other tests restart units, so
    the two are compared until they agree, bounded; a page that counted the wrong units never would."""
    codes = [*e2e_stack.municipalities, "shared"]

    def measured(h: str) -> bool:  # the CPU rate needs two of the prober's 30-second readings
        found = [USAGE.search(section(h, code)) for code in codes]
        return all(m and float(m.group(1)) > 0 and float(m.group(3)) > 0 for m in found)

    html, waited = wait_for(frontdoor, measured, SHOWS_WITHIN_S + 90.0, "every member's usage")
    deadline, seen = time.monotonic() + 120.0, []
    while True:
        on_page = float(USAGE.search(section(page(frontdoor), A)).group(3)) * (1 << 20)
        used = _engine_memory(e2e_stack, A)
        seen.append((round(on_page / (1 << 20)), round(used / (1 << 20))))
        if abs(on_page - used) <= 0.25 * used:
            break
        assert time.monotonic() < deadline, f"page vs engine memory of {A} (MiB), never within 25 %: {seen}"
        time.sleep(10)
    report("status page", f"usage of {A} on the page: memory {on_page / (1 << 20):.0f} MiB (the engine: "
                          f"{used / (1 << 20):.0f} MiB; usage of every member shown {waited:.0f} s after the first look)")


def test_a_killed_unit_shows_down_then_up_again_after_the_supervisor_restarts_it(e2e_stack, frontdoor):
    wait_for(frontdoor, all_up, 180.0, "every unit up")  # twin: up before
    victim = e2e_stack.container("nhi", C)
    bound = float((e2e_stack.config("municloud:sla") or {}).get("local_recovery_seconds", 30))
    t0 = time.monotonic()
    victim.kill()
    down_html, down_s = wait_for(frontdoor, lambda h: f"{C} nhi at primary" in h, SHOWS_WITHIN_S,
                                 f"{C} nhi down")
    assert re.search(r"<td>nhi</td><td>primary</td><td class=\"down\">DOWN</td>", section(down_html, C))
    _html, up_s = wait_for(frontdoor, all_up, bound + SHOWS_WITHIN_S, "every unit up again")
    victim.reload()
    assert victim.status == "running"
    report("status page", f"docker kill of {victim.name}: down on the page after {down_s:.1f} s, up again "
                          f"{down_s + up_s:.1f} s after the kill (total {time.monotonic() - t0:.1f} s)")


def cli_status(stack) -> subprocess.CompletedProcess:
    import sys

    return subprocess.run([sys.executable, "-m", "municloud_ops.cli.main", "stack", "status", "--stack", stack.name],
                          capture_output=True, text=True, timeout=180)


def _healthy_at(container, within_s: float) -> float:
    """The time (epoch) at which the engine first says ``container`` is healthy, bounded."""
    deadline = time.monotonic() + within_s
    while True:
        container.reload()
        if (container.attrs["State"].get("Health") or {}).get("Status") == "healthy":
            return time.time()
        assert time.monotonic() < deadline, f"{container.name} not healthy within {within_s:.0f} s"
        time.sleep(1)


def wait_for_fresh(stack, frontdoor, since: float, within_s: float, what: str) -> tuple[str, float]:
    """``wait_for`` all up, on a page of probes taken after ``since`` (epoch): the page shows the
    probers' last readings (a probe every 30 s), so right after a unit starts again it may still
    show the reading from before the unit stopped, which would prove nothing."""
    t0 = time.monotonic()
    while True:
        result = prometheus(stack, "/api/v1/query", query="min(municloud_probe_timestamp_seconds)")["result"]
        if result and float(result[0]["value"][1]) > since:
            break
        if time.monotonic() - t0 > within_s:
            pytest.fail(f"no probe after {since:.0f} within {within_s:.0f} s: {result}")
        time.sleep(POLL_S)
    html, _ = wait_for(frontdoor, all_up, max(1.0, within_s - (time.monotonic() - t0)), what)
    return html, time.monotonic() - t0


def test_stack_status_exits_0_on_the_healthy_stack_and_1_naming_a_stopped_unit(e2e_stack, frontdoor):
    wait_for(frontdoor, all_up, 180.0, "every unit up")
    ok = cli_status(e2e_stack)
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    assert re.search(r"all \d+ running units up, \d+ standing by as a pilot light", ok.stdout)
    assert f"replication {C} (primary): 1 standby(s)" in ok.stdout and "24 h" in ok.stdout
    victim = e2e_stack.container("tax", C)
    victim.stop(timeout=10)  # stopped on purpose: the supervisor leaves it down
    try:
        down = cli_status(e2e_stack)
        assert down.returncode == 1
        assert re.search(rf"units down: .*{re.escape(victim.name)} \(exited", down.stdout), down.stdout[-1500:]
    finally:
        victim.start()
    wait_for_fresh(e2e_stack, frontdoor, _healthy_at(victim, 180.0), 180.0,
                   "every unit up after the stopped unit started again")


def _spki_pin(url: str) -> str:
    """base64 SHA-256 of the public key of the certificate served at ``url`` (Chromium's SPKI pin)."""
    import base64
    import hashlib
    import ssl
    from urllib.parse import urlsplit

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    where = urlsplit(url)
    pem = ssl.get_server_certificate((where.hostname, where.port))
    spki = x509.load_pem_x509_certificate(pem.encode()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_headless_chromium_renders_the_page_without_script_and_saves_a_screenshot(e2e_stack, frontdoor):
    browser = shutil.which("chromium")
    assert browser, "chromium missing: tools/bootstrap/browser.sh installs Debian's package"
    wait_for(frontdoor, all_up, 180.0, "every unit up")
    out_dir = STATE_DIR / "reports" / "status-page"
    out_dir.mkdir(parents=True, exist_ok=True)
    shot = out_dir / f"{e2e_stack.name}.png"
    shot.unlink(missing_ok=True)
    # the consortium CA is not in Chromium's store: the certificate the frontdoor serves now is
    # pinned by its key (TLS itself is tested by tests/e2e/test_edge_tls.py). No script runs: the
    # page's Content-Security-Policy (default-src 'none') forbids any, and it has none. Chromium's
    # own switch for that (--blink-settings=scriptEnabled=false) makes headless Chromium 156 dump
    # an empty page, so it is not used.
    pin = _spki_pin(e2e_stack.frontdoor_url)
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--ignore-certificate-errors-spki-list={pin}",
              "--window-size=1280,2000", "--user-data-dir=" + str(out_dir / "profile")]
    url = f"{e2e_stack.frontdoor_url}/status"
    dom = subprocess.run(common + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert "All units up." in dom.stdout and 'id="m-' + C + '"' in dom.stdout, dom.stderr[-1000:]
    assert "<script" not in dom.stdout.lower()
    import httpx

    csp = httpx.get(url, verify=False, timeout=30).headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp, csp
    subprocess.run(common + [f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True)
    assert shot.exists() and shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report("status page", f"headless Chromium screenshot: {shot} ({shot.stat().st_size} bytes)")
