"""The municloud guardrail pack: `pulumi preview|up --stack <name> --policy-pack policies`.

The CLI starts this through the Python language host (tools/pulumi/language_host.py, RunPlugin)
as ``python -m pulumi.policy <engine> <this directory>``, in this directory, with the stack's
config in PULUMI_CONFIG. The rules reuse the program's own config model (stacks/config.py), so
the checkout this pack lives in goes on sys.path first.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulumi_policy import PolicyPack  # noqa: E402

from policies.rules import policies  # noqa: E402

PolicyPack(name="municloud-guardrails", policies=policies())
