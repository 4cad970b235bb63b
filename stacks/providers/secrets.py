"""Generated secrets as dynamic resources: what the random and tls plugins would give.

Generated values are outputs listed in ``additional_secret_outputs``, so the state holds them
encrypted by the stack's secrets provider and ``pulumi stack export`` shows only ciphertext.
"""

from __future__ import annotations

import secrets as _secrets
import string
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource

from ._base import ValidatingProvider

_ALPHABET = string.ascii_letters + string.digits


class RandomPasswordProvider(ValidatingProvider):
    KIND = "password"
    REQUIRED = {"length": int}
    OPTIONAL = {"keepers": dict}
    REPLACE_ON = ("length", "keepers")
    OUTPUTS = ("result",)
    delete_before_replace = False

    def validate(self, news):
        from pulumi.dynamic import CheckFailure

        if isinstance(news["length"], int) and not 20 <= news["length"] <= 128:
            return [CheckFailure("length", f"password: 'length' must be 20..128, got {news['length']}")]
        return []

    def create(self, props: dict[str, Any]) -> CreateResult:
        value = "".join(_secrets.choice(_ALPHABET) for _ in range(props["length"]))
        return CreateResult(f"password-{_secrets.token_hex(6)}", {**props, "result": value})


class RandomPassword(Resource, module="municloud", name="RandomPassword"):
    """A random alphanumeric password (no quoting trouble in pg or URLs), held as a secret."""

    result: pulumi.Output[str]

    def __init__(self, resource_name: str, *, length: int = 32, keepers: dict | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["result"]))
        super().__init__(RandomPasswordProvider(), resource_name,
                         {"length": length, "keepers": keepers or {}, "result": None}, opts)


class Ed25519KeyPairProvider(ValidatingProvider):
    KIND = "keypair"
    OPTIONAL = {"keepers": dict}
    REPLACE_ON = ("keepers",)
    OUTPUTS = ("private_key_pem", "public_key_pem", "public_key_b64")
    delete_before_replace = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        import base64

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return CreateResult(f"ed25519-{_secrets.token_hex(6)}",
                            {**props, "private_key_pem": private, "public_key_pem": public,
                             "public_key_b64": base64.b64encode(raw).decode()})


class Ed25519KeyPair(Resource, module="municloud", name="Ed25519KeyPair"):
    """An Ed25519 key pair (token signing, EdDSA); the private key is a secret output."""

    private_key_pem: pulumi.Output[str]
    public_key_pem: pulumi.Output[str]
    public_key_b64: pulumi.Output[str]
    """raw 32-byte public key, base64 (platform key registry format)"""

    def __init__(self, resource_name: str, *, keepers: dict | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["private_key_pem"]))
        super().__init__(Ed25519KeyPairProvider(), resource_name,
                         {"keepers": keepers or {}, "private_key_pem": None, "public_key_pem": None,
                          "public_key_b64": None}, opts)
