"""WatchedKeyRegistry: a running service trusts a member that joined after its start (the deploy
rewrote its registry file), stops trusting one that left, and keeps its keys when the new file
is broken."""

from __future__ import annotations

import os

import pytest
import yaml

from municloud.platform import KeyRegistry, SignatureError, SigningKey, WatchedKeyRegistry

pytestmark = pytest.mark.unit


def _write(path, *members: tuple[SigningKey, str]) -> None:
    registry = KeyRegistry()
    for key, lgcode in members:
        registry.add_signing_key(key, lgcode=lgcode, unit="residents_registry")
    path.write_text(yaml.safe_dump(registry.to_mapping()))
    st = path.stat()  # a distinct mtime even within one clock tick
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def _verify(registry, key: SigningKey, lgcode: str):
    data = b"<Envelope/>"
    return registry.verify(key.key_id, key.private_key.sign(data), data, lgcode=lgcode, unit="residents_registry")


def test_a_member_joining_and_leaving_is_seen_without_a_restart(tmp_path):
    a, b = SigningKey.generate("053031-rr-1"), SigningKey.generate("053481-rr-1")
    path = tmp_path / "platform-keys.yaml"
    _write(path, (a, "053031"))
    registry = WatchedKeyRegistry(path)
    assert _verify(registry, a, "053031").lgcode == "053031"
    with pytest.raises(SignatureError, match="unknown signing key"):
        _verify(registry, b, "053481")  # not a member yet
    _write(path, (a, "053031"), (b, "053481"))
    assert _verify(registry, b, "053481").lgcode == "053481"  # joined: trusted at once
    _write(path, (a, "053031"))
    with pytest.raises(SignatureError, match="unknown signing key"):
        _verify(registry, b, "053481")  # left: no longer trusted


def test_a_broken_file_keeps_the_previous_keys(tmp_path, caplog):
    a = SigningKey.generate("053031-rr-1")
    path = tmp_path / "platform-keys.yaml"
    _write(path, (a, "053031"))
    registry = WatchedKeyRegistry(path)
    path.write_text("keys: [{key_id: x, lgcode: '053031', unit: residents_registry, public_key: '%%%'}]")
    assert _verify(registry, a, "053031").lgcode == "053031"
    assert "not re-read" in caplog.text


def test_a_broken_file_at_start_is_an_error(tmp_path):
    path = tmp_path / "platform-keys.yaml"
    path.write_text("keys: [{key_id: x}]")
    with pytest.raises(KeyError):
        WatchedKeyRegistry(path)
