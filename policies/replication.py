"""Replication mode consistent with the SLA's RPO.

Reason: DOMAIN.md Guideline 6 (SLA: backup, disaster recovery) and docs/dr.md: RPO 0 means no
committed write may be lost with the primary site, which only synchronous replication gives
(every COMMIT waits for the DR standby); with asynchronous replication the standby's lag bound
is what a site failure may lose, so it must not exceed the RPO.
"""

from __future__ import annotations

from policies.guardrails import Ctx, Res, Rule

#: components running PostgreSQL that pair with a peer across sites (stacks/dr_standby.py)
PAIRED = frozenset({"postgres", "hub_postgres", "standby"})
SYNC_NAMES = "MC_PG_SYNCHRONOUS_STANDBY_NAMES"


def check(res: Res, ctx: Ctx) -> list[str]:
    env = res.props.get("env")
    sla = ctx.config.sla
    if res.component not in PAIRED or not isinstance(env, dict) or SYNC_NAMES not in env:
        return []
    names = env[SYNC_NAMES]
    if sla.rpo_seconds == 0 and not (isinstance(names, str) and names.strip('"')):
        return [f"{res}: the SLA promises RPO 0 (no committed write lost) but this PostgreSQL replicates "
                f"asynchronously ({SYNC_NAMES} empty); set municloud:sla.replication_mode to synchronous"]
    if sla.rpo_seconds > 0 and not names and sla.max_lag_seconds > sla.rpo_seconds:
        return [f"{res}: asynchronous replication may lose {sla.max_lag_seconds} s of writes "
                f"(sla.max_lag_seconds) but the SLA promises RPO {sla.rpo_seconds} s"]
    return []


RULE = Rule(
    name="replication-matches-rpo",
    description="PostgreSQL replication matches the SLA's RPO: RPO 0 needs synchronous replication to the DR "
                "standby; asynchronous replication needs a lag bound within the RPO.",
    enforcement="mandatory", check=check, needs_config=True, kinds=("Container",))
