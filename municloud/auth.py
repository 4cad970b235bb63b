"""Staff bearer tokens: EdDSA (Ed25519) JWTs signed with the municipality's own key.

Each municipality has its own key pair, so a token of municipality A never verifies at
municipality B's services (tenant isolation). Claims: iss "municloud", sub (staff id),
lgcode, purpose (利用目的), aud (the service name), iat / nbf / exp, jti.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ISSUER = "municloud"
ALGORITHM = "EdDSA"
MAX_TTL_S = 3600
LEEWAY_S = 5

# 利用目的. Only the purposes in MY_NUMBER_PURPOSES may see an unmasked 個人番号
# (番号法 §9: social security, tax and disaster response). Our design; the list is the
# one obvious place to change it.
PURPOSES: dict[str, str] = {
    "resident_record": "住民基本台帳事務",
    "certificate_issuance": "証明書交付事務",
    "tax_assessment": "個人住民税賦課事務",
    "nhi_administration": "国民健康保険事務",
    "disaster_response": "災害対策事務",
    "data_migration": "データ移行",
    "system_operation": "システム運用",
}
MY_NUMBER_PURPOSES: frozenset[str] = frozenset(
    {"resident_record", "tax_assessment", "nhi_administration", "disaster_response"}
)
# Purposes of the consortium's operators (not of municipal staff): the access-log check and the
# DR probe. A staff token of any other purpose is refused there with 403.
OPERATOR_PURPOSES: frozenset[str] = frozenset({"system_operation"})
SERVICES: frozenset[str] = frozenset({"residents_registry", "tax", "nhi", "platform_hub"})


class TokenError(Exception):
    """A token was refused; `reason` is a stable machine-readable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class TokenCache:
    """Verified tokens by their exact text, until their exp (minus leeway).

    A hit is the same bytes, signature included, that already passed every check; only the
    time window can change, and it is checked on each hit. Signature verification is the
    dominant cost of a read (~0.1-0.5 ms), and a staff session reuses one token."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[str, tuple[float, "Principal"]] = {}
        self._max = max_entries

    def get(self, token: str) -> "Principal | None":
        entry = self._entries.get(token)
        if entry is None:
            return None
        if time.time() >= entry[0]:
            del self._entries[token]
            return None
        return entry[1]

    def put(self, token: str, principal: "Principal") -> None:
        if len(self._entries) >= self._max:
            now = time.time()
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self._max:
                self._entries.clear()
        self._entries[token] = (principal.expires_at, principal)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who (staff id), for which municipality, for what purpose."""

    staff_id: str
    lgcode: str
    purpose: str
    audience: str
    token_id: str
    expires_at: float = 0.0

    @property
    def may_see_my_number(self) -> bool:
        return self.purpose in MY_NUMBER_PURPOSES


def generate_key_pair() -> tuple[str, str]:
    """Return (private PEM, public PEM) of a fresh Ed25519 key pair."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private_pem, public_key_pem(private_pem)


def public_key_pem(private_key_pem: str) -> str:
    private = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError("token signing key must be Ed25519")
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def issue_token(
    private_key_pem: str,
    lgcode: str,
    staff_id: str,
    purpose: str,
    audience: str,
    ttl_s: int = 300,
) -> str:
    """Sign a short-lived staff token for one service of one municipality."""
    from municloud.ids import validate_lgcode

    validate_lgcode(lgcode)
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {sorted(PURPOSES)}")
    if audience not in SERVICES:
        raise ValueError(f"audience must be one of {sorted(SERVICES)}")
    if not staff_id or len(staff_id) > 64:
        raise ValueError("staff id must be 1-64 characters")
    if not 0 < ttl_s <= MAX_TTL_S:
        raise ValueError(f"ttl must be between 1 and {MAX_TTL_S} seconds")
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("token signing key must be Ed25519")
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": staff_id,
        "lgcode": lgcode,
        "purpose": purpose,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def load_public_key(public_key_pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("token public key must be Ed25519")
    return key


def verify_token(
    token: str,
    public_key_pem: str | Ed25519PublicKey,
    expected_lgcode: str,
    audience: str,
) -> Principal:
    """Verify signature, algorithm, time window, issuer, audience and municipality.

    Raises TokenError with reason one of: malformed, bad_algorithm, bad_signature, expired,
    not_yet_valid, wrong_issuer, wrong_audience, wrong_lgcode, missing_claim, bad_purpose.
    """
    key = load_public_key(public_key_pem) if isinstance(public_key_pem, str) else public_key_pem
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("malformed", "token is not a well-formed JWT") from None
    if header.get("alg") != ALGORITHM:
        # Refuse alg "none", HS* (key confusion) and anything else before touching the payload.
        raise TokenError("bad_algorithm", "token algorithm must be EdDSA")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            leeway=LEEWAY_S,
            options={"require": ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("expired", "token has expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenError("not_yet_valid", "token is not valid yet (nbf/iat in the future)") from None
    except jwt.InvalidAudienceError:
        raise TokenError("wrong_audience", f"token is not for service {audience}") from None
    except jwt.InvalidIssuerError:
        raise TokenError("wrong_issuer", "token issuer is not municloud") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError("missing_claim", f"token lacks claim {exc.claim}") from None
    except jwt.InvalidSignatureError:
        raise TokenError("bad_signature", "token signature does not verify") from None
    except jwt.PyJWTError:
        raise TokenError("malformed", "token could not be decoded") from None
    if claims.get("lgcode") != expected_lgcode:
        raise TokenError("wrong_lgcode", f"token is not for municipality {expected_lgcode}")
    if claims.get("exp", 0) - claims.get("iat", 0) > MAX_TTL_S:
        raise TokenError("expired", "token lifetime exceeds the maximum")
    purpose = claims.get("purpose")
    if purpose not in PURPOSES:
        raise TokenError("bad_purpose", "token purpose is not a known 利用目的")
    return Principal(
        staff_id=str(claims["sub"]),
        lgcode=expected_lgcode,
        purpose=purpose,
        audience=audience,
        token_id=str(claims["jti"]),
        expires_at=float(claims["exp"]),
    )
