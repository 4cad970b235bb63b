"""The consortium's certificate authority and per-service TLS certificates (cryptography).

One CA per stack (consortium); every TLS endpoint (gateway, frontdoor, PostgreSQL, hub) gets a
certificate for its Docker names, signed by that CA. Keys are ECDSA P-256. A certificate with
``renew_before_days`` is renewed by ``up`` once its remaining lifetime falls below it (the edge's
short-lived certificates, instead of OCSP: docs/security.md, "TLS at the edge").
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets as _secrets
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, Resource

from ._base import ValidatingProvider


def _new_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "municloud consortium"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


class CertificateAuthorityProvider(ValidatingProvider):
    KIND = "ca"
    REQUIRED = {"common_name": str, "validity_days": int}
    REPLACE_ON = ("common_name", "validity_days")
    OUTPUTS = ("cert_pem", "key_pem")
    delete_before_replace = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization

        key = _new_key()
        now = dt.datetime.now(dt.timezone.utc)
        name = _name(props["common_name"])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=props["validity_days"]))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return CreateResult(f"ca-{cert.serial_number:x}"[:40],
                            {**props, "cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
                             "key_pem": _key_pem(key)})


class CertificateAuthority(Resource, module="municloud", name="CertificateAuthority"):
    """The consortium CA (自己署名); its key is a secret output and never leaves the state."""

    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]

    def __init__(self, resource_name: str, *, common_name: str, validity_days: int = 3650,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["key_pem"]))
        super().__init__(CertificateAuthorityProvider(), resource_name,
                         {"common_name": common_name, "validity_days": validity_days,
                          "cert_pem": None, "key_pem": None}, opts)


def remaining_days(cert_pem: str, now: dt.datetime | None = None) -> float:
    """Days until ``cert_pem`` expires (negative once it has)."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    now = now or dt.datetime.now(dt.timezone.utc)
    return (cert.not_valid_after_utc - now).total_seconds() / 86400


class CertificateProvider(ValidatingProvider):
    KIND = "certificate"
    REQUIRED = {"ca_cert_pem": str, "ca_key_pem": str, "common_name": str, "dns_names": list,
                "validity_days": int}
    OPTIONAL = {"renew_before_days": int}
    REPLACE_ON = ("ca_cert_pem", "ca_key_pem", "common_name", "dns_names", "validity_days")
    OUTPUTS = ("cert_pem", "key_pem")
    delete_before_replace = False

    def validate(self, news):
        names = news["dns_names"]
        failures = []
        if isinstance(names, list) and not names:
            failures.append(CheckFailure("dns_names", "certificate: 'dns_names' must name at least one host"))
        renew, validity = news.get("renew_before_days") or 0, news.get("validity_days")
        if isinstance(validity, int) and isinstance(renew, int) and not 0 <= renew < validity:
            failures.append(CheckFailure("renew_before_days", f"certificate {news.get('common_name')}: "
                                         f"'renew_before_days' ({renew}) must be 0 (never) or less than "
                                         f"'validity_days' ({validity})"))
        return failures

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Also replaces (renews) a certificate whose remaining lifetime fell below
        ``renew_before_days``: ``up`` then shows it as a replacement of ``cert_pem``."""
        base = super().diff(id_, olds, news)
        renew = news.get("renew_before_days") or 0
        if base.replaces or not renew or not olds.get("cert_pem"):
            return base
        if remaining_days(olds["cert_pem"]) >= renew:
            return base
        return DiffResult(changes=True, replaces=["cert_pem"], stables=base.stables,
                          delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import ExtendedKeyUsageOID

        ca_cert = x509.load_pem_x509_certificate(props["ca_cert_pem"].encode())
        ca_key = serialization.load_pem_private_key(props["ca_key_pem"].encode(), password=None)
        key = _new_key()
        now = dt.datetime.now(dt.timezone.utc)
        sans: list[x509.GeneralName] = []
        for n in props["dns_names"]:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        cert = (x509.CertificateBuilder().subject_name(_name(props["common_name"]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=props["validity_days"]))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        return CreateResult(f"cert-{_secrets.token_hex(6)}",
                            {**props, "cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
                             "key_pem": _key_pem(key)})


class Certificate(Resource, module="municloud", name="Certificate"):
    """A TLS server/client certificate for ``dns_names``, signed by the consortium CA."""

    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]

    def __init__(self, resource_name: str, *, ca: CertificateAuthority, common_name: str,
                 dns_names: list[str], validity_days: int = 825, renew_before_days: int = 0,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["key_pem", "ca_key_pem"]))
        props = {"ca_cert_pem": ca.cert_pem, "ca_key_pem": ca.key_pem, "common_name": common_name,
                 "dns_names": dns_names, "validity_days": validity_days, "cert_pem": None, "key_pem": None}
        if renew_before_days:  # only when given, so the state of other certificates is unchanged
            props["renew_before_days"] = renew_before_days
        super().__init__(CertificateProvider(), resource_name, props, opts)
