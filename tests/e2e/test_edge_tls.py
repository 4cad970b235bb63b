"""TLS at the live frontdoor: Mozilla's "intermediate" profile (sslyze's own checker), HSTS on every
answer, a short-lived gateway certificate. The twin that the check can fail is
tests/integration/roles/test_edge_listeners.py (a weak CBC server fails it on its ciphers)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from e2e_support import A, report

from support.tls_scan import mozilla_check

pytestmark = pytest.mark.integration


def test_live_frontdoor_complies_with_mozillas_intermediate_profile(e2e_stack):
    port = urlsplit(e2e_stack.frontdoor_url).port
    check = mozilla_check(port, e2e_stack.ca_file, "gateway.municloud")
    report("tls", check.sentence(f"frontdoor 127.0.0.1:{port}", "intermediate"))
    assert check.compliant, check.sentence("the frontdoor", "intermediate") + "\n" + check.output[-4000:]


@pytest.mark.parametrize("path,status", [(f"/{A}/residents_registry/readyz", 200), ("/999999/tax/", 404)])
def test_live_answers_carry_hsts(frontdoor, path, status):
    r = frontdoor.client.get(path)
    assert r.status_code == status
    assert r.headers.get("strict-transport-security") == "max-age=63072000"


def test_live_gateway_certificate_is_short_lived(e2e_stack):
    import ssl

    from cryptography import x509

    port = urlsplit(e2e_stack.frontdoor_url).port
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    cert = x509.load_pem_x509_certificate(pem.encode())
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days <= (e2e_stack.config("municloud:edge_cert_validity_days") or 30), days
