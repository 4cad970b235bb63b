"""municloud's guardrails as code: a Pulumi policy pack (PulumiPolicy.yaml, __main__.py), one
module per consortium rule. docs/security.md lists the rules, their reasons and their tests."""
