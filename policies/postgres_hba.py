"""PostgreSQL client authentication: no ``trust``, TLS + SCRAM from named networks, reject-all last.

Reason: docs/security.md (each service role reaches only its own database over TLS), the
PostgreSQL manual "The pg_hba.conf File" (the first matching line wins, so a final reject line
closes everything not granted above; ``trust`` admits without a password).
"""

from __future__ import annotations

from policies.guardrails import Ctx, Res, Rule, is_unknown, render_role_template

HOST_TYPES = ("host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc")
ANY_ADDRESS = ("all", "0.0.0.0/0", "::/0", "samenet", "samehost")


def check_hba(text: str) -> list[str]:
    """Problems of one pg_hba.conf text (an empty list when it follows the rule)."""
    rules = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    found = []
    for r in rules:
        method = r[-1]
        if method == "trust":
            found.append(f"'{' '.join(r)}' admits without a password (trust)")
        if r[0] in HOST_TYPES and method != "reject":
            if r[0] != "hostssl":
                found.append(f"'{' '.join(r)}' accepts connections without TLS (use hostssl)")
            if len(r) >= 5 and r[3] in ANY_ADDRESS:
                found.append(f"'{' '.join(r)}' accepts any address (name the network)")
            if method not in ("scram-sha-256", "cert"):
                found.append(f"'{' '.join(r)}' uses {method} (use scram-sha-256)")
    last = rules[-1] if rules else []
    if not (len(last) == 5 and last[0] == "host" and last[1:4] == ["all", "all", "all"] and last[4] == "reject"):
        found.append("the last line must reject everything else: 'host all all all reject'")
    return found


def check(res: Res, ctx: Ctx) -> list[str]:
    variables = res.props.get("variables")
    if res.props.get("role") != "postgres" or not isinstance(variables, dict) or is_unknown(variables):
        return []
    return [f"{res}: pg_hba.conf: {p}" for p in check_hba(render_role_template("postgres", "pg_hba.conf.j2", variables))]


RULE = Rule(
    name="postgres-hba-reject-last",
    description="Every PostgreSQL pg_hba.conf (roles/postgres, rendered with the cluster's variables) has no "
                "trust, only hostssl + scram-sha-256 from named networks, and rejects everything else last.",
    enforcement="mandatory", check=check, kinds=("RenderedConfig",))
