"""No secret-looking environment variable names or values.

Reason: README "State and secrets" and docs/security.md: secrets reach containers as files under
/run/secrets, never as environment variables (``docker inspect`` and every child process see env).
"""

from __future__ import annotations

import re

from policies.guardrails import UNKNOWN, Ctx, Res, Rule

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|CREDENTIAL|ACCESS_?KEY",
                         re.IGNORECASE)
#: names that point at a secret (a file) or hold public material, not the secret itself
HARMLESS_NAME = re.compile(r"(_FILE|_PATH|_DIR)$|PUBLIC", re.IGNORECASE)
SECRET_VALUES = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a PEM private key"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"), "a URL with a password"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), "a signed token (JWT)"),
)


def check(res: Res, ctx: Ctx) -> list[str]:
    env = res.props.get("env")
    if not isinstance(env, dict):
        return []  # unknown until `pulumi up` analyzes the container with its real inputs
    found = []
    for name, value in sorted(env.items()):
        if SECRET_NAME.search(name) and not HARMLESS_NAME.search(name):
            found.append(f"{res}: environment variable {name} looks like a secret; hand it over as a file "
                         f"under /run/secrets and pass {name}_FILE")
        if isinstance(value, str) and value is not UNKNOWN:
            for pattern, what in SECRET_VALUES:
                if pattern.search(value):
                    found.append(f"{res}: the value of environment variable {name} is {what}; "
                                 f"hand it over as a file under /run/secrets")
    return found


RULE = Rule(
    name="no-secrets-in-env",
    description="No container gets a secret-looking environment variable (name or value): secrets are files "
                "under /run/secrets.",
    enforcement="mandatory", check=check, kinds=("Container",))
