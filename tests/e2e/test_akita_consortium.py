"""The Akita consortium at its real size, proven live: all 12 towns and villages of
Pulumi.akita.yaml on both sites (stack ``citestakita``, its own address range and frontdoor port;
environment development so that the test may use the documented development passphrase).

- a 住民異動通知 (a 転入) at every member reaches that member's tax and nhi through the hub;
- a 転出→転入 between two members outside dev's three (三種町 → 美郷町) over 転出証明書情報;
- isolation between sample member pairs: another member's token is refused, and a member's service
  cannot open a connection to another member's PostgreSQL;
- membership over the consortium's life: a member in the middle of the list leaves and a new one
  (秋田市) joins; the preview and the engine show that nothing of any other member is replaced or
  restarted and that the shared units (gateways, hub, backup repository) take the change in place;
  the leaver leaves nothing behind and the joiner's 住民異動通知 reach its tax and nhi.

The membership test runs last in the module (it changes who the members are); the flows above use
members that stay.
"""

from __future__ import annotations

import re
import time

import pytest
from e2e_support import (Frontdoor, fresh_household, move_in, move_in_from_certificate, poll, report, sql,
                          wait_propagated)

pytestmark = [pytest.mark.live, pytest.mark.e2e]

SOURCE, DESTINATION = "053481", "054348"  # 三種町 → 美郷町
PAIRS = (("053031", "054640"), ("053686", "053279"), ("054631", "053465"))
LEAVER = "053490"                                       # 八峰町, the fifth of twelve
JOINER, JOINER_NAME, JOINER_POPULATION = "052019", "秋田市", 307672
#: what a membership change may update in place: the shared units at both sites (routes, stanzas,
#: key registries) and the other members' residents_registry (it trusts every member's key, F-5)
IN_PLACE = re.compile(r"^(primary|dr)-((gateway|hub|backup-repo|status)(-config)?|\d{6}-residents-registry)$")


@pytest.fixture(scope="module")
def akita():
    from support.stack import stack_up, suite_stack

    # ~70 containers start side by side on 2 shared cores: a service may need more than the default
    # 180 s to answer its first healthcheck (a bound, not a delay: healthy containers pass at once)
    with stack_up(suite_stack("MC_AKITA_STACK"), base_config="Pulumi.akita.yaml",
                  overrides={"municloud:environment": "development", "municloud:health_timeout_s": 600}) as stack:
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


def _ops(events) -> dict[str, set[str]]:
    """Resource names by operation (the engine's own resources left out)."""
    ops: dict[str, set[str]] = {}
    for e in events:
        pre = e.resource_pre_event
        if pre is None or pre.metadata.op.value in ("same", "read") or pre.metadata.type.startswith("pulumi:"):
            continue
        ops.setdefault(pre.metadata.op.value, set()).add(pre.metadata.urn.rsplit("::", 1)[-1])
    return ops


def _containers(akita) -> dict[str, tuple[str, str, str]]:
    """Every container of the stack: name -> (member, id, StartedAt)."""
    import docker

    return {c.name: (c.labels["municloud.lgcode"], c.id, c.attrs["State"]["StartedAt"])
            for c in docker.from_env().containers.list(all=True, filters={"label": f"municloud.stack={akita.name}"})}


def test_a_member_leaves_from_the_middle_and_another_joins_without_disturbing_anyone(akita):
    from municloud_ops.images import STATE_DIR
    from municloud_ops.member import add_member, remove_member

    config_file = akita.work_dir / f"Pulumi.{akita.name}.yaml"
    assert LEAVER in _members(akita) and JOINER not in _members(akita)
    for step, code in (("leave", LEAVER), ("join", JOINER)):
        if step == "leave":
            remove_member(akita.name, LEAVER, no_handover=True, path=config_file)
        else:
            add_member(akita.name, JOINER, JOINER_NAME, JOINER_POPULATION, like="053031", path=config_file)
        before = _containers(akita)
        events: list = []
        akita.stack.preview(on_output=lambda _l: None, on_event=events.append)
        planned = _ops(events)
        events = []
        t0 = time.monotonic()
        assert akita.up(on_event=events.append).summary.result == "succeeded"
        took = time.monotonic() - t0
        done = _ops(events)
        kind, other = ("delete", "create") if step == "leave" else ("create", "delete")
        for seen, ops in (("preview", planned), ("up", done)):
            assert ops.get(kind) and all(code in n for n in ops[kind]), (seen, ops)
            assert not ops.get(other), (seen, ops)
            # nothing replaced: no member's resource, and no shared unit either (they reload)
            assert not {op for op in ops if "replace" in op}, (seen, ops)
            assert {n for n in ops.get("update", set()) if code not in n and not IN_PLACE.match(n)} == set(), \
                (seen, ops["update"])
        assert {"primary-gateway", "dr-gateway", "dr-backup-repo", "primary-hub"} <= done["update"], done["update"]
        after = _containers(akita)
        # every other member's container: the same container, not even restarted
        kept = {n: v for n, v in before.items() if v[0] not in (code, "shared")}
        assert len(kept) >= 11 * 2 * 4 and {n: after.get(n) for n in kept} == kept
        # the shared units: the same containers (reloaded or restarted in place, never replaced)
        shared = {n: v[1] for n, v in before.items() if v[0] == "shared"}
        assert shared and {n: after[n][1] for n in shared} == shared
        report("akita", f"{step} of {code}: preview and up {took:.1f} s, {len(done[kind])} resources {kind}d, "
                        f"{len(done.get('update', ()))} updated in place, none replaced, "
                        f"{len(kept)} other members' containers untouched")
        if step == "leave":
            # nothing of the leaver is left: no object in the engine, no resource or secret in state
            assert not [n for n, v in after.items() if v[0] == LEAVER or LEAVER in n]
            assert not [r["urn"] for r in akita.stack.export_stack().deployment["resources"] if LEAVER in r["urn"]]
            assert LEAVER not in akita.outputs["token_private_keys"] and LEAVER not in akita.municipalities
            rendered = STATE_DIR / "rendered"
            assert not list(rendered.glob(f"{akita.name}-*-{LEAVER}-*"))
            assert list(rendered.glob(f"{akita.name}-*-{SOURCE}-*"))  # the twin: a member that stays has them
        else:  # the joiner is a member of the stack as its config says
            assert sorted(_members(akita)) == sorted(akita.municipalities) and len(akita.municipalities) == 12
