"""Names and labels of every Docker object (common brief: one convention everyone relies on)."""

from __future__ import annotations

SHARED = "shared"


def docker_name(stack: str, site: str | None, component: str, lgcode: str | None = None) -> str:
    """``mc-<stack>-<site>-<lgcode>-<component>``; ``site=None`` for stack-wide objects."""
    parts = ["mc", stack] + ([site] if site else []) + ([lgcode] if lgcode else []) + ([component.replace("_", "-")] if component else [])
    return "-".join(parts)


def labels(stack: str, site: str, component: str, lgcode: str | None = None) -> dict[str, str]:
    """The four labels every Docker object of the project carries."""
    return {"municloud.stack": stack, "municloud.site": site, "municloud.lgcode": lgcode or SHARED,
            "municloud.component": component}


def urn_name(*parts: str) -> str:
    """A Pulumi resource name, unique in the stack (Docker names are unique per engine only)."""
    return "-".join(p.replace("_", "-") for p in parts)
