"""F-7 on the live stack: the hub API, platform inboxes and admin endpoints are not served through
the public frontdoor; the hub still reaches them on the gateway's internal listener (twin)."""

from __future__ import annotations

import json

import pytest
from e2e_support import A

pytestmark = [pytest.mark.live, pytest.mark.e2e]

MACHINE_PATHS = [("GET", "/hub/api/v1/log/verify"), ("POST", f"/{A}/tax/api/v1/platform/inbox"),
                 ("POST", f"/{A}/residents_registry/api/v1/admin/seed")]

# Run inside the hub container: the same request against the gateway's internal listener, the
# base URL taken from the hub's own INBOX_URL_TEMPLATE (what its deliveries use).
PROBE = """
import json, os, sys, urllib.error, urllib.request as u
base = os.environ["INBOX_URL_TEMPLATE"].split("/{lgcode}")[0]
method, path = sys.argv[1], sys.argv[2]
req = u.Request(base + path, data=b"<x/>" if method == "POST" else None, method=method,
                headers={"Content-Type": "application/xml"})
try:
    with u.urlopen(req, timeout=10) as r:
        print(json.dumps([r.status, r.read(300).decode(errors="replace")]))
except urllib.error.HTTPError as e:
    print(json.dumps([e.code, e.read(300).decode(errors="replace")]))
"""


@pytest.mark.parametrize("method,path", MACHINE_PATHS)
def test_machine_paths_are_refused_at_the_frontdoor(frontdoor, method, path):
    r = frontdoor.client.request(method, path, content=b"<x/>" if method == "POST" else None,
                                 headers={"Content-Type": "application/xml"})
    assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert r.json()["error"]["code"] == "no_route"


@pytest.mark.parametrize("method,path,expected", [
    ("GET", "/hub/api/v1/log/verify", 200),
    ("POST", f"/{A}/tax/api/v1/platform/inbox", 400),  # reached tax: its signed Fault for unsigned XML
])
def test_twin_hub_reaches_them_on_the_internal_listener(e2e_stack, method, path, expected):
    hub = e2e_stack.container("hub")
    rc, out = hub.exec_run(["python", "-c", PROBE, method, path])
    assert rc == 0, out.decode(errors="replace")[-500:]
    status, body = json.loads(out.decode().strip().splitlines()[-1])
    assert status == expected, (path, status, body)
    assert "no_route" not in body
