"""Every member of the live consortium is routed by the hub: a 住民異動通知 from each member's
residents_registry reaches that member's tax and nhi. The hub's table is the stack's (rendered from
the config by stacks/platform_hub.py, services/platform_hub/routing.py member_table), not the
development default in the image."""

from __future__ import annotations

import json

import pytest
from e2e_support import fresh_household, move_in, report, wait_propagated

pytestmark = pytest.mark.integration

#: run inside the hub: the members of the table it routes with (the file the stack wrote)
_HUB_TABLE = ("import json, os; from services.platform_hub.routing import WatchedRoutingTable; "
              "print(json.dumps(list(WatchedRoutingTable(os.environ['ROUTES_FILE']).municipalities)))")


def test_the_running_hub_routes_with_the_stacks_members(e2e_stack):
    rc, out = e2e_stack.container("hub").exec_run(["python", "-c", _HUB_TABLE])
    assert rc == 0, out.decode(errors="replace")
    assert sorted(json.loads(out.decode())) == sorted(e2e_stack.municipalities)


def test_a_move_notice_of_every_member_reaches_its_tax_and_nhi(frontdoor, e2e_stack):
    timings = []
    for code in e2e_stack.municipalities:
        household = fresh_household(code, max_members=2)
        atenas = [m["atena_number"] for m in move_in(frontdoor, household)["movements"]]
        timings.append(f"{code} {wait_propagated(frontdoor, code, atenas):.2f} s")
    report("住民異動通知 for every member", "visible in tax and nhi after the 201: " + ", ".join(timings))
