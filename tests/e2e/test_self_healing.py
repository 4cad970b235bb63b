"""Self-healing on the live stack: `docker kill` of a service and of a PostgreSQL primary.

The engine's restart policy leaves a container stopped by `docker kill` down; the site supervisor
(municloud/supervisor.py) starts it again. While the service is down the gateway answers a JSON 503
within 1 s; both are back within the SLA's local recovery bound. The PostgreSQL case ends only
when the DR standby streams from the restarted primary again (the stack is shared)."""

from __future__ import annotations

import time

import httpx
import pytest

from e2e_support import C, report, sql

pytestmark = pytest.mark.integration

POLL_S = 0.25


def _bound(stack) -> float:
    return float((stack.config("municloud:sla") or {}).get("local_recovery_seconds", 30))


def _readyz(frontdoor, lgcode: str, service: str) -> tuple[int, dict, float]:
    t0 = time.monotonic()
    try:
        r = frontdoor.client.get(f"/{lgcode}/{service}/readyz", timeout=5.0)
    except httpx.HTTPError as exc:
        return 0, {"transport": type(exc).__name__}, time.monotonic() - t0
    try:
        body = r.json()
    except ValueError:
        body = {"not_json": r.text[:200]}
    return r.status_code, body, time.monotonic() - t0


def _kill_and_watch(stack, frontdoor, container, service: str) -> tuple[float, list[tuple[int, dict, float]]]:
    """docker kill ``container``; poll readyz of ``service`` at C until 200; (seconds, answers while down)."""
    assert _readyz(frontdoor, C, service)[0] == 200  # twin: up before the kill
    bound = _bound(stack)
    t0 = time.monotonic()
    container.kill()
    down: list[tuple[int, dict, float]] = []
    while time.monotonic() - t0 < bound + 30:  # a little beyond the bound, then assert it
        status, body, seconds = _readyz(frontdoor, C, service)
        if status == 200:
            return time.monotonic() - t0, down
        down.append((status, body, seconds))
        time.sleep(POLL_S)
    container.reload()
    pytest.fail(f"{container.name} not back {bound + 30:.0f} s after docker kill (status {container.status})")


def test_docker_kill_of_a_service_answers_json_503_then_is_back_within_the_bound(e2e_stack, frontdoor):
    victim = e2e_stack.container("nhi", C)
    seconds, down = _kill_and_watch(e2e_stack, frontdoor, victim, "nhi")
    report("self-healing", f"docker kill of {victim.name}: back through the frontdoor in {seconds:.1f} s "
                           f"(bound {_bound(e2e_stack):.0f} s); {len(down)} answers while down, slowest "
                           f"{max((d[2] for d in down), default=0):.2f} s")
    assert seconds <= _bound(e2e_stack)
    assert down, "the service was never seen down: the kill did not take"
    for status, body, took in down:
        assert status == 503 and body.get("error", {}).get("code") == "unavailable", (status, body)
        assert took < 1.0, f"a 503 took {took:.2f} s"


def test_docker_kill_of_a_postgresql_primary_is_back_within_the_bound(e2e_stack, frontdoor):
    victim = e2e_stack.container("postgres", C)
    seconds, down = _kill_and_watch(e2e_stack, frontdoor, victim, "residents_registry")
    report("self-healing", f"docker kill of {victim.name}: residents_registry ready again in {seconds:.1f} s "
                           f"(bound {_bound(e2e_stack):.0f} s); {len(down)} answers while down")
    assert seconds <= _bound(e2e_stack)
    assert sql(e2e_stack, C, "postgres", "SELECT pg_is_in_recovery() AS r") == [{"r": False}]  # still primary
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # leave the shared stack as found: the standby streams again
        if sql(e2e_stack, C, "postgres", "SELECT state FROM pg_stat_replication WHERE state = 'streaming'"):
            return
        time.sleep(1)
    pytest.fail(f"the DR standby of {C} does not stream from the restarted primary after 120 s")
