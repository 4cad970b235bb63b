"""Platform message signing keys and the key registry file (docs/platform.md format).

Each unit (a municipality's service, or the hub) signs the messages it sends with its own Ed25519
key; receivers verify against a registry of public keys. A municipality's services get a
registry of their own three units and the hub; the hub gets every unit's key.
"""

from __future__ import annotations

import pulumi
import yaml

HUB_UNIT = "platform_hub"


def key_id(lgcode: str, unit: str) -> str:
    """``053031-tax-1``; the hub (lgcode ``*``, a shared unit) is ``platform_hub-1``."""
    return f"{unit}-1" if lgcode == "*" else f"{lgcode}-{unit}-1"


def registry_entry(lgcode: str, unit: str, public_key_b64: pulumi.Input[str]) -> pulumi.Output[dict]:
    return pulumi.Output.from_input(public_key_b64).apply(
        lambda k: {"key_id": key_id(lgcode, unit), "lgcode": lgcode, "unit": unit, "public_key": k})


def registry_yaml(entries: list[pulumi.Output[dict]]) -> pulumi.Output[str]:
    return pulumi.Output.all(*entries).apply(
        lambda es: yaml.safe_dump({"keys": sorted(es, key=lambda e: e["key_id"])}, sort_keys=False))
