"""Names and labels of every Docker object (common brief: one convention everyone relies on).

The convention itself lives in the runtime kit (municloud/naming.py), which the services use
too; this module adds what only the Pulumi program needs (resource names)."""

from __future__ import annotations

from municloud.naming import SHARED, docker_name, labels

__all__ = ["SHARED", "docker_name", "labels", "urn_name"]


def urn_name(*parts: str) -> str:
    """A Pulumi resource name, unique in the stack (Docker names are unique per engine only)."""
    return "-".join(p.replace("_", "-") for p in parts)
