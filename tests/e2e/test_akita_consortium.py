"""The Akita consortium at its real size, proven live: all 12 towns and villages of
Pulumi.akita.yaml on both sites (stack ``citestakita``, its own address range and frontdoor port;
environment development so that the test may use the documented development passphrase).

- a 住民異動通知 (a 転入) at every member reaches that member's tax and nhi through the hub;
- a 転出→転入 between two members outside dev's three (三種町 → 美郷町) over 転出証明書情報;
- isolation between sample member pairs: another member's token is refused, and a member's service
  cannot open a connection to another member's PostgreSQL.

Membership over the consortium's life (a member leaving from the middle, one joining, nobody
else replaced or restarted) is proven on the dev-sized lifecycle stack (tests/stack/test_live.py).
"""

from __future__ import annotations

import os

import pytest
from e2e_support import (Frontdoor, fresh_household, move_in, move_in_from_certificate, poll, report, sql,
                          wait_propagated)

pytestmark = [pytest.mark.live, pytest.mark.e2e]

SOURCE, DESTINATION = "053481", "054348"  # 三種町 → 美郷町
PAIRS = (("053031", "054640"), ("053686", "053279"), ("054631", "053465"))


@pytest.fixture(scope="module")
def akita():
    from support.stack import stack_up

    with stack_up(os.environ.get("MC_AKITA_STACK", "citestakita"), base_config="Pulumi.akita.yaml",
                  overrides={"municloud:environment": "development"}) as stack:
        yield stack


@pytest.fixture(scope="module")
def akita_frontdoor(akita):
    with Frontdoor(akita) as fd:
        yield fd


def _members(akita) -> list[str]:
    return [str(m["lgcode"]) for m in akita.config("municloud:municipalities")]


def test_a_move_notice_at_every_member_reaches_its_tax_and_nhi(akita, akita_frontdoor):
    members = _members(akita)
    assert len(members) == 12 and len(akita.municipalities) == 12
    waited = []
    for code in members:
        atenas = [m["atena_number"] for m in move_in(akita_frontdoor, fresh_household(code))["movements"]]
        waited.append(wait_propagated(akita_frontdoor, code, atenas))
    report("akita", f"住民異動通知 at each of 12 members applied by its tax and nhi "
                    f"(slowest {max(waited):.2f} s after the 201)")


def test_move_out_and_in_between_two_members_outside_dev(akita, akita_frontdoor):
    household = fresh_household(SOURCE)
    atenas = [m["atena_number"] for m in move_in(akita_frontdoor, household)["movements"]]
    new_address = "秋田県仙北郡美郷町土崎字上野乙170番地10"
    r = akita_frontdoor.post(SOURCE, "residents_registry", "/api/v1/movements", purpose="resident_record",
                             json={"kind": "move_out", "event_date": "2025-06-01", "notification_date": "2025-05-20",
                                   "atena_numbers": atenas, "next_address": new_address,
                                   "next_lgcode": DESTINATION})
    assert r.status_code == 201, r.text
    query = ("SELECT certificate_number, sender_lgcode, payload FROM incoming_move_out_certificates"
             f" WHERE payload->'members' @> '[{{\"atena_number\": \"{atenas[0]}\"}}]'::jsonb")
    (certificate,), waited = poll(lambda: sql(akita, DESTINATION, "residents_registry", query),
                                  f"転出証明書情報 for {atenas[0]} at {DESTINATION}")
    assert certificate["sender_lgcode"] == SOURCE
    assert sql(akita, "053031", "residents_registry", query) == []  # the twin: nobody else got it
    arrived = move_in_from_certificate(akita_frontdoor, DESTINATION, certificate, certificate["payload"]["members"],
                                       household.address, SOURCE)
    assert all(a.startswith(DESTINATION) for a in arrived) and len(arrived) == len(atenas)
    wait_propagated(akita_frontdoor, DESTINATION, arrived)
    report("akita", f"転出 {SOURCE} → 転入 {DESTINATION}: certificate stored {waited:.2f} s after the 転出")


@pytest.mark.parametrize("home, other", PAIRS)
def test_members_are_isolated_from_each_other(akita, akita_frontdoor, home, other):
    # another member's token at this member's endpoint: refused; its own token: served (the twin)
    search = {"family_name": "秋田", "limit": 1}
    refused = akita_frontdoor.get(home, "residents_registry", "/api/v1/residents", params=search,
                                  purpose="resident_record", signer=other)
    assert refused.status_code in (401, 403), refused.text
    served = akita_frontdoor.get(home, "residents_registry", "/api/v1/residents", params=search,
                                 purpose="resident_record")
    assert served.status_code == 200, served.text
    # the network: this member's service cannot reach the other member's PostgreSQL; its own, it can
    service = akita.container("residents_registry", home)
    probe = ("import socket,sys\ntry:\n socket.create_connection((sys.argv[1], 5432), timeout=3).close()\n"
             " print('open')\nexcept OSError as e:\n print('closed', type(e).__name__)")
    def address(code: str) -> str:  # by address on its tenant network: a name nobody resolves proves less
        networks = akita.container("postgres", code).attrs["NetworkSettings"]["Networks"]
        return networks[f"mc-{akita.name}-primary-{code}"]["IPAddress"]

    other_pg, own_pg = address(other), address(home)
    assert service.exec_run(["python", "-c", probe, other_pg], user="app").output.decode().startswith("closed")
    assert service.exec_run(["python", "-c", probe, own_pg], user="app").output.decode().startswith("open")
