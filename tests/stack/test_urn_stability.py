"""An existing stack's resources keep their identity across a change of the program's code.

The program runs under mocks with the dev config; every registration's URN and aliases are
resolved the way the engine resolves them (full parent type chain, alias specs, aliases inherited
from an aliased parent). Each URN of a real dev stack made by an earlier code
(tests/stack/fixtures/urns-*.txt, written by ``python -m stacks.migration before``) must be claimed
by exactly one resource of today's program - else `up` would delete it and create its successor:
a new database, a lost volume - and no custom resource may appear that the old stack lacks. New
components (logical grouping, no object behind them) are listed in ``NEW_COMPONENTS``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from mocked_program import Mocks  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures"
#: components this code added that the old stack did not have (a create of state only)
NEW_COMPONENTS = {"municloud:stack:PostgresCluster", "municloud:stack:StatusPage"}
#: resources added on purpose since the fixture's stack was made (short URN names): new objects,
#: not successors of old ones - each site's supervisor (docs/operator-guide.md, self-healing) and the
#: python image it runs, built on that site's engine; the status page's probers, monitoring networks,
#: Prometheus (its image and volume) and the page (docs/operator-guide.md, "The status page"); the
#: WAN segment of every pair (stacks/wan.py WanSegments), the successors of the flat WAN
NEW_RESOURCES = {"primary-supervisor", "dr-supervisor", "primary-image-python", "dr-image-python",
                 "primary-prober", "dr-prober", "primary-monitoring", "dr-monitoring", "primary-prometheus",
                 "primary-prometheus-data", "primary-image-prometheus", "primary-status",
                 "wan-hub", "wan-053031", "wan-053279", "wan-053465"}
#: resources removed on purpose since then (short URNs): `up` deletes them and makes no successor -
#: the frontdoor's own publishing network, gone with the frontdoor's move to the host network
#: (decision 0019); the flat WAN of a single-engine stack (its servers move to their pair's segment
#: in place, docs/operator-guide.md "Which network reaches what")
REMOVED_RESOURCES = {"municloud:stack:Consortium$municloud:stack:Frontdoor$pulumi-python:dynamic/municloud:Network"
                     "::frontdoor-net", "municloud:stack:Consortium$pulumi-python:dynamic/municloud:Network::wan"}
_PREFIX = re.compile(r"^urn:pulumi:[^:]+::[^:]+::")


def _short(urn: str) -> str:
    """``<qualified type>::<name>``: the URN without stack and project."""
    return _PREFIX.sub("", urn)


def _urn(parent: str, type_: str, name: str) -> str:
    qualified = f"{parent.split('::')[0]}${type_}" if parent else type_
    return f"{qualified}::{name}"


class RecordingMonitor(MockMonitor):
    """The mock monitor, also computing each resource's engine URN and its aliases (short form)."""

    def __init__(self, mocks) -> None:
        super().__init__(mocks)
        self.real: dict[str, str] = {}  # mock URN -> engine URN (short)
        self.aliases: dict[str, set[str]] = {}  # engine URN (short) -> alias URNs (short)

    def _real(self, urn: str) -> str:
        if not urn or "::pulumi:pulumi:Stack::" in urn:
            return ""
        return self.real.get(urn) or _short(urn)

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":  # the root: not part of its children's type chain
            self.real[response.urn] = ""
            return response
        parent = self._real(request.parent)
        urn = _urn(parent, request.type, request.name)
        self.real[response.urn] = urn
        aliases: set[str] = set()
        for alias in request.aliases:
            if alias.WhichOneof("alias") == "urn":
                aliases.add(_short(alias.urn))
                continue
            spec = alias.spec
            which = spec.WhichOneof("parent")
            alias_parent = "" if which == "noParent" else self._real(spec.parentUrn) if which == "parentUrn" else parent
            aliases.add(_urn(alias_parent, spec.type or request.type, spec.name or request.name))
        for urn_alias in request.aliasURNs:
            aliases.add(_short(urn_alias))
        # the engine multiplies an aliased parent's aliases out to its children (same name)
        for parent_alias in self.aliases.get(parent, ()):
            aliases.add(_urn(parent_alias, request.type, request.name))
        self.aliases[urn] = aliases
        return response


