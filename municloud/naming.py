"""Names and labels of every Docker object: the one convention the Pulumi program
(stacks/naming.py) and the running services (the hub's default inbox address) both rely on.

Pure functions of the runtime kit, so a service can name a container without importing the
Pulumi program (tests/unit/test_package_boundaries.py)."""

from __future__ import annotations

SHARED = "shared"
#: the port every business service listens on inside its container
SERVICE_PORT = 8000
INBOX_PATH = "/api/v1/platform/inbox"
#: the label of a container an operation runs once (a restore to verify, a failback's rewind or
#: base backup, a rehearsal's probe): its value says what for. Such a container is not a unit of
#: the stack: the status prober does not count it (municloud/status/facts.py).
ONE_OFF_LABEL = "municloud.one-off"


def docker_name(stack: str, site: str | None, component: str, lgcode: str | None = None) -> str:
    """``mc-<stack>-<site>-<lgcode>-<component>``; ``site=None`` for stack-wide objects."""
    parts = ["mc", stack] + ([site] if site else []) + ([lgcode] if lgcode else []) + ([component.replace("_", "-")] if component else [])
    return "-".join(parts)


def labels(stack: str, site: str, component: str, lgcode: str | None = None) -> dict[str, str]:
    """The four labels every Docker object of the project carries."""
    return {"municloud.stack": stack, "municloud.site": site, "municloud.lgcode": lgcode or SHARED,
            "municloud.component": component}


def service_inbox_url(stack: str, site: str, lgcode: str, unit: str) -> str:
    """The platform inbox of a municipality's service, reached directly by its container name."""
    return f"http://{docker_name(stack, site, unit, lgcode)}:{SERVICE_PORT}{INBOX_PATH}"
