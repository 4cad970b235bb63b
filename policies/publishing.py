"""Only the frontdoor publishes a port, on loopback or on an address the pack's config names.

Reason: DOMAIN.md 三層の対策 ("only the frontdoor is published"), ARCHITECTURE.md (frontdoor on
127.0.0.1:8443). A consortium that serves staff on a LAN address names that address in the
pack's config (``--policy-pack-config``), so publishing more is a reviewed decision.
"""

from __future__ import annotations

from policies.guardrails import UNKNOWN, Ctx, Res, Rule, is_loopback

FRONTDOOR = "frontdoor"
DEFAULT_HOST_IP = "127.0.0.1"  # stacks/providers/container.py binds here when a port names none


def check(res: Res, ctx: Ctx) -> list[str]:
    ports = res.props.get("ports")
    if not isinstance(ports, list) or not ports:
        return []
    if res.component != FRONTDOOR:
        return [f"{res} publishes ports {[p.get('host_port') if isinstance(p, dict) else p for p in ports]}: "
                f"only the frontdoor may publish"]
    allowed = set(ctx.policy_config.get("allowed_addresses") or [])
    found = []
    for p in ports:
        if not isinstance(p, dict):
            continue
        host_ip = p.get("host_ip") or DEFAULT_HOST_IP
        if host_ip is UNKNOWN or is_loopback(host_ip) or host_ip in allowed:
            continue
        found.append(f"{res} publishes port {p.get('host_port')} on {host_ip}: only loopback or an address "
                     f"named in this policy's allowed_addresses")
    return found


RULE = Rule(
    name="frontdoor-published-address",
    description="Only the frontdoor publishes a port, on loopback or on an address explicitly configured in "
                "this policy's allowed_addresses.",
    enforcement="mandatory", check=check, kinds=("Container",),
    config_schema={"allowed_addresses": {"type": "array", "items": {"type": "string"},
                                         "description": "host addresses the frontdoor may be published on "
                                                        "besides loopback"}})
