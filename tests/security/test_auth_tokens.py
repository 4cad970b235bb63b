"""Authentication attacks on staff tokens (municloud.auth): forged, expired, future,
`alg: none`, HS256 key confusion, wrong audience, and a token of municipality A used at B.

Each municipality has its own Ed25519 key (as deployed); the verifier is the one every service
runs (`verify_token`, used by municloud.service.deps.get_principal)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from municloud.auth import TokenError, generate_key_pair, issue_token, verify_token
from security_support import ORDERED_PAIRS, SERVICES, TENANTS, bounded

pytestmark = [pytest.mark.unit, pytest.mark.security]


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[str, str]]:
    """(private PEM, public PEM) per municipality."""
    return {lgcode: generate_key_pair() for lgcode in TENANTS}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(lgcode: str = "053031", audience: str = "residents_registry", **over) -> dict:
    now = int(time.time())
    claims = {"iss": "municloud", "sub": "staff-001", "lgcode": lgcode, "purpose": "resident_record",
              "aud": audience, "iat": now, "nbf": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    for key, value in over.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


def _signed(private_pem: str, claims: dict, headers: dict | None = None) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return jwt.encode(claims, key, algorithm="EdDSA", headers=headers)


def _unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()),
                     _b64(signature)])


def _refused(token: str, public_pem: str, lgcode: str, audience: str) -> str:
    with bounded(max_seconds=1.0):
        with pytest.raises(TokenError) as info:
            verify_token(token, public_pem, lgcode, audience)
    assert "staff-001" not in info.value.message
    return info.value.reason


# --- forged and out-of-window tokens ---------------------------------------------------------

def _forgeries(keys):
    priv, pub = keys["053031"]
    now = int(time.time())
    hs_sig = hmac.new(pub.encode(), digestmod=hashlib.sha256)
    hs_header = {"alg": "HS256", "typ": "JWT"}
    hs_claims = _claims()
    signing_input = f"{_b64(json.dumps(hs_header).encode())}.{_b64(json.dumps(hs_claims).encode())}"
    hs_sig.update(signing_input.encode())
    valid = _signed(priv, _claims())
    head, payload, sig = valid.split(".")
    tampered_payload = _b64(json.dumps(_claims(purpose="disaster_response")).encode())
    other_ed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {
        "expired": (_signed(priv, _claims(iat=now - 900, nbf=now - 900, exp=now - 600)), "expired"),
        "future-nbf": (_signed(priv, _claims(nbf=now + 600, exp=now + 900)), "not_yet_valid"),
        "future-iat": (_signed(priv, _claims(iat=now + 600, nbf=now, exp=now + 900)), "not_yet_valid"),
        "lifetime-over-max": (_signed(priv, _claims(iat=now, exp=now + 7200)), "expired"),
        "wrongly-signed": (_signed(other_ed, _claims()), "bad_signature"),
        "payload-tampered": (f"{head}.{tampered_payload}.{sig}", "bad_signature"),
        "signature-stripped": (f"{head}.{payload}.", "bad_signature"),
        "alg-none": (_unsigned({"alg": "none", "typ": "JWT"}, _claims()), "bad_algorithm"),
        "alg-None-case": (_unsigned({"alg": "None", "typ": "JWT"}, _claims()), "bad_algorithm"),
        "hs256-public-key-confusion": (f"{signing_input}.{_b64(hs_sig.digest())}", "bad_algorithm"),
        "es256-attacker-key": (jwt.encode(_claims(), ec.generate_private_key(ec.SECP256R1()),
                                          algorithm="ES256"), "bad_algorithm"),
        "rs256-attacker-key": (jwt.encode(_claims(), rsa.generate_private_key(65537, 2048),
                                          algorithm="RS256"), "bad_algorithm"),
        "jku-header-injection": (_signed(other_ed, _claims(), {"jku": "http://127.0.0.1:1/keys",
                                                              "kid": "attacker"}), "bad_signature"),
        "wrong-issuer": (_signed(priv, _claims(iss="evil")), "wrong_issuer"),
        "missing-exp": (_signed(priv, _claims(exp=None)), "missing_claim"),
        "missing-jti": (_signed(priv, _claims(jti=None)), "missing_claim"),
        "unknown-purpose": (_signed(priv, _claims(purpose="marketing")), "bad_purpose"),
        "not-a-jwt": ("not-a-token", "malformed"),
        "empty": ("", "malformed"),
        "oversized-1MiB": ("a" * (1 << 20), "malformed"),
    }


FORGERY_IDS = ["expired", "future-nbf", "future-iat", "lifetime-over-max", "wrongly-signed",
               "payload-tampered", "signature-stripped", "alg-none", "alg-None-case",
               "hs256-public-key-confusion", "es256-attacker-key", "rs256-attacker-key",
               "jku-header-injection", "wrong-issuer", "missing-exp", "missing-jti",
               "unknown-purpose", "not-a-jwt", "empty", "oversized-1MiB"]


@pytest.mark.attack("auth")
@pytest.mark.parametrize("case", FORGERY_IDS)
def test_forged_or_out_of_window_token_is_refused(keys, case):
    token, reason = _forgeries(keys)[case]
    assert _refused(token, keys["053031"][1], "053031", "residents_registry") == reason


@pytest.mark.attack("auth")
@pytest.mark.parametrize("audience", ["tax", "nhi", "platform_hub"])
def test_token_for_another_service_of_the_same_municipality_is_refused(keys, audience):
    token = issue_token(keys["053031"][0], "053031", "staff-001", "resident_record", "residents_registry")
    assert _refused(token, keys["053031"][1], "053031", audience) == "wrong_audience"


@pytest.mark.twin("auth")
@pytest.mark.parametrize("service", SERVICES)
def test_twin_own_token_for_own_service_is_accepted(keys, service):
    priv, pub = keys["053031"]
    principal = verify_token(issue_token(priv, "053031", "staff-001", "resident_record", service),
                             pub, "053031", service)
    assert (principal.lgcode, principal.staff_id, principal.audience) == ("053031", "staff-001", service)


@pytest.mark.twin("auth")
def test_twin_token_within_leeway_is_accepted(keys):
    """Clock skew of a few seconds is tolerated, so the expiry checks above are not too eager."""
    priv, pub = keys["053031"]
    now = int(time.time())
    token = _signed(priv, _claims(iat=now + 2, nbf=now + 2, exp=now + 300))
    assert verify_token(token, pub, "053031", "residents_registry").purpose == "resident_record"


# --- cross-tenant: municipality A's token at municipality B ------------------------------------

@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_token_of_a_is_refused_by_b(keys, a, b, service):
    """A genuine token of A, presented to B's service (B's key, B's lgcode)."""
    token = issue_token(keys[a][0], a, "staff-001", "resident_record", service)
    assert _refused(token, keys[b][1], b, service) in ("bad_signature", "wrong_lgcode")


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_a_cannot_mint_a_token_claiming_b(keys, a, b, service):
    """A's signing key with lgcode=B in the claims: B's key does not verify it."""
    token = _signed(keys[a][0], _claims(lgcode=b, audience=service))
    assert _refused(token, keys[b][1], b, service) == "bad_signature"


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("a,b", ORDERED_PAIRS)
def test_lgcode_claim_is_checked_even_if_keys_were_shared(keys, a, b):
    """Defence in depth: were a key ever shared, the lgcode claim still binds the token to A."""
    token = issue_token(keys[a][0], a, "staff-001", "resident_record", "residents_registry")
    assert _refused(token, keys[a][1], b, "residents_registry") == "wrong_lgcode"


@pytest.mark.twin("cross-tenant")
@pytest.mark.parametrize("lgcode", TENANTS)
def test_twin_each_tenant_token_works_at_home(keys, lgcode):
    token = issue_token(keys[lgcode][0], lgcode, "staff-001", "resident_record", "residents_registry")
    assert verify_token(token, keys[lgcode][1], lgcode, "residents_registry").lgcode == lgcode
