"""Short-lived edge certificates: `up` renews one whose remaining lifetime fell below the threshold.

The real provider's create and diff (no engine): a certificate issued for 30 days with
``renew_before_days`` 10 is left alone while 25 days remain and replaced when 5 remain."""

from __future__ import annotations

import pytest

from stacks.providers.pki import CertificateAuthorityProvider, CertificateProvider, remaining_days

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def ca():
    return CertificateAuthorityProvider().create({"common_name": "test CA", "validity_days": 3650}).outs


def _inputs(ca, **over):
    props = {"ca_cert_pem": ca["cert_pem"], "ca_key_pem": ca["key_pem"], "common_name": "gateway.municloud",
             "dns_names": ["gateway.municloud"], "validity_days": 30, "renew_before_days": 10}
    props.update(over)
    return props


def _state_with_days_left(ca, days: int) -> dict:
    """The stored outputs of a 30-day certificate that has ``days`` left (issued for ``days``)."""
    issued = CertificateProvider().create(_inputs(ca, validity_days=days)).outs
    return {**issued, "validity_days": 30}


def test_certificate_with_5_of_30_days_left_is_renewed_by_up(ca):
    olds = _state_with_days_left(ca, 5)
    assert 4.9 < remaining_days(olds["cert_pem"]) < 5.1
    diff = CertificateProvider().diff("cert-x", olds, _inputs(ca))
    assert diff.changes and diff.replaces == ["cert_pem"] and diff.delete_before_replace is False


def test_twin_certificate_with_25_days_left_is_kept(ca):
    diff = CertificateProvider().diff("cert-x", _state_with_days_left(ca, 25), _inputs(ca))
    assert not diff.changes and not diff.replaces


def test_twin_certificate_without_a_threshold_is_never_renewed(ca):
    olds = {k: v for k, v in _state_with_days_left(ca, 1).items() if k != "renew_before_days"}
    news = {k: v for k, v in _inputs(ca).items() if k != "renew_before_days"}
    assert not CertificateProvider().diff("cert-x", olds, news).replaces


def test_the_renewal_is_a_new_30_day_certificate(ca):
    new = CertificateProvider().create(_inputs(ca)).outs
    assert 29.9 < remaining_days(new["cert_pem"]) <= 30


@pytest.mark.parametrize("renew", [30, 45, -1])
def test_threshold_not_below_the_validity_is_refused_naming_it(ca, renew):
    result = CertificateProvider().check({}, _inputs(ca, renew_before_days=renew))
    assert [f.property for f in result.failures] == ["renew_before_days"]


def test_twin_threshold_below_the_validity_passes(ca):
    assert CertificateProvider().check({}, _inputs(ca, renew_before_days=29)).failures == []
