"""The site hosts' per-member WAN rules (tools/bootstrap/wan.sh `pairs`, decision 0048), read by a
small interpreter of the rule forms the script writes and judged against the address plan of
stacks/config.py: a server reaches its peer and the repository's pgBackRest port only."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from pathlib import Path

import pytest

from stacks.config import _WAN_MEMBER_OFFSET, _WAN_UNITS, SLOTS
from support.sites import CLIENT_HOST

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "bootstrap" / "wan.sh"
_U32 = re.compile(r"^(\d+)(?:>>(\d+))?&(0x[0-9A-Fa-f]+|\d+)=(\d+)(?::(\d+))?$")


@pytest.fixture(scope="module")
def rules() -> list[list[str]]:
    out = subprocess.run(["bash", str(SCRIPT), "pairs"], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "*filter" and lines[1] == ":MC-WAN-PAIRS - [0:0]" and lines[-1] == "COMMIT"
    return [line.split()[2:] for line in lines[2:-1]]


def _u32(expr: str, header: bytes) -> bool:
    for cond in expr.split("&&"):
        offset, shift, mask, low, high = _U32.match(cond).groups()
        word = int.from_bytes(header[int(offset):int(offset) + 4], "big") >> int(shift or 0)
        if not int(low) <= word & int(mask, 0) <= int(high or low):
            return False
    return True


def verdict(rules, src: str, dst: str, port: int = 5432) -> str:
    """What the chain does with a new TCP flow: ACCEPT, DROP, or RETURN (judged further on)."""
    header = bytes(12) + ipaddress.ip_address(src).packed + ipaddress.ip_address(dst).packed
    for words in rules:
        i, match = 0, True
        while words[i] != "-j":
            if words[i] == "!" and words[i + 1] == "-s":
                match &= ipaddress.ip_address(src) not in ipaddress.ip_network(words[i + 2]); i += 3
            elif words[i] == "-p":
                assert words[i + 1] == "tcp"; i += 2
            elif words[i] == "--dport":
                match &= port == int(words[i + 1]); i += 2
            elif words[i] == "-m" and words[i + 1] == "u32":
                assert words[i + 2] == "--u32"; match &= _u32(words[i + 3], header); i += 4
            else:
                raise AssertionError(f"a rule form the interpreter does not know: {words}")
        if match:
            return words[i + 1]
    raise AssertionError("the chain ends without a verdict")


PRIMARY, DR, SPARE = "10.252.4", "10.252.8", "10.252.12"  # block slot 0 of site hosts 1, 2, 3
PRIMARY_TEST, DR_TEST = "10.252.5", "10.252.9"  # block slot 1: another stack on the same hosts
MEMBERS = [_WAN_MEMBER_OFFSET + s for s in SLOTS]
HUB, REPO = _WAN_UNITS["hub_postgres"], _WAN_UNITS["backup_repo"]


def test_every_server_reaches_its_peer_at_any_other_site_both_ways(rules):
    for n in [*MEMBERS, HUB]:
        for a, b in ((PRIMARY, DR), (DR, PRIMARY), (SPARE, PRIMARY)):
            assert verdict(rules, f"{a}.{n}", f"{b}.{n}") == "ACCEPT", n


def test_a_server_reaches_no_other_server_here_or_across(rules):
    for n, other in ((MEMBERS[0], MEMBERS[1]), (MEMBERS[-1], MEMBERS[0]), (MEMBERS[0], HUB), (HUB, MEMBERS[2])):
        for site in (PRIMARY, DR):
            assert verdict(rules, f"{PRIMARY}.{n}", f"{site}.{other}") == "DROP", (n, other, site)
            assert verdict(rules, f"{PRIMARY}.{n}", f"{site}.{other}", 8432) == "DROP", (n, other, site)
    # nor its peer's place in another stack's block on the same hosts
    assert verdict(rules, f"{PRIMARY}.{MEMBERS[0]}", f"{DR_TEST}.{MEMBERS[0]}") == "DROP"
    assert verdict(rules, f"{PRIMARY_TEST}.{HUB}", f"{DR}.{HUB}") == "DROP"


def test_the_repository_takes_and_starts_pgbackrest_flows_only(rules):
    for n in (MEMBERS[0], MEMBERS[-1], HUB):
        for site in (PRIMARY, DR):
            assert verdict(rules, f"{site}.{n}", f"{DR}.{REPO}", 8432) == "ACCEPT"
            assert verdict(rules, f"{DR}.{REPO}", f"{site}.{n}", 8432) == "ACCEPT"
            assert verdict(rules, f"{site}.{n}", f"{DR}.{REPO}", 5432) == "DROP"
            assert verdict(rules, f"{DR}.{REPO}", f"{site}.{n}", 5432) == "DROP"
    assert verdict(rules, f"{PRIMARY_TEST}.{MEMBERS[0]}", f"{DR}.{REPO}", 8432) == "DROP"  # another stack's


def test_flows_that_are_not_servers_pass_on(rules):
    gateway, prober, prometheus = _WAN_UNITS["gateway"], _WAN_UNITS["prober"], _WAN_UNITS["prometheus"]
    assert verdict(rules, f"{PRIMARY}.1", f"{DR}.{gateway}", 8443) == "RETURN"  # the frontdoor, from its host
    assert verdict(rules, f"{PRIMARY}.{prometheus}", f"{DR}.{prober}", 9100) == "RETURN"
    assert verdict(rules, f"{DR}.{CLIENT_HOST}", f"{PRIMARY}.{MEMBERS[0]}") == "RETURN"  # an application client
    assert verdict(rules, "10.250.0.1", f"{PRIMARY}.{MEMBERS[0]}") == "RETURN"  # not from a WAN block


def test_the_servers_host_numbers_are_the_address_plans(rules):
    """The script's pairs are exactly stacks/config.py's servers (every member slot's PostgreSQL and
    the hub's), no more: a host number next to the plan's (.10, .110) has no peer; the shared units
    above the repository are not servers."""
    paired = {n for n in range(1, 255) if verdict(rules, f"{PRIMARY}.{n}", f"{DR}.{n}") == "ACCEPT"}
    assert paired == {*MEMBERS, HUB}, sorted(paired ^ {*MEMBERS, HUB})
    for unit in ("gateway", "prober", "prometheus"):
        assert verdict(rules, f"{PRIMARY}.{_WAN_UNITS[unit]}", f"{DR}.{MEMBERS[0]}") == "RETURN", unit
    assert verdict(rules, f"{PRIMARY}.{REPO}", f"{DR}.{MEMBERS[0]}") == "DROP"  # the repository is one