def _registrations(raw: dict) -> RecordingMonitor:
    from stacks.config import built_services, load
    from stacks.consortium import Consortium, ConsortiumArgs

    cfg = load("dev", raw)
    monitor = RecordingMonitor(Mocks())
    pulumi.runtime.set_mocks(monitor.mocks, project="municloud", stack="dev", preview=False, monitor=monitor)
    # the images the real stack built (one per service with a Dockerfile), as __main__ does; then
    # wait until every registration reached the monitor
    _sync_await(run_pulumi_func(lambda: Consortium("consortium", ConsortiumArgs(
        config=cfg, built_services=built_services() - set(cfg.placeholder_services)))))
    return monitor


def _old_urns(fixture: str) -> set[str]:
    lines = (FIXTURES / fixture).read_text(encoding="utf-8").splitlines()
    return {_short(line) for line in lines if line and not line.startswith("#")} - REMOVED_RESOURCES


def _unclaimed_and_new(monitor: RecordingMonitor, old: set[str]) -> tuple[set[str], set[str], dict[str, list[str]]]:
    claims: dict[str, list[str]] = {}
    new: set[str] = set()
    for urn, aliases in monitor.aliases.items():
        matched = ({urn} | aliases) & old
        for o in matched:
            claims.setdefault(o, []).append(urn)
        qualified_type = urn.split("::")[0].rsplit("$", 1)[-1]
        if not matched and qualified_type not in NEW_COMPONENTS and urn.rsplit("::", 1)[-1] not in NEW_RESOURCES:
            new.add(urn)
    twice = {o: c for o, c in claims.items() if len(c) > 1}
    return old - set(claims), new, twice


def test_every_resource_of_a_stack_made_before_the_cluster_component_keeps_its_identity(dev_raw):
    monitor = _registrations(dev_raw)
    old = _old_urns("urns-dev-before-postgres-cluster.txt")
    assert len(old) == 141 - len(REMOVED_RESOURCES)
    unclaimed, new, twice = _unclaimed_and_new(monitor, old)
    assert not unclaimed, f"up would delete (and re-create under a new URN): {sorted(unclaimed)}"
    assert not new, ("up would create resources the stack lacks (if on purpose: regenerate the fixture with "
                     f"`python -m stacks.migration before`): {sorted(new)}")
    assert not twice, f"one old resource claimed by several new ones: {twice}"


def test_twin_a_missing_alias_is_caught(dev_raw, monkeypatch):
    """The check can fail: without the standby's alias its cluster and children would be re-created."""
    from stacks import postgres_cluster

    real_alias = pulumi.Alias

    def no_standby_alias(*args, **kwargs):
        if kwargs.get("type_") == postgres_cluster._OLD_STANDBY_TYPE:
            return real_alias(name="no-such-old-resource")
        return real_alias(*args, **kwargs)

    monkeypatch.setattr(postgres_cluster.pulumi, "Alias", no_standby_alias)
    monitor = _registrations(dev_raw)
    unclaimed, new, _ = _unclaimed_and_new(monitor, _old_urns("urns-dev-before-postgres-cluster.txt"))
    standby_children = {u for u in unclaimed if "municloud:stack:DrStandby" in u}
    assert len(standby_children) == 4 * 5  # 3 members + the hub: component, cert, volume, config, container
    assert any(u.endswith("::dr-053031-standby") for u in new)


def test_the_live_check_counts_only_resources_with_an_object_behind_them():
    """stacks.migration's verdict: a new component or the provider plugin's own state is not a
    change of the consortium; a container, network or secret is (the twin)."""
    from stacks.migration import physical

    pre = "urn:pulumi:s::municloud::municloud:stack:Consortium$municloud:stack:Site$municloud:stack:Municipality"
    component = f"{pre}$municloud:stack:PostgresCluster::primary-053031-postgres-cluster"
    provider = "urn:pulumi:s::municloud::pulumi:providers:pulumi-python::default"
    container = f"{pre}$municloud:stack:PostgresCluster$pulumi-python:dynamic/municloud:Container::primary-053031-postgres"
    assert physical({"create": [component], "update": [provider]}) == {}
    assert physical({"create": [component], "replace": [container]}) == {"replace": [container]}
