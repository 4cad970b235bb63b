"""The deploy's reload check of a service container: 0 when only the key registry changed (the
service re-reads it), 75 (restart) when a start-time file changed, 1 when the registry is bad."""

from __future__ import annotations

import pytest
import yaml

from municloud.platform import KeyRegistry, SigningKey
from municloud.service import hot_files

pytestmark = pytest.mark.unit


@pytest.fixture
def box(tmp_path):
    secrets, etc = tmp_path / "run/secrets", tmp_path / "etc/municloud"
    (secrets / "db").mkdir(parents=True)
    etc.mkdir(parents=True)
    (secrets / "db/password").write_text("pw-1")
    (etc / "params.json").write_text("{}")
    registry = etc / "platform-keys.yaml"
    _registry(registry, "053031")
    args = dict(manifest=tmp_path / "manifest.json", dirs=(secrets, etc), hot=(registry,))
    hot_files.record_start(**args)
    return secrets, etc, registry, args


def _registry(path, *lgcodes: str) -> None:
    r = KeyRegistry()
    for lg in lgcodes:
        r.add_signing_key(SigningKey.generate(f"{lg}-rr-1"), lgcode=lg, unit="residents_registry")
    path.write_text(yaml.safe_dump(r.to_mapping()))


def test_only_the_key_registry_changed_is_applied_in_place(box):
    _, _, registry, args = box
    assert hot_files.check(**args)[0] == 0  # the twin of every case below: nothing changed
    _registry(registry, "053031", "053481")
    code, sentence = hot_files.check(**args)
    assert code == 0 and "re-read by the running service" in sentence


@pytest.mark.parametrize("change", ["password", "params", "new-file"])
def test_a_start_time_file_changed_asks_for_a_restart(box, change):
    secrets, etc, registry, args = box
    _registry(registry, "053031", "053481")
    {"password": lambda: (secrets / "db/password").write_text("pw-2"),
     "params": lambda: (etc / "params.json").write_text('{"x": 1}'),
     "new-file": lambda: (secrets / "db/extra").write_text("x")}[change]()
    code, sentence = hot_files.check(**args)
    assert code == hot_files.RESTART and "restart" in sentence


def test_no_fingerprint_recorded_asks_for_a_restart(box, tmp_path):
    _, _, _, args = box
    assert hot_files.check(**{**args, "manifest": tmp_path / "missing.json"})[0] == hot_files.RESTART


def test_a_broken_registry_is_refused_naming_it(box):
    _, _, registry, args = box
    registry.write_text("keys: [{key_id: x}]")
    code, sentence = hot_files.check(**args)
    assert code == 1 and str(registry) in sentence and "nothing applied" in sentence
