"""Tenant isolation on the live stack: A's services cannot reach B, and hold none of B's secrets."""

from __future__ import annotations

import itertools

import pytest

from infra_helpers import SERVICES, by_component, host

pytestmark = [pytest.mark.live, pytest.mark.infra, pytest.mark.security]

PROBE = ("python -c \"import socket,sys; s=socket.socket(); s.settimeout(2); "
         "sys.exit(0 if s.connect_ex(('{host}', {port})) == 0 else 1)\"")


def _reachable(from_container, target: str, port: int) -> bool:
    return host(from_container).run(PROBE.format(host=target, port=port)).rc == 0


def test_own_postgres_is_reachable_from_a_service(containers, lgcodes):
    code = lgcodes[0]
    (tax,) = by_component(containers, "tax", code)
    (pg,) = by_component(containers, "postgres", code)
    assert _reachable(containers[tax], pg, 5432)


def test_other_municipality_unreachable(containers, lgcodes):
    for a, b in itertools.permutations(lgcodes[:2], 2):
        (src,) = by_component(containers, "tax", a)
        for target in by_component(containers, "postgres", b) + [
                n for s in SERVICES for n in by_component(containers, s, b)]:
            port = 5432 if target.endswith("postgres") else 8000
            assert not _reachable(containers[src], target, port), (src, target)


def _secret_files(container, user: str) -> dict[str, bytes]:
    # read as the owner: root without capabilities cannot read another user's 0400 files
    h = host(container, user)
    out = {}
    for path in h.check_output("find /run/secrets -type f 2>/dev/null || true").split():
        out[path] = h.file(path).content
    return out


def test_no_credential_of_b_in_a(containers, lgcodes):
    a, b = lgcodes[:2]
    b_secrets = {v.strip() for n in by_component(containers, "postgres", b)
                 for p, v in _secret_files(containers[n], "postgres").items() if p.endswith((".password", ".key"))}
    assert b_secrets
    for name in [n for s in (*SERVICES, "postgres") for n in by_component(containers, s, a)]:
        files = _secret_files(containers[name], "postgres" if name.endswith("postgres") else "app")
        env = host(containers[name]).check_output("cat /proc/1/environ | tr '\\0' '\\n' || true").encode()
        for secret in b_secrets:
            assert all(secret not in content for content in files.values()), name
            assert secret not in env, name
