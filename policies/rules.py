"""The pack's rules, in the order docs/security.md lists them, and their pulumi-policy wrappers."""

from __future__ import annotations

import functools
from typing import Any

from policies import backup, dr_coverage, images, labels, postgres_hba, publishing, replication, secrets_in_env, \
    tenant_network, tls
from policies.guardrails import Ctx, Res, Rule, from_policy_resource, kind_of, load_stack_config, plain

RULES: tuple[Rule, ...] = (
    tenant_network.INTERNAL,
    tenant_network.ATTACHMENTS,
    secrets_in_env.RULE,
    tls.RULE,
    postgres_hba.RULE,
    replication.RULE,
    backup.RULE,
    publishing.RULE,
    images.RULE,
    labels.RULE,
    dr_coverage.RULE,
)


@functools.lru_cache(maxsize=1)
def _stack_config() -> Any:
    return load_stack_config()


def _ctx(policy_config: Any) -> Ctx:
    import pulumi

    try:
        stack = pulumi.get_stack()
    except Exception:  # noqa: BLE001 - outside an engine run
        stack = ""
    return Ctx(stack=stack, config=_stack_config(), policy_config=dict(policy_config or {}))


def _resource_validate(rule: Rule):
    def validate(args, report_violation) -> None:
        kind = kind_of(args.resource_type)
        if kind not in rule.kinds:
            return
        ctx = _ctx(args.get_config())
        if rule.needs_config and ctx.config is None:
            args.not_applicable("the stack config (municloud:*) is not available or not valid")
        res = Res(kind, args.name, plain(args.props), args.urn)
        for message in rule.check(res, ctx):
            report_violation(message)
    return validate


def _stack_validate(rule: Rule):
    def validate(args, report_violation) -> None:
        ctx = _ctx(args.get_config())
        if rule.needs_config and ctx.config is None:
            args.not_applicable("the stack config (municloud:*) is not available or not valid")
        by_urn = {r.urn: r for r in args.resources}
        resources = [from_policy_resource(r) for r in args.resources]
        for res, message in rule.check(resources, ctx):
            report_violation(message, res.urn if res is not None and res.urn in by_urn else None)
    return validate


def policies() -> list:
    from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, \
        StackValidationPolicy

    out = []
    for rule in RULES:
        level = EnforcementLevel(rule.enforcement)
        schema = PolicyConfigSchema(properties=rule.config_schema) if rule.config_schema else None
        if rule.stack:
            out.append(StackValidationPolicy(name=rule.name, description=rule.description,
                                             enforcement_level=level, validate=_stack_validate(rule),
                                             config_schema=schema))
        else:
            out.append(ResourceValidationPolicy(name=rule.name, description=rule.description,
                                                enforcement_level=level, validate=_resource_validate(rule),
                                                config_schema=schema))
    return out
