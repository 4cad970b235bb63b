"""Attacks through the site gateway (real nginx image + the roles/gateway template): path tricks
by A's staff to reach B's resident, and a flood from one source that must be held by rate
limiting without starving another municipality (its p95 is measured and printed)."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from gateway_target import TEST_BURST, TEST_RATE, gateway

pytestmark = [pytest.mark.security, pytest.mark.integration]


@pytest.fixture(scope="module")
def gw(tenants):
    a, b, _ = tenants
    routes = [{"lgcode": t.lgcode, "service": "residents_registry", "host": "127.0.0.1",
               "port": int(t.url.rsplit(":", 1)[1])} for t in (a, b)]
    with gateway(routes) as target:
        yield target


def _tricks(a: str, b: str, victim: str) -> dict[str, str]:
    """Request targets by which A's staff try to reach B's resident `victim` (raw, unnormalised)."""
    tail = f"api/v1/residents/{victim}"
    return {
        "direct": f"/{b}/residents_registry/{tail}",
        "dot-dot": f"/{a}/residents_registry/../../{b}/residents_registry/{tail}",
        "encoded-dot-dot": f"/{a}/residents_registry/%2e%2e/%2e%2e/{b}/residents_registry/{tail}",
        "encoded-slash": f"/{a}/residents_registry/..%2F..%2F{b}%2Fresidents_registry%2F{tail}",
        "double-encoded": f"/{a}/residents_registry/%252e%252e/%252e%252e/{b}/residents_registry/{tail}",
        "encoded-slash-in-prefix": f"/{a}%2Fresidents_registry/../{b}/residents_registry/{tail}",
        "upper-case-service": f"/{b}/RESIDENTS_REGISTRY/{tail}",
        "trailing-dot-lgcode": f"/{b}./residents_registry/{tail}",
        "trailing-dot-service": f"/{a}/residents_registry./../{b}/residents_registry/{tail}",
        "matrix-param": f"/{a};x=/../{b}/residents_registry/{tail}",
        "matrix-param-service": f"/{a}/residents_registry;/../../{b}/residents_registry/{tail}",
        "double-slash": f"//{b}/residents_registry/{tail}",
        "backslashes": f"/{a}/residents_registry\\..\\..\\{b}\\residents_registry\\{tail}",
        "absolute-form": f"http://127.0.0.1/{b}/residents_registry/{tail}",
        "nul-byte": f"/{a}/residents_registry/{tail}%00/../../../../{b}/residents_registry/{tail}",
        "api-dot-dot": f"/{a}/residents_registry/api/v1/../../../{b}/residents_registry/{tail}",
        "own-prefix-their-id": f"/{a}/residents_registry/{tail}",
        "unicode-dot": f"/{a}/residents_registry/%c0%ae%c0%ae/%c0%ae%c0%ae/{b}/residents_registry/{tail}",
    }


TRICKS = list(_tricks("A", "B", "x"))


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("direction", ["A->B", "B->A"])
@pytest.mark.parametrize("trick", TRICKS)
def test_path_trick_does_not_reach_the_other_municipality(tenants, gw, trick, direction):
    a, b, _ = tenants
    attacker, victim = (a, b) if direction == "A->B" else (b, a)
    before = victim.counts()
    target = _tricks(attacker.lgcode, victim.lgcode, victim.atena_number)[trick]
    status, body = gw.request(target, attacker.token())
    assert 400 <= status < 500, f"{trick}: {status} {body[:200]!r}"
    assert victim.atena_number.encode() not in body
    assert victim.counts() == before


@pytest.mark.twin("cross-tenant")
@pytest.mark.parametrize("which", ["A", "B"])
def test_twin_own_path_reaches_own_resident(tenants, gw, which):
    a, b, _ = tenants
    tenant = a if which == "A" else b
    status, body = gw.request(f"/{tenant.lgcode}/residents_registry/api/v1/residents/{tenant.atena_number}",
                              tenant.token())
    assert status == 200, body[:300]
    assert tenant.atena_number.encode() in body


@pytest.mark.attack("hostile input")
@pytest.mark.parametrize("target", ["/", "/999999/residents_registry/healthz", "/053031/unknown/healthz",
                                    "/053031/residents_registry_x/healthz", "/hub/api/v1/messages"])
def test_unknown_route_is_refused(gw, target):
    status, _ = gw.request(target)
    assert status == 404


# --- rate limiting ----------------------------------------------------------------------------

FLOOD_SECONDS = 6.0
FLOOD_THREADS = 4
FLOOD_MAX_REQUESTS = 6000
WELL_BEHAVED_INTERVAL_S = 0.2  # 5 r/s, under the limit
P95_BOUND_MS = 1000.0


def _client(gw, source: str):
    """Keep-alive HTTPS client bound to a loopback source address (what the limit keys on)."""
    import ssl

    import httpx

    context = ssl.create_default_context(cafile=str(gw.ca_file))
    context.check_hostname = False
    transport = httpx.HTTPTransport(local_address=source, verify=context)
    return httpx.Client(base_url=f"https://127.0.0.1:{gw.port}", transport=transport, timeout=5.0,
                        headers={"host": "gateway.municloud"})


def _well_behaved_reads(gw, tenant, seconds: float) -> tuple[list[float], list[int]]:
    latencies, statuses = [], []
    path = f"/{tenant.lgcode}/residents_registry/api/v1/residents/{tenant.atena_number}"
    headers = {"authorization": f"Bearer {tenant.token()}"}
    started = time.monotonic()
    with _client(gw, "127.0.0.2") as client:
        while time.monotonic() - started < seconds:
            t0 = time.perf_counter()
            statuses.append(client.get(path, headers=headers).status_code)
            latencies.append(time.perf_counter() - t0)
            time.sleep(max(0.0, WELL_BEHAVED_INTERVAL_S - (time.perf_counter() - t0)))
    return latencies, statuses


def _p(latencies: list[float], q: int) -> float:
    return statistics.quantiles(latencies, n=100)[q - 1] * 1000


@pytest.mark.attack("auth")
def test_flood_from_one_source_is_held_without_starving_another_municipality(tenants, gw):
    """127.0.0.1 floods A's route (keep-alive, bounded count and time); B's staff on 127.0.0.2
    read at 5 r/s. The limit must hold (admitted <= burst + rate x time, the rest 429) and B
    must stay served: every read 200, p95 measured against a no-flood baseline and printed."""
    a, b, _ = tenants
    baseline, _ = _well_behaved_reads(gw, b, 2.0)
    flood_status: dict[int, int] = {}
    stop = threading.Event()
    lock = threading.Lock()
    sent = [0]

    def flood():
        with _client(gw, "127.0.0.1") as client:
            while not stop.is_set():
                with lock:
                    if sent[0] >= FLOOD_MAX_REQUESTS:
                        return
                    sent[0] += 1
                try:
                    status = client.get(f"/{a.lgcode}/residents_registry/healthz").status_code
                except Exception:  # a refused/reset connection counts as held
                    status = 0
                with lock:
                    flood_status[status] = flood_status.get(status, 0) + 1

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(FLOOD_THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    latencies, statuses = _well_behaved_reads(gw, b, FLOOD_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    elapsed = time.monotonic() - started
    total = sum(flood_status.values())
    admitted = flood_status.get(200, 0)
    print(f"\nflood: {total} requests in {elapsed:.1f} s from 127.0.0.1 ({total / elapsed:.0f} r/s), "
          f"statuses {dict(sorted(flood_status.items()))}; limit {TEST_RATE} r/s burst {TEST_BURST}")
    print(f"well-behaved {b.lgcode} from 127.0.0.2: baseline p95 {_p(baseline, 95):.1f} ms "
          f"({len(baseline)} reads); during flood {len(latencies)} reads, statuses {sorted(set(statuses))}, "
          f"p50 {_p(latencies, 50):.1f} ms, p95 {_p(latencies, 95):.1f} ms, max {max(latencies) * 1000:.1f} ms")
    assert flood_status.get(429, 0) > 0 and total > admitted, "the flood was not held by rate limiting"
    assert admitted <= TEST_BURST + TEST_RATE * elapsed * 1.1 + 5, f"{admitted} flood requests passed the limit"
    assert set(statuses) == {200}, f"the well-behaved municipality was refused: {statuses}"
    assert _p(latencies, 95) < P95_BOUND_MS, "the well-behaved municipality was starved"


@pytest.mark.twin("auth")
def test_twin_requests_under_the_limit_are_all_served(tenants, gw):
    a, _, _ = tenants
    statuses = []
    with _client(gw, "127.0.0.3") as client:
        for _ in range(10):
            statuses.append(client.get(f"/{a.lgcode}/residents_registry/healthz").status_code)
            time.sleep(0.1)
    assert statuses == [200] * 10
