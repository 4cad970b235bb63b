"""The load generator's TLS: one context per process that trusts the consortium CA only, even
when geventhttpclient offers its public bundle (it does, once per user)."""

from __future__ import annotations

import certifi
import pytest
from geventhttpclient.connectionpool import init_ssl_context

from municloud_ops.loadtest.client_tls import consortium_tls_factory
from municloud_ops.scratch.tls import CertificateAuthority

pytestmark = pytest.mark.unit


@pytest.fixture
def ca_file(tmp_path) -> str:
    path = tmp_path / "ca.crt"
    path.write_bytes(CertificateAuthority.create("load test CA").cert_pem)
    return str(path)


def test_every_user_gets_the_one_context_that_trusts_only_the_consortium_ca(ca_file):
    factory = consortium_tls_factory(ca_file)
    first = init_ssl_context(factory, certifi.where())  # as geventhttpclient calls it per user
    second = init_ssl_context(factory, certifi.where())
    assert first is second
    assert first.cert_store_stats()["x509_ca"] == 1
    assert first.check_hostname is True


def test_a_factory_without_the_cafile_keyword_gets_a_new_context_with_every_public_root(ca_file):
    """The twin (what the generator did before): geventhttpclient falls back to a fresh context
    per user holding every public root besides the consortium CA."""
    import gevent.ssl

    old = lambda: gevent.ssl.create_default_context(cafile=ca_file)  # noqa: E731
    first = init_ssl_context(old, certifi.where())
    assert first is not init_ssl_context(old, certifi.where())
    assert first.cert_store_stats()["x509_ca"] > 100
