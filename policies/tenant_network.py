"""Tenant networks are internal and carry only their own municipality's containers and the gateway.

Reason: ARCHITECTURE.md "Isolation per municipality" and DOMAIN.md 三層の対策 (the My Number
segment has no route out; one member never reaches another's data).
"""

from __future__ import annotations

from policies.guardrails import SHARED, UNKNOWN, Ctx, Res, Rule, by_kind, networks_named

#: shared units that must reach every tenant network of their site: the gateway routes
#: /<lgcode>/<service>/ to the member's services (stacks/gateway.py)
REACHERS = frozenset({"gateway"})
#: the one network that is not internal: the frontdoor's, which carries the published port
PUBLISHING = frozenset({"frontdoor"})
#: sites on hosts of their own: each host's WAN-facing network is routed (stacks/wan.py), never
#: masqueraded - its only way out is the WAN router, which forwards between sites' blocks only
ROUTED_WAN = "wan"
NO_MASQUERADE = ("com.docker.network.bridge.enable_ip_masquerade", "false")


def _routed_wan(res: Res) -> bool:
    options = res.props.get("options")
    return (res.component == ROUTED_WAN and isinstance(options, dict)
            and options.get(NO_MASQUERADE[0]) == NO_MASQUERADE[1])


def check_internal(res: Res, ctx: Ctx) -> list[str]:
    internal = res.props.get("internal")
    if internal is True or internal is UNKNOWN or res.component in PUBLISHING or _routed_wan(res):
        return []
    owner = res.lgcode
    what = f"tenant network of municipality {owner}" if owner not in (None, SHARED) else "network"
    hint = (f"; remove {owner} from municloud:tenant_egress" if ctx.config is not None
            and owner in getattr(ctx.config, "tenant_egress", ()) else "")
    return [f"{res} is a {what} and must be internal (no route out of the engine), "
            f"not internal={internal!r}{hint}"]


def check_attachments(resources: list[Res], ctx: Ctx) -> list[tuple[Res, str]]:
    networks = by_kind(resources, "Network")
    tenant = [n for n in networks if n.lgcode not in (None, SHARED, UNKNOWN)]
    by_name = {n.props.get("name"): n for n in tenant if isinstance(n.props.get("name"), str)}
    by_urn = {n.urn: n for n in tenant if n.urn}
    found: list[tuple[Res, str]] = []
    for c in by_kind(resources, "Container"):
        names = networks_named(c.props.get("networks"))
        attached = [by_name[n] for n in names if isinstance(n, str) and n in by_name]
        if any(n is UNKNOWN for n in names):  # not known yet: the graph says where it came from
            attached += [by_urn[u] for u in c.deps.get("networks", []) if u in by_urn]
        for net in {id(n): n for n in attached}.values():
            if net.site != c.site:
                found.append((c, f"{c} at site {c.site} is attached to {net}, a tenant network of site {net.site}"))
            elif c.component in REACHERS and c.lgcode == SHARED:
                continue
            elif c.lgcode != net.lgcode:
                found.append((c, f"{c} of {c.lgcode} is attached to {net}, the tenant network of municipality "
                                 f"{net.lgcode}: only that municipality's containers and the gateway may be"))
    return found


INTERNAL = Rule(
    name="tenant-network-internal",
    description="Every network of the consortium but the frontdoor's and a site host's routed WAN network (no "
                "masquerade) is internal: tenant networks have no route out of the engine (三層の対策: the My "
                "Number segment does not reach the internet).",
    enforcement="mandatory", check=check_internal, kinds=("Network",))

ATTACHMENTS = Rule(
    name="tenant-network-attachments",
    description="A tenant network carries only its own municipality's containers (same site) and the site's "
                "gateway, the one unit that must reach them.",
    enforcement="mandatory", check=check_attachments, stack=True)
