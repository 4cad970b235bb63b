"""Staff tokens: EdDSA only, right municipality, right service, inside the time window."""

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from municloud.auth import TokenError, generate_key_pair, issue_token, verify_token

pytestmark = pytest.mark.unit

A, B = "053031", "053279"


@pytest.fixture(scope="module")
def keys():
    return {A: generate_key_pair(), B: generate_key_pair()}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**override):
    now = int(time.time())
    claims = {"iss": "municloud", "sub": "staff1", "lgcode": A, "purpose": "resident_record",
              "aud": "residents_registry", "iat": now, "nbf": now, "exp": now + 60, "jti": "x1"}
    claims.update(override)
    return claims


def _sign(keys, claims, lgcode=A):
    private = serialization.load_pem_private_key(keys[lgcode][0].encode(), password=None)
    return jwt.encode(claims, private, algorithm="EdDSA")


def test_issued_token_verifies_with_staff_and_purpose(keys):
    token = issue_token(keys[A][0], A, "staff1", "resident_record", "residents_registry", 60)
    principal = verify_token(token, keys[A][1], A, "residents_registry")
    assert (principal.staff_id, principal.lgcode, principal.purpose) == ("staff1", A, "resident_record")
    assert principal.may_see_my_number


def test_token_of_another_municipality_is_refused(keys):
    token_b = issue_token(keys[B][0], B, "staff1", "resident_record", "residents_registry", 60)
    with pytest.raises(TokenError) as err:
        verify_token(token_b, keys[A][1], A, "residents_registry")
    assert err.value.reason == "bad_signature"
    # twin: B's token is fine at B
    assert verify_token(token_b, keys[B][1], B, "residents_registry").lgcode == B


def test_token_signed_by_right_key_but_wrong_lgcode_claim_is_refused(keys):
    token = _sign(keys, _claims(lgcode=B))
    with pytest.raises(TokenError) as err:
        verify_token(token, keys[A][1], A, "residents_registry")
    assert err.value.reason == "wrong_lgcode"


# Times are offsets from the moment the test runs (not from collection: a long suite would age them).
@pytest.mark.parametrize("override,reason", [
    ({"aud": "tax"}, "wrong_audience"),
    ({"exp": -60, "iat": -120, "nbf": -120}, "expired"),
    ({"nbf": 600, "exp": 900}, "not_yet_valid"),
    ({"iss": "someone"}, "wrong_issuer"),
    ({"purpose": "curiosity"}, "bad_purpose"),
    ({"iat": 0, "exp": 7200}, "expired"),
])
def test_bad_claims_are_refused(keys, override, reason):
    now = int(time.time())
    override = {k: now + v if k in ("iat", "nbf", "exp") else v for k, v in override.items()}
    with pytest.raises(TokenError) as err:
        verify_token(_sign(keys, _claims(**override)), keys[A][1], A, "residents_registry")
    assert err.value.reason == reason


def test_missing_jti_is_refused(keys):
    claims = _claims()
    del claims["jti"]
    with pytest.raises(TokenError) as err:
        verify_token(_sign(keys, claims), keys[A][1], A, "residents_registry")
    assert err.value.reason == "missing_claim"


def test_alg_none_is_refused(keys):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    with pytest.raises(TokenError) as err:
        verify_token(token, keys[A][1], A, "residents_registry")
    assert err.value.reason == "bad_algorithm"


def test_hs256_with_public_key_as_secret_is_refused(keys):
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64(_claims())
    import hashlib
    import hmac

    mac = hmac.new(keys[A][1].encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(TokenError) as err:
        verify_token(token, keys[A][1], A, "residents_registry")
    assert err.value.reason == "bad_algorithm"


def test_garbage_is_malformed(keys):
    with pytest.raises(TokenError) as err:
        verify_token("not-a-token", keys[A][1], A, "residents_registry")
    assert err.value.reason == "malformed"


@pytest.mark.parametrize("kwargs,fragment", [
    ({"purpose": "curiosity"}, "purpose"),
    ({"audience": "mail"}, "audience"),
    ({"ttl_s": 0}, "ttl"),
    ({"ttl_s": 7200}, "ttl"),
    ({"staff_id": ""}, "staff"),
])
def test_issue_refuses_bad_arguments(keys, kwargs, fragment):
    args = {"lgcode": A, "staff_id": "s", "purpose": "resident_record",
            "audience": "residents_registry", "ttl_s": 60, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        issue_token(keys[A][0], **args)
