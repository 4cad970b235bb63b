"""Only the frontdoor is reachable from outside the engine: it alone publishes a port or runs on the
host network, and it listens on loopback, on the planned WAN address of its site host, or on an
address the pack's config names.

Reason: DOMAIN.md 三層の対策 ("only the frontdoor is published"), ARCHITECTURE.md (frontdoor on
127.0.0.1:8443). The frontdoor runs on the host network of its engine (decision 0019), where it
binds host addresses itself (its role's ``frontdoor_bind_address``); a container on the host network
could bind any of them, so no other container may run there. A consortium that serves staff on a
LAN address names that address in the pack's config (``--policy-pack-config``), so publishing more
is a reviewed decision.
"""

from __future__ import annotations

from policies.guardrails import UNKNOWN, Ctx, Res, Rule, is_loopback

FRONTDOOR = "frontdoor"
DEFAULT_HOST_IP = "127.0.0.1"  # stacks/providers/container.py binds here when a port names none
HOST_NETWORK = "host"  # stacks/providers/container.py HOST_NETWORK


def _allowed(address, ctx: Ctx) -> bool:
    """Loopback, an address of the pack's config, or (sites on hosts of their own) the primary
    site host's own WAN address from the address plan (decision 0034)."""
    if address is UNKNOWN or is_loopback(address) or address in set(ctx.policy_config.get("allowed_addresses") or []):
        return True
    cfg = ctx.config
    return bool(cfg is not None and cfg.routed_wan and address == cfg.wan_host_address(cfg.primary_site))


def check(res: Res, ctx: Ctx) -> list[str]:
    if res.kind == "RenderedConfig":
        return _check_bind(res, ctx)
    found = []
    if res.props.get("network_mode") == HOST_NETWORK and res.component != FRONTDOOR:
        found.append(f"{res} runs on the host network: only the frontdoor may (a container there can bind "
                     f"any address of the engine's host)")
    ports = res.props.get("ports")
    if not isinstance(ports, list) or not ports:
        return found
    if res.component != FRONTDOOR:
        return found + [f"{res} publishes ports {[p.get('host_port') if isinstance(p, dict) else p for p in ports]}: "
                        f"only the frontdoor may publish"]
    for p in ports:
        if not isinstance(p, dict):
            continue
        host_ip = p.get("host_ip") or DEFAULT_HOST_IP
        if _allowed(host_ip, ctx):
            continue
        found.append(f"{res} publishes port {p.get('host_port')} on {host_ip}: only loopback or an address "
                     f"named in this policy's allowed_addresses")
    return found


def _check_bind(res: Res, ctx: Ctx) -> list[str]:
    """The frontdoor's listening address on the host network (roles/frontdoor)."""
    variables = res.props.get("variables")
    if res.props.get("role") != FRONTDOOR or not isinstance(variables, dict):
        return []
    bind = variables.get("frontdoor_bind_address", "")
    if bind and _allowed(bind, ctx):
        return []
    where = bind or "every address of the host"
    return [f"{res}: the frontdoor listens on {where}: only loopback, the primary site host's planned WAN "
            f"address or an address named in this policy's allowed_addresses"]


RULE = Rule(
    name="frontdoor-published-address",
    description="Only the frontdoor publishes a port or runs on the host network, and it listens on loopback, its "
                "site host's planned WAN address or an address explicitly configured in this policy's "
                "allowed_addresses.",
    enforcement="mandatory", check=check, kinds=("Container", "RenderedConfig"),
    config_schema={"allowed_addresses": {"type": "array", "items": {"type": "string"},
                                         "description": "host addresses the frontdoor may listen or be published "
                                                        "on besides loopback"}})
