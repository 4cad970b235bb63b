"""Mutation proof of the conformance kit: for every mutant vendor endpoint (tests/conformance/
vendor_app.py MUTANTS, each breaking exactly one requirement) the kit fails exactly that
mutant's own check id and no other; the faithful vendors (residents_registry; nhi for the check only nhi has) pass every check. The run writes the
kill ratio (mutants caught by their own check / mutants) to reports/conformance-mutants.json,
the figure docs/conformance.md cites, and the test fails if the docs state another figure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from kill_ratio import prove
from vendor_app import (
    MUTANT_UNITS,
    MUTANTS,
    NEEDS_NO_IMPORT_TARGET,
    make_vendor_app,
    make_vendor_hub,
    sample_rows,
    serve,
    vendor_keys,
)

from municloud_ops.conformance import CHECKS, KitOptions, run_suite
from municloud_ops.conformance.catalogue import checks_for

pytestmark = pytest.mark.integration

LGCODE, PEER = "053031", "053279"
TOKEN = "vendor-test-token"
REPO = Path(__file__).resolve().parents[2]
FIGURE = REPO / "reports" / "conformance-mutants.json"


UNITS = ("residents_registry", "nhi", "platform_hub")
FAITHFUL = {"residents_registry": "faithful", "nhi": "faithful-nhi", "platform_hub": "faithful-hub"}
PREFIX = {"residents_registry": "RR", "nhi": "NH", "platform_hub": "HB"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return {unit: vendor_keys(tmp_path_factory.mktemp(f"keys-{unit}"), LGCODE, PEER, unit)
            for unit in UNITS}


def unit_of(name: str) -> str:
    return next((u for u, n in FAITHFUL.items() if n == name), None) or MUTANT_UNITS.get(
        name, "residents_registry")


@pytest.fixture(scope="module")
def vendors(keys: dict) -> Iterator[str]:
    """The faithful vendors at /faithful and /faithful-nhi, each mutant at /<mutant> (and
    /<name>-empty), playing its unit."""
    root = FastAPI()
    for name in (*FAITHFUL.values(), *MUTANTS):
        unit = unit_of(name)
        mistakes = frozenset({name}) if name in MUTANTS else frozenset()
        if unit == "platform_hub":
            root.mount(f"/{name}", make_vendor_hub(key=keys[unit]["vendor_key"],
                                                   registry=keys[unit]["trusted"],
                                                   mistakes=mistakes))
            continue
        common = {"lgcode": LGCODE, "token": TOKEN, "key": keys[unit]["vendor_key"],
                  "registry": keys[unit]["trusted"], "mistakes": mistakes, "unit": unit}
        root.mount(f"/{name}", make_vendor_app(rows=sample_rows(LGCODE, 5, unit), **common))
        root.mount(f"/{name}-empty", make_vendor_app(rows=[], **common))
    with serve(root) as url:
        yield url


def run(keys: dict, url: str, name: str, out: Path):
    unit = unit_of(name)
    own = keys[unit]
    empty = (None if name in NEEDS_NO_IMPORT_TARGET or unit == "platform_hub"
             else f"{url}/{name}-empty")
    options = KitOptions(unit=unit, base_url=f"{url}/{name}", token=TOKEN,
                         signing_key=own["kit_key_file"], lgcode=LGCODE, peer_lgcode=PEER,
                         unit_keys=own["folder"] / "unit_keys.yaml", import_base_url=empty,
                         responder_key=own["responder_key_file"], timeout=10, out_dir=out)
    return run_suite(options)


def test_every_check_has_a_mutant() -> None:
    """Sender-side checks: a mutant vendor here; receiver-side (RCV) checks: a mutant of our hub
    (hub_mutants.py, proven in test_receive_mutants.py)."""
    from hub_mutants import HUB_MUTANTS

    assert {c.id for c in CHECKS.values() if c.kit_role == "sender"} == set(MUTANTS.values())
    covered = set(MUTANTS.values()) | set(HUB_MUTANTS.values())
    assert covered == set(CHECKS), f"checks without a mutant: {sorted(set(CHECKS) - covered)}"


def test_faithful_vendor_passes_and_each_mutant_fails_exactly_its_check(
        keys: dict, vendors: str, tmp_path: Path) -> None:
    for unit, name in FAITHFUL.items():
        code, report = run(keys, vendors, name, tmp_path / name)
        found = {c.id.split("-", 1)[1]: c.outcome for c in report.checks}
        applicable = {"MSG-017": "not_run"} if unit == "residents_registry" else {}
        assert code == 0 and found == {c.id: applicable.get(c.id, "passed")
                                       for c in checks_for(unit)}, (
            report.verdict, [(c.id, c.detail) for c in report.checks if c.outcome != "passed"])
    prove(((name, f"{PREFIX[unit_of(name)]}-{check}") for name, check in MUTANTS.items()),
          lambda name: run(keys, vendors, name, tmp_path / name),
          checks=len([c for c in CHECKS.values() if c.kit_role == "sender"]), figure=FIGURE,
          stated_as="Kill ratio")
