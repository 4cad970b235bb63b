"""Helpers of the infra tier: testinfra hosts for containers, containers by label."""

from __future__ import annotations

import testinfra

SERVICES = ("residents_registry", "tax", "nhi")


def host(name: str, user: str | None = None):
    return testinfra.get_host(f"docker://{user + '@' if user else ''}{name}")


def by_component(containers, component: str, lgcode: str | None = None) -> list[str]:
    return sorted(n for n, c in containers.items() if c.labels["municloud.component"] == component
                  and (lgcode is None or c.labels["municloud.lgcode"] == lgcode))
