"""The hub's DR standby and warm DR services on a stack of their own (``drhub1``: the dev config
with ONE municipality and ``sla.dr_services: warm``), then `municloud dr failover` and
`municloud dr failback` on it: the municipality and the platform hub move to the DR site and back.

The stack is destroyed at the end of the module, even when a test fails. Traffic goes only to the
stack's own frontdoor on 127.0.0.1 and, for the DR site, through `docker exec curl` on the DR
gateway (the project's own container, on the project's own networks).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from typer.testing import CliRunner

from municloud_ops.dr import postgres as pg
from municloud_ops.dr.inventory import DR, HUB, PRIMARY, Inventory
from support.stack import suite_stack

pytestmark = [pytest.mark.live, pytest.mark.dr]

STACK = suite_stack("MC_TEST_DRHUB_STACK")
GATEWAY_PUBLIC_PORT = 8444  # stacks/gateway.py: the staff listener (PROXY protocol from the frontdoor)


@pytest.fixture(scope="module")
def warm_stack():
    from support.stack import stack_up
    from stacks.automation import stack_config

    dev = stack_config("dev")
    one = dev["municloud:municipalities"][:1]
    sla = {**(dev.get("municloud:sla") or {}), "dr_services": "warm"}
    with stack_up(STACK, overrides={"municloud:municipalities": one, "municloud:sla": sla}) as stack:
        yield stack


@pytest.fixture(scope="module")
def lgcode(warm_stack) -> str:
    return str(warm_stack.config("municloud:municipalities")[0]["lgcode"])


@pytest.fixture(scope="module")
def inv(warm_stack) -> Inventory:
    return Inventory(warm_stack.name)


def dr_gateway_call(stack, method: str, path: str, token: str | None = None, body: dict | None = None):
    """(status, JSON body) of a request to the DR gateway's staff listener, from inside the DR
    gateway container (curl speaks the PROXY protocol header that listener expects)."""
    gw = stack.container("gateway", site=DR)
    cmd = ["curl", "-sS", "--haproxy-protocol", "--max-time", "10", "-X", method,
           "--cacert", "/run/secrets/gateway-tls/ca.crt", "--resolve", f"gateway.municloud:{GATEWAY_PUBLIC_PORT}:127.0.0.1",
           "-w", "\n%{http_code}"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body, ensure_ascii=False)]
    cmd.append(f"https://gateway.municloud:{GATEWAY_PUBLIC_PORT}{path}")
    rc, out = gw.exec_run(cmd)
    text = out.decode(errors="replace")
    if rc == 28:  # curl: timed out (an upstream still starting)
        return 0, None
    assert rc == 0, text
    payload, _, status = text.rpartition("\n")
    try:
        return int(status), (json.loads(payload) if payload.strip() else None)
    except ValueError:  # the gateway's own HTML page (502 while the upstream restarts)
        return int(status), None


def frontdoor(stack):
    import httpx

    return httpx.Client(base_url=stack.frontdoor_url, verify=stack.ssl_context(), timeout=20.0)


def move_in_body(lgcode: str) -> dict:
    from e2e_support import fresh_household  # tests/e2e: realistic residents with fresh identifiers

    return fresh_household(lgcode).move_in()


@pytest.fixture(scope="module", autouse=True)
def _e2e_support_on_path():
    import sys
    from pathlib import Path

    path = str(Path(__file__).resolve().parents[2] / "e2e")
    sys.path.insert(0, path)
    yield
    sys.path.remove(path)


def wait_for(probe, what: str, deadline_s: float = 60.0, interval_s: float = 0.5):
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        value = probe()
        if value:
            return value, time.monotonic() - t0
        time.sleep(interval_s)
    raise AssertionError(f"{what}: not within {deadline_s:.0f} s")


def test_hub_postgres_streams_to_its_dr_standby(warm_stack, inv):
    primary = warm_stack.container("hub_postgres", site=PRIMARY)
    standby = warm_stack.container("hub_postgres", site=DR)  # the hub's standby
    sync = (warm_stack.config("municloud:sla") or {}).get("replication_mode", "synchronous") == "synchronous"
    rows = pg.replication(primary)
    assert [(r.application_name, r.state, r.sync_state) for r in rows] == \
        [(standby.name, "streaming", "sync" if sync else "async")]
    assert pg.in_recovery(standby) and not pg.in_recovery(primary)  # the twin tells them apart
    assert set(standby.attrs["NetworkSettings"]["Networks"]) == {f"mc-{STACK}-dr-hub-net", f"mc-{STACK}-hub-wan"}
    assert inv.database(DR, HUB).name == standby.name and inv.database(PRIMARY, HUB).name == primary.name
    # the hub archives WAL to its own stanza of the backup repository (the twin: an unknown stanza fails)
    repo = inv.backup_repo()
    rc, out = repo.exec_run(["pgbackrest", "--stanza=hub", "check"], user="postgres")
    assert rc == 0, out.decode(errors="replace")[-800:]
    assert repo.exec_run(["pgbackrest", "--stanza=nohub", "check"], user="postgres")[0] != 0
    # the DR hub: created, stopped (pilot light), on the hub standby, beside the DR gateway
    dr_hub = warm_stack.container("hub", site=DR)
    dr_hub.reload()
    assert dr_hub.status == "created"
    env = dict(e.split("=", 1) for e in dr_hub.attrs["Config"]["Env"])
    assert env["DATABASE_HOST"] == standby.name
    assert env["INBOX_URL_TEMPLATE"].startswith(f"https://mc-{STACK}-dr-gateway:")

    out = CliRunner().invoke(_cli(), ["dr", "status", "--stack", STACK, "--json"])
    assert out.exit_code == 0, out.output
    status = {s["lgcode"]: s for s in json.loads(out.output)}
    assert status[HUB]["active_site"] == "primary"
    assert status[HUB]["standby_state"] == f"streaming ({'sync' if sync else 'async'})"
    assert len(status) == 2  # one municipality + the hub


def test_warm_dr_service_is_ready_read_only_and_refuses_writes(warm_stack, lgcode):
    # every DR service runs (warm) and says so on /readyz
    for svc in ("residents_registry", "tax", "nhi"):
        c = warm_stack.container(svc, lgcode, site=DR)
        c.reload()
        assert c.status == "running", c.name
        status, body = dr_gateway_call(warm_stack, "GET", f"/{lgcode}/{svc}/readyz")
        assert (status, body["status"], body["read_only"]) == (200, "ready", True), body
    token = warm_stack.token(lgcode, "residents_registry", purpose="resident_record")
    body = move_in_body(lgcode)
    status, refused = dr_gateway_call(warm_stack, "POST", f"/{lgcode}/residents_registry/api/v1/movements",
                                      token, body)
    assert status == 503 and refused["error"]["code"] == "read_only", refused
    assert "read-only standby site" in refused["error"]["message"]
    # the twin: the primary accepts the same write, and the DR site sees it replicated
    with frontdoor(warm_stack) as http:
        ready = http.get(f"/{lgcode}/residents_registry/readyz").json()
        assert ready["read_only"] is False
        done = http.post(f"/{lgcode}/residents_registry/api/v1/movements", json=body,
                         headers={"Authorization": f"Bearer {token}"})
    assert done.status_code == 201, done.text
    atena = done.json()["movements"][0]["atena_number"]
    standby = warm_stack.container("standby", lgcode, site=DR)
    wait_for(lambda: pg.scalar(standby, f"SELECT count(*) FROM residents WHERE atena_number = '{atena}'",
                               "residents_registry") == "1", "the new resident on the DR standby", 30)
    # reads at the DR site: the access-log chain (no personal data) is served from the standby ...
    operator = warm_stack.token(lgcode, "residents_registry", purpose="system_operation")
    status, chain = dr_gateway_call(warm_stack, "GET", f"/{lgcode}/residents_registry/api/v1/access-log/verify",
                                    operator)
    assert status == 200 and chain["ok"] and chain["rows"] >= 1, chain
    # ... while a resident's record is refused there: its read could not be access-logged
    status, personal = dr_gateway_call(warm_stack, "GET", f"/{lgcode}/residents_registry/api/v1/residents/{atena}",
                                       token)
    assert status == 503 and personal["error"]["code"] == "read_only", personal
    assert atena not in json.dumps(personal)


def test_failover_moves_the_municipality_and_the_hub_then_failback_returns_both(warm_stack, inv, lgcode):
    runner = CliRunner()
    t0 = time.monotonic()
    out = runner.invoke(_cli(), ["dr", "failover", "--stack", STACK])
    failover_s = time.monotonic() - t0
    assert out.exit_code == 0, out.output
    assert f"promoted standby {lgcode} at dr" in out.output
    assert "promoted standby hub at dr" in out.output
    assert "started 1 and restarted 0 services of hub at dr" in out.output
    assert "started 0 and restarted 3 services of" in out.output  # warm: restarted read-write
    print(f"\n[municloud] drhub failover (1 municipality + hub, warm) in {failover_s:.1f} s")
    assert not pg.in_recovery(inv.database(DR, HUB)) and not pg.in_recovery(inv.database(DR, lgcode))

    # a hub message round trip at the DR site: 転入 at residents_registry -> DR hub -> tax and nhi
    token = warm_stack.token(lgcode, "residents_registry", purpose="resident_record")
    with frontdoor(warm_stack) as http:
        wait_for(lambda: http.get(f"/{lgcode}/residents_registry/readyz").json().get("read_only") is False,
                 "DR residents_registry read-write through the frontdoor")
        moved = http.post(f"/{lgcode}/residents_registry/api/v1/movements", json=move_in_body(lgcode),
                          headers={"Authorization": f"Bearer {token}"})
        assert moved.status_code == 201, moved.text  # DR services now accept writes
        atenas = [m["atena_number"] for m in moved.json()["movements"]]
        t1 = time.monotonic()
        for svc, path, purpose in (("tax", "taxpayers", "tax_assessment"), ("nhi", "insured", "nhi_administration")):
            tok = warm_stack.token(lgcode, svc, purpose=purpose)
            for a in atenas:
                wait_for(lambda s=svc, p=path, t=tok, a=a: http.get(
                    f"/{lgcode}/{s}/api/v1/{p}/{a}",
                    headers={"Authorization": f"Bearer {t}"}).status_code == 200, f"{a} in {svc} at DR", 60)
        print(f"[municloud] hub round trip at DR: {len(atenas)} persons in tax and nhi after "
              f"{time.monotonic() - t1:.2f} s")
    hub_dr = inv.database(DR, HUB)
    assert int(pg.scalar(hub_dr, "SELECT count(*) FROM messages", "platform_hub")) >= 2

    t0 = time.monotonic()
    back = runner.invoke(_cli(), ["dr", "failback", "--stack", STACK])
    failback_s = time.monotonic() - t0
    assert back.exit_code == 0, back.output
    assert f"switched {lgcode} over to primary" in back.output and "switched hub over to primary" in back.output
    print(f"[municloud] drhub failback (1 municipality + hub) in {failback_s:.1f} s")
    for cluster in (lgcode, HUB):
        assert not pg.in_recovery(inv.database(PRIMARY, cluster)) and pg.in_recovery(inv.database(DR, cluster))
    # the DR writes came back: the hub's messages and the residents made at the DR site
    assert int(pg.scalar(inv.database(PRIMARY, HUB), "SELECT count(*) FROM messages", "platform_hub")) >= 2
    listed = ", ".join(f"'{a}'" for a in atenas)
    assert pg.scalar(inv.database(PRIMARY, lgcode), f"SELECT count(*) FROM residents WHERE atena_number IN ({listed})",
                     "residents_registry") == str(len(atenas))
    dr_hub = warm_stack.container("hub", site=DR)
    dr_hub.reload()
    assert dr_hub.status == "exited"  # pilot light again
    # warm again: restarted on the standby, read-only
    wait_for(lambda: dr_gateway_call(warm_stack, "GET", f"/{lgcode}/residents_registry/readyz") == (
        200, {"status": "ready", "service": "residents_registry", "lgcode": lgcode, "read_only": True}),
        "DR residents_registry ready read-only again", 90, 1.0)
    out = runner.invoke(_cli(), ["dr", "status", "--stack", STACK, "--json"])
    rows = {s["lgcode"]: s for s in json.loads(out.output)}
    assert rows[HUB]["active_site"] == "primary" and rows[lgcode]["active_site"] == "primary"


def _cli():
    from municloud_ops.cli.main import app

    return app
