"""The address plan is keyed by the member (``address_slot``), not by its place in the list:
removing a member from the middle moves no other member's networks (mocks), and a bad plan is
refused at config load naming the key (stacks/config.py)."""

from __future__ import annotations

import copy

import pytest

from stacks.config import ConfigError, free_slots, load
from mocked_program import compose  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit


def _networks(raw: dict, stack: str) -> dict:
    """Run the program under mocks; every network's and PostgreSQL's addresses by resource name."""
    made = compose(raw, stack)
    out = {name: i["subnet"] for kind, name, i in made.created if kind == "Network"}
    out |= {name: i["env"]["MC_PG_ALLOWED_NETWORKS"] for kind, name, i in made.created
            if kind == "Container" and "MC_PG_ALLOWED_NETWORKS" in i.get("env", {})}
    return out


def test_removing_a_member_from_the_middle_moves_no_other_members_networks(akita_raw):
    before = _networks(akita_raw, "akita")
    gone = akita_raw["municipalities"][5]["lgcode"]
    smaller = copy.deepcopy(akita_raw)
    del smaller["municipalities"][5]
    after = _networks(smaller, "akita")
    assert {n for n in before if gone in n} and not {n for n in after if gone in n}
    assert after == {n: v for n, v in before.items() if gone not in n}  # the other 11 and shared: as they were


def test_a_new_member_takes_the_freed_slot_and_moves_no_one(dev_raw):
    smaller = copy.deepcopy(dev_raw)
    del smaller["municipalities"][1]
    joined = copy.deepcopy(smaller)
    joined["municipalities"].append({**copy.deepcopy(smaller["municipalities"][0]), "lgcode": "053481",
                                     "name": "三種町", "population": 18818,
                                     "address_slot": free_slots(m["address_slot"] for m in smaller["municipalities"])[0]})
    after, grown = _networks(smaller, "dev"), _networks(joined, "dev")
    assert {n: v for n, v in grown.items() if "053481" not in n} == after
    assert grown["primary-053481-net"] == "10.201.2.0/24"  # the slot the leaver freed


def test_twin_positions_would_have_moved_them(dev_raw):
    """The check above can fail: with slots following the list positions (the old plan), the
    member after the removed one changes its /24s."""
    smaller = copy.deepcopy(dev_raw)
    del smaller["municipalities"][1]
    for i, entry in enumerate(smaller["municipalities"]):
        entry["address_slot"] = i + 1
    before, after = _networks(dev_raw, "dev"), _networks(smaller, "dev")
    moved = {n for n, v in after.items() if before.get(n) != v}
    assert moved and all("053465" in n for n in moved)


def test_existing_stacks_keep_their_addresses_with_slots_equal_to_their_old_positions(dev_raw, akita_raw):
    for stack, raw in (("dev", dev_raw), ("akita", akita_raw)):
        cfg = load(stack, raw)
        base = cfg.network_base.rsplit(".", 2)[0]
        for i, m in enumerate(cfg.municipalities):  # the plan before the slots: position i -> .i+1 / .101+i
            assert cfg.subnet("primary", m.address_slot) == f"{base}.{i + 1}.0/24"
            assert cfg.subnet("dr", m.address_slot) == f"{base}.{101 + i}.0/24"


@pytest.mark.parametrize("change, key, message", [
    (lambda r: r["municipalities"][1].pop("address_slot"), "municipalities[1].address_slot", "required.*free: 2, 4-99"),
    (lambda r: r["municipalities"][2].update(address_slot=1), "municipalities[2].address_slot",
     "slot 1 is also municipalities\\[0\\]'s"),
    (lambda r: r["municipalities"][0].update(address_slot=100), "municipalities[0].address_slot", "1-99 \\(got 100\\)"),
    (lambda r: r["municipalities"][0].update(address_slot=0), "municipalities[0].address_slot", "1-99 \\(got 0\\)"),
    (lambda r: r["municipalities"][0].update(address_slot="3"), "municipalities[0].address_slot", "got '3'"),
    (lambda r: r["municipalities"][0].update(address_slot=True), "municipalities[0].address_slot", "got True"),
])
def test_a_bad_address_slot_is_refused_naming_the_key(dev_raw, change, key, message):
    change(dev_raw)
    with pytest.raises(ConfigError, match=message) as exc:
        load("dev", dev_raw)
    assert exc.value.key == f"municloud:{key}"


def test_a_full_address_plan_is_refused_naming_its_size(dev_raw):
    dev_raw["municipalities"] = [dict(dev_raw["municipalities"][0], address_slot=i + 1) for i in range(100)]
    with pytest.raises(ConfigError, match="100 members; the address plan has 99 slots") as exc:
        load("dev", dev_raw)
    assert exc.value.key == "municloud:municipalities"


def test_twin_slots_anywhere_in_the_range_are_accepted(dev_raw):
    for entry, slot in zip(dev_raw["municipalities"], (99, 7, 42)):
        entry["address_slot"] = slot
    cfg = load("dev", dev_raw)
    assert [cfg.subnet("dr", m.address_slot) for m in cfg.municipalities] == [
        "10.201.199.0/24", "10.201.107.0/24", "10.201.142.0/24"]
