"""The backup repository is encrypted and keeps at least the SLA's generations.

Reason: DOMAIN.md Guideline 6 (SLA items "backup retention: period, generations" and "disaster
recovery: remote backup"), ARCHITECTURE.md (backup repository: pgBackRest, encrypted,
retention by generation).
"""

from __future__ import annotations

import re

from policies.guardrails import Ctx, Res, Rule, is_unknown, render_role_template


def settings(conf: str) -> dict[str, str]:
    """``key=value`` lines of the [global] section of a pgbackrest.conf."""
    out, section = {}, ""
    for line in conf.splitlines():
        line = line.strip()
        if re.fullmatch(r"\[[^]]+\]", line):
            section = line[1:-1]
        elif section == "global" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def check_conf(conf: str, retention_full: int, retention_diff: int) -> list[str]:
    s = settings(conf)
    found = []
    if s.get("repo1-cipher-type", "none") == "none":
        found.append("repo1-cipher-type is not set: the repository would hold the backups unencrypted")
    for key, promised, item in (("repo1-retention-full", retention_full, "backup_retention_full"),
                                ("repo1-retention-diff", retention_diff, "backup_retention_diff")):
        try:
            kept = float(s.get(key, "0"))
        except ValueError:
            kept = 0
        if kept < promised:
            found.append(f"{key}={s.get(key, 'unset')} keeps fewer generations than the SLA's "
                         f"{item}={promised}")
    return found


def check(res: Res, ctx: Ctx) -> list[str]:
    variables = res.props.get("variables")
    if res.props.get("role") != "pgbackrest" or not isinstance(variables, dict) or is_unknown(variables):
        return []
    conf = render_role_template("pgbackrest", "pgbackrest.conf.j2", variables)
    sla = ctx.config.sla
    return [f"{res}: pgbackrest.conf: {p}" for p in
            check_conf(conf, sla.backup_retention_full, sla.backup_retention_diff)]


RULE = Rule(
    name="backup-encrypted-retention",
    description="The pgBackRest repository (roles/pgbackrest, rendered with its variables) is encrypted and "
                "keeps at least the SLA's full and differential generations.",
    enforcement="mandatory", check=check, needs_config=True, kinds=("RenderedConfig",))
