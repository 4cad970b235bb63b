"""Ed25519 signatures by the sending unit, and the registry of public keys.

Signed bytes: the exclusive C14N (no comments) of the `Envelope` element after removing its
`Signature` child. The signature is base64 in `<Signature keyId=".." algorithm="Ed25519">`,
the last child of the envelope. A key belongs to one (地方公共団体コード, unit); a signature
verifies only if the key's owner is the header's sender.
"""

from __future__ import annotations

import base64
import logging
import dataclasses
import os
from pathlib import Path

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from lxml import etree

from municloud.platform.codec import NS
from municloud.platform.errors import SignatureError

ALGORITHM = "Ed25519"
ANY_LGCODE = "*"  # only for the shared hub
_log = logging.getLogger(__name__)


def canonical_bytes(envelope: etree._Element) -> bytes:
    """Exclusive C14N of the envelope without its Signature element (the signed form)."""
    copy = etree.fromstring(etree.tostring(envelope))
    for signature in copy.findall(NS + "Signature"):
        copy.remove(signature)
    return etree.tostring(copy, method="c14n", exclusive=True, with_comments=False)


@dataclasses.dataclass(frozen=True)
class SigningKey:
    """A unit's private signing key (a secret: load it from a *_FILE path)."""

    key_id: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, key_id: str) -> "SigningKey":
        return cls(key_id, Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | os.PathLike, key_id: str | None = None) -> "SigningKey":
        """PKCS#8 PEM file; the key id defaults to the file name without `.key`."""
        path = Path(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key_id or path.name.removesuffix(".key"), key)

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_key_b64(self) -> str:
        raw = self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


@dataclasses.dataclass(frozen=True)
class RegisteredKey:
    key_id: str
    lgcode: str
    unit: str
    public_key: Ed25519PublicKey


class _QuotingDumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str):
    style = '"' if value.isdigit() or value == ANY_LGCODE else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_QuotingDumper.add_representer(str, _represent_str)


class KeyRegistry:
    """Public keys by key id, each owned by one (lgcode, unit)."""

    def __init__(self) -> None:
        self._keys: dict[str, RegisteredKey] = {}

    def add(self, key_id: str, lgcode: str, unit: str, public_key: str | bytes | Ed25519PublicKey) -> None:
        if lgcode == ANY_LGCODE and unit != "platform_hub":
            raise ValueError(f"key {key_id}: lgcode '*' is only allowed for unit platform_hub")
        if isinstance(public_key, str):
            public_key = base64.b64decode(public_key, validate=True)
        if isinstance(public_key, bytes):
            public_key = Ed25519PublicKey.from_public_bytes(public_key)
        self._keys[key_id] = RegisteredKey(key_id, lgcode, unit, public_key)

    def add_signing_key(self, key: SigningKey, *, lgcode: str, unit: str) -> None:
        self.add(key.key_id, lgcode, unit, key.private_key.public_key())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "KeyRegistry":
        return cls.from_mapping(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})

    @classmethod
    def from_mapping(cls, data: dict) -> "KeyRegistry":
        registry = cls()
        for entry in data.get("keys", []):
            registry.add(entry["key_id"], str(entry["lgcode"]), entry["unit"], entry["public_key"])
        return registry

    def to_mapping(self) -> dict:
        return {
            "keys": [
                {
                    "key_id": k.key_id,
                    "lgcode": k.lgcode,
                    "unit": k.unit,
                    "public_key": base64.b64encode(
                        k.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                    ).decode("ascii"),
                }
                for k in self._keys.values()
            ]
        }

    def to_yaml(self) -> str:
        """The registry as YAML that YAML 1.1 and 1.2 parsers read alike: every string made only
        of digits (lgcodes such as 053279, which 1.2 would read as a number) is quoted."""
        return yaml.dump(self.to_mapping(), Dumper=_QuotingDumper, allow_unicode=True, sort_keys=False)

    def verify(self, key_id: str, signature: bytes, data: bytes, *, lgcode: str, unit: str) -> RegisteredKey:
        key = self._keys.get(key_id)
        if key is None:
            raise SignatureError(f"unknown signing key {key_id!r}", path="/Envelope/Signature/@keyId")
        if key.unit != unit or key.lgcode not in (lgcode, ANY_LGCODE):
            raise SignatureError(
                f"key {key_id!r} belongs to {key.unit}@{key.lgcode}, not to sender {unit}@{lgcode}",
                path="/Envelope/Signature/@keyId",
            )
        try:
            key.public_key.verify(signature, data)
        except InvalidSignature:
            raise SignatureError("signature does not match the message", path="/Envelope/Signature") from None
        return key


class WatchedKeyRegistry(KeyRegistry):
    """The key registry of a running service: its file, read again when it changes.

    A municipality joining or leaving the consortium changes the registry file of the other
    members' services and of the hub; the deploy copies the new file into the running containers
    (municloud.service.hot_files checks it), and the next verification here picks it up: no
    restart, no dropped connection. A file that does not parse is refused loudly at start; later,
    the previous keys stay in force and the error is logged."""

    def __init__(self, path: str | os.PathLike) -> None:
        from municloud.platform.watched import WatchedFile

        super().__init__()
        self.path = Path(path)
        self._file = WatchedFile(self.path, KeyRegistry.load, "key registry")
        self._keys = self._file.value._keys

    def refresh(self) -> bool:
        """Re-read the file if it changed; True when it did."""
        changed = self._file.refresh()
        self._keys = self._file.value._keys
        return changed

    def verify(self, key_id: str, signature: bytes, data: bytes, *, lgcode: str, unit: str) -> RegisteredKey:
        self._keys = self._file.current()._keys
        return super().verify(key_id, signature, data, lgcode=lgcode, unit=unit)
