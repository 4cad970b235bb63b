"""Every listener that is reached across a network boundary speaks TLS with a certificate of the
consortium CA: the gateway (both listeners), PostgreSQL (primaries, standbys, the hub's), the
pgBackRest repository; and the one CA issues every certificate.

Reason: ARCHITECTURE.md (tcp+TLS with certificates from the consortium CA), docs/security.md.
Scope: the services' own HTTP listeners sit on their municipality's internal network behind
the gateway, which terminates TLS (stacks/gateway.py); they are not listed here.
"""

from __future__ import annotations

import re

from policies.guardrails import Ctx, Res, Rule, by_kind, is_unknown, render_role_template

#: components whose container listens for peers on other networks, and must carry a server certificate
TLS_LISTENERS = frozenset({"gateway", "postgres", "standby", "hub_postgres", "backup_repo"})
SERVER_CERT = "/server.crt"


def _issued_by(cert: Res, ca: Res) -> bool | None:
    """True/False when it can be told (graph or values), None when not yet."""
    deps = cert.deps.get("ca_cert_pem")
    if deps:
        return deps == [ca.urn]
    issuer, ca_pem = cert.props.get("ca_cert_pem"), ca.props.get("cert_pem")
    if isinstance(issuer, str) and isinstance(ca_pem, str):
        return issuer == ca_pem
    return None


def _server_certs(container: Res, certs: list[Res]) -> list[Res] | None:
    """The certificates a container is handed (None: not known yet)."""
    files = container.props.get("files")
    if isinstance(files, list) and not is_unknown(files):  # every content known: judge by value
        pems = {f.get("content") for f in files if isinstance(f, dict)
                and str(f.get("path", "")).endswith(SERVER_CERT)}
        return [c for c in certs if c.props.get("cert_pem") in pems]
    deps = container.deps.get("files")
    if deps is None:
        return None
    return [c for c in certs if c.urn in deps]


LISTEN = re.compile(r"^\s*listen\s+([^;]+);", re.MULTILINE)


def gateway_listeners_without_tls(nginx_conf: str) -> list[str]:
    return [m.group(1).strip() for m in LISTEN.finditer(nginx_conf) if " ssl" not in f" {m.group(1)}"]


def check(resources: list[Res], ctx: Ctx) -> list[tuple[Res | None, str]]:
    cas = by_kind(resources, "CertificateAuthority")
    certs = by_kind(resources, "Certificate")
    listeners = [c for c in by_kind(resources, "Container") if c.component in TLS_LISTENERS]
    found: list[tuple[Res | None, str]] = []
    if len(cas) != 1:
        if certs or listeners:
            found.append((None, f"the consortium has {len(cas)} certificate authorities; exactly one "
                                f"(the consortium CA) must issue every certificate"))
        return found
    ca = cas[0]
    for cert in certs:
        if _issued_by(cert, ca) is False:
            found.append((cert, f"{cert} is not issued by the consortium CA {ca.name}"))
    for c in listeners:
        held = _server_certs(c, certs)
        if held is None:
            continue
        if not held:
            found.append((c, f"{c} listens for {c.component} but is handed no server certificate "
                             f"(…{SERVER_CERT}) of the consortium CA"))
        for cert in held:
            if _issued_by(cert, ca) is False:
                found.append((c, f"{c} serves {cert}, which the consortium CA {ca.name} did not issue"))
    for cfg in by_kind(resources, "RenderedConfig"):
        variables = cfg.props.get("variables")
        if cfg.props.get("role") != "gateway" or not isinstance(variables, dict) or is_unknown(variables):
            continue  # an unknown variable: rendered (and analyzed) by `pulumi up`
        for listen in gateway_listeners_without_tls(render_role_template("gateway", "nginx.conf.j2", variables)):
            found.append((cfg, f"{cfg}: gateway listener '{listen}' does not speak TLS"))
    return found


RULE = Rule(
    name="tls-consortium-ca",
    description="Every listener reached across a network boundary (gateway, PostgreSQL, pgBackRest) speaks TLS "
                "with a server certificate issued by the one consortium CA.",
    enforcement="mandatory", check=check, stack=True)
