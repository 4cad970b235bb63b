"""Stack-wide: every member (and the platform hub) has a PostgreSQL standby at the DR site.

Reason: DOMAIN.md Guideline 6 (SLA: disaster recovery, remote backup; recovery time) and
ARCHITECTURE.md (DR site: per municipality a streaming standby, the hub's standby): the SLA's
RTO is promised for the loss of the primary site, which only a standby at the other site keeps.
With ``sla.dr_services: warm`` the DR site's services must also be running.
"""

from __future__ import annotations

from policies.guardrails import SHARED, Ctx, Res, Rule, by_kind

SERVICES = ("residents_registry", "tax", "nhi")


def check(resources: list[Res], ctx: Ctx) -> list[tuple[Res | None, str]]:
    cfg = ctx.config
    dr = cfg.dr_site
    containers = [c for c in by_kind(resources, "Container") if c.site == dr]
    standbys = {c.lgcode for c in containers if c.component == "standby"}
    hub_standby = [c for c in containers if c.component == "hub_postgres" and c.lgcode == SHARED]
    found: list[tuple[Res | None, str]] = []
    for m in cfg.municipalities:
        if m.lgcode not in standbys:
            found.append((None, f"municipality {m.lgcode} ({m.name}) has no PostgreSQL standby at the DR site "
                                f"{dr}: the SLA's RTO of {cfg.sla.rto_seconds} s after the loss of the primary "
                                f"site cannot be kept"))
        if cfg.sla.dr_services == "warm":
            for svc in SERVICES:
                running = [c for c in containers if c.lgcode == m.lgcode and c.component == svc
                           and c.props.get("start") is not False]
                if not running:
                    found.append((None, f"municipality {m.lgcode}: sla.dr_services is warm but {svc} is not "
                                        f"running at the DR site {dr}"))
    if not hub_standby:
        found.append((None, f"the platform hub has no PostgreSQL standby at the DR site {dr}"))
    return found


RULE = Rule(
    name="dr-standby-per-member",
    description="Whole graph: every member municipality and the platform hub have a PostgreSQL standby at the "
                "DR site (and running DR services when the SLA says warm).",
    enforcement="mandatory", check=check, stack=True, needs_config=True)
