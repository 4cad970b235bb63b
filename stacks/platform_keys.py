"""Platform message signing keys and the key registry file (docs/platform.md format).

Each unit (a municipality's service, or the hub) signs the messages it sends with its own Ed25519
key; receivers verify against a registry of public keys. A municipality's services get a
registry of their own three units and the hub; its residents_registry also trusts the other
members' residents_registry keys (転出証明書情報 from the previous municipality, the one
cross-tenant route, forwarded unchanged by the hub), nothing more. The hub gets every unit's key.
"""

from __future__ import annotations

import pulumi
import yaml

HUB_UNIT = "platform_hub"
#: Units that receive messages signed by another member's same unit (転出→転入 between members).
CROSS_TENANT_UNITS = ("residents_registry",)


def key_id(lgcode: str, unit: str) -> str:
    """``053031-tax-1``; the hub (lgcode ``*``, a shared unit) is ``platform_hub-1``."""
    return f"{unit}-1" if lgcode == "*" else f"{lgcode}-{unit}-1"


def registry_entry(lgcode: str, unit: str, public_key_b64: pulumi.Input[str]) -> pulumi.Output[dict]:
    return pulumi.Output.from_input(public_key_b64).apply(
        lambda k: {"key_id": key_id(lgcode, unit), "lgcode": lgcode, "unit": unit, "public_key": k})


def registry_yaml(entries: list[pulumi.Output[dict]]) -> pulumi.Output[str]:
    return pulumi.Output.all(*entries).apply(
        lambda es: yaml.safe_dump({"keys": sorted(es, key=lambda e: e["key_id"])}, sort_keys=False))


def trusted_entries(unit: str, own: list, hub: list, peers: dict[str, list]) -> list:
    """Registry entries one unit of a municipality trusts: its own tenant's units and the hub, and
    for a cross-tenant unit the same unit of every other member (``peers``: unit -> entries of the
    other members, never this one's)."""
    return [*own, *hub, *(peers.get(unit, []) if unit in CROSS_TENANT_UNITS else [])]


def member_keys(stack: str, site_name: str, lgcodes: list[str], site: pulumi.Resource) -> dict[str, dict]:
    """Every member's unit keys (lgcode -> unit -> Ed25519KeyPair), created by the Site before any
    Municipality so that each member's registry can hold the others' cross-tenant keys. Aliased to
    where they were created before (as children of their Municipality): existing keys are kept."""
    from pulumi.resource import create_urn

    from stacks.config import SERVICES
    from stacks.naming import urn_name
    from stacks.providers.secrets import Ed25519KeyPair

    keys: dict[str, dict] = {}
    for code in lgcodes:
        before = create_urn(urn_name(site_name, code), "municloud:stack:Municipality", parent=site)
        opts = pulumi.ResourceOptions(parent=site, aliases=[pulumi.Alias(parent=before)])
        keys[code] = {svc: Ed25519KeyPair(urn_name(code, svc, "platform-key"),
                                          keepers={"stack": stack, "lgcode": code, "unit": svc}, opts=opts)
                      for svc in SERVICES}
    return keys


def peer_entries(keys: dict[str, dict], lgcode: str) -> dict[str, list[pulumi.Output[dict]]]:
    """unit -> the registry entries of the same unit at every OTHER member, for cross-tenant units."""
    return {unit: [registry_entry(code, unit, units[unit].public_key_b64)
                   for code, units in sorted(keys.items()) if code != lgcode]
            for unit in CROSS_TENANT_UNITS}
