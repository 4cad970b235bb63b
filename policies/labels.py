"""Every Docker object carries the labels that name its stack, site and municipality.

Reason: stacks/naming.py (the one label convention), docs/operator-guide.md: metering per
municipality and `make down`'s clean-up find objects by these labels. Advisory: an unlabelled
object still works and `pulumi destroy` still removes it, but it escapes metering and the
label-based clean-up, so the operator is warned, not stopped.
"""

from __future__ import annotations

from policies.guardrails import LABELS, SHARED, UNKNOWN, Ctx, Res, Rule, is_unknown


def check(res: Res, ctx: Ctx) -> list[str]:
    labels = res.props.get("labels")
    if is_unknown(labels):
        return []
    labels = labels if isinstance(labels, dict) else {}
    found = [f"{res} lacks label {key}" for key in LABELS if not labels.get(key)]
    stack = labels.get("municloud.stack")
    if stack and stack is not UNKNOWN and ctx.stack and stack != ctx.stack:
        found.append(f"{res} is labelled municloud.stack={stack} but belongs to stack {ctx.stack}")
    cfg = ctx.config
    if cfg is not None:
        site, code = labels.get("municloud.site"), labels.get("municloud.lgcode")
        if site and site not in cfg.sites:
            found.append(f"{res} is labelled municloud.site={site}, not a site of the stack {sorted(cfg.sites)}")
        members = {m.lgcode for m in cfg.municipalities}
        if code and code != SHARED and code not in members:
            found.append(f"{res} is labelled municloud.lgcode={code}, neither '{SHARED}' nor a member")
    return found


RULE = Rule(
    name="labels-stack-site-municipality",
    description="Every container, network and volume is labelled municloud.stack, municloud.site, "
                "municloud.lgcode (a member or 'shared') and municloud.component.",
    enforcement="advisory", check=check, kinds=("Container", "Network", "Volume"))
