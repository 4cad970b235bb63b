"""Mutation proof of the conformance kit: for every mutant vendor endpoint (tests/conformance/
vendor_app.py MUTANTS, each breaking exactly one requirement) the kit fails exactly that
mutant's own check id and no other; the faithful vendors (residents_registry; nhi for the check only nhi has) pass every check. The run writes the
kill ratio (mutants caught by their own check / mutants) to reports/conformance-mutants.json,
the figure docs/conformance.md cites, and the test fails if the docs state another figure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
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

pytestmark = pytest.mark.unit

LGCODE, PEER = "053031", "053279"
TOKEN = "vendor-test-token"
REPO = Path(__file__).resolve().parents[2]
FIGURE = REPO / "reports" / "conformance-mutants.json"
DOC = REPO / "docs" / "conformance.md"


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
    assert set(MUTANTS.values()) == set(CHECKS), (
        f"checks without a mutant: {sorted(set(CHECKS) - set(MUTANTS.values()))}")


def test_faithful_vendor_passes_and_each_mutant_fails_exactly_its_check(
        keys: dict, vendors: str, tmp_path: Path) -> None:
    for unit, name in FAITHFUL.items():
        code, report = run(keys, vendors, name, tmp_path / name)
        found = {c.id.split("-", 1)[1]: c.outcome for c in report.checks}
        applicable = {"MSG-017": "not_run"} if unit == "residents_registry" else {}
        assert code == 0 and found == {c.id: applicable.get(c.id, "passed")
                                       for c in checks_for(unit)}, (
            report.verdict, [(c.id, c.detail) for c in report.checks if c.outcome != "passed"])
    caught, wrong = [], {}
    for name, check in MUTANTS.items():
        code, report = run(keys, vendors, name, tmp_path / name)
        prefix = PREFIX[unit_of(name)]
        if code == 3 and report.failed_ids == [f"{prefix}-{check}"]:
            caught.append(name)
        else:
            wrong[name] = f"expected only {prefix}-{check} to fail; {report.verdict}: " + "; ".join(
                f"{c.id}: {c.detail[:200]}" for c in report.checks if c.outcome != "passed")
    ratio = f"{len(caught)}/{len(MUTANTS)}"
    FIGURE.parent.mkdir(exist_ok=True)
    FIGURE.write_text(json.dumps({"mutants": len(MUTANTS), "caught": len(caught),
                                  "kill_ratio": ratio, "checks": len(CHECKS),
                                  "not_caught": sorted(wrong)}, indent=2) + "\n",
                      encoding="utf-8")
    assert not wrong, json.dumps(wrong, ensure_ascii=False, indent=1)
    stated = re.search(r"Kill ratio: \*\*(\d+/\d+)\*\*", DOC.read_text(encoding="utf-8"))
    assert stated and stated.group(1) == ratio, (
        f"docs/conformance.md states {stated.group(1) if stated else 'no'} kill ratio; "
        f"this run measured {ratio}")
