"""F-5: which platform keys each unit trusts, read from the key registry file every service
container gets (program under mocks, real generated keys): its own municipality's units and the
hub, and for residents_registry (転出→転入 between members) the other members' residents_registry."""

from __future__ import annotations

import pytest
import yaml

from stacks.platform_keys import trusted_entries
from mocked_program import compose  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit

REGISTRY = "/etc/municloud/platform-keys.yaml"


def _registries(mocks) -> dict[tuple[str, str, str], dict[str, str]]:
    """(site, lgcode, unit) -> key_id -> public key, from the service containers' files."""
    found = {}
    for kind, _name, inputs in mocks.created:
        labels = inputs.get("labels") or {}
        if kind != "Container" or labels.get("municloud.component") not in ("residents_registry", "tax", "nhi"):
            continue
        text = next(f["content"] for f in inputs["files"] if f["path"] == REGISTRY)
        found[(labels["municloud.site"], labels["municloud.lgcode"], labels["municloud.component"])] = {
            k["key_id"]: k["public_key"] for k in yaml.safe_load(text)["keys"]}
    return found


def test_each_unit_trusts_its_tenant_the_hub_and_only_residents_registry_its_peers(dev_raw):
    made = compose(dev_raw)
    cfg = made.cfg
    codes = [m.lgcode for m in cfg.municipalities]

    registries = _registries(made)
    primary = {("primary", c, u) for c in codes for u in ("residents_registry", "tax", "nhi")}
    assert primary <= set(registries)  # every unit of the primary site (DR slices: checked below)
    for (site, code, unit), keys in registries.items():
        own = {f"{code}-{u}-1" for u in ("residents_registry", "tax", "nhi")} | {"platform_hub-1"}
        peers = {f"{c}-residents_registry-1" for c in codes if c != code}
        expected = own | peers if unit == "residents_registry" else own
        assert set(keys) == expected, (site, code, unit, sorted(keys))
    # the peer entry is the peer's own key (same value everywhere it appears)
    a, b = codes[0], codes[1]
    assert registries[("primary", b, "residents_registry")][f"{a}-residents_registry-1"] == \
        registries[("primary", a, "residents_registry")][f"{a}-residents_registry-1"]
    # a DR slice carries the primary's registries unchanged
    for (site, code, unit), keys in registries.items():
        assert site == "primary" or keys == registries[("primary", code, unit)], (site, code, unit)


def test_trusted_entries_adds_peers_only_for_the_cross_tenant_unit():
    own, hub, peers = ["own"], ["hub"], {"residents_registry": ["peer-rr"], "tax": ["peer-tax"]}
    assert trusted_entries("residents_registry", own, hub, peers) == ["own", "hub", "peer-rr"]
    assert trusted_entries("tax", own, hub, peers) == ["own", "hub"]
    assert trusted_entries("nhi", own, hub, {}) == ["own", "hub"]
