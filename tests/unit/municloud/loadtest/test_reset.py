"""`municloud loadtest reset`: only a stack marked as a test stack (municloud:test_stack) has its
members' services emptied, one sentence per member; any other stack is refused before anything is
touched, with exit 2 and a sentence naming the key."""

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from municloud_ops.cli.loadtest import app
from municloud_ops.loadtest.data import NotATestStack, reset_stack
from municloud_ops.loadtest.targets import REPO_ROOT
from stacks.config import ConfigError, load

pytestmark = pytest.mark.unit


def _stack(tmp_path: Path, name: str, **changes) -> Path:
    """A copy of the dev stack's config as stack ``name`` with ``changes`` (key -> value, None
    removes the key)."""
    document = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        document["config"].pop(f"municloud:{key}", None)
        if value is not None:
            document["config"][f"municloud:{key}"] = value
    (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True),
                                                  encoding="utf-8")
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, stack: str, lgcode: str, service: str) -> str:
        self.calls.append((stack, lgcode, service))
        return f"emptied 6 tables of {lgcode} (12 rows: residents 12); the access log is kept"


@pytest.mark.parametrize("mark", [None, False])
def test_a_stack_not_marked_as_a_test_stack_is_refused_before_anything_is_touched(tmp_path, mark):
    root = _stack(tmp_path, "prodlike", test_stack=mark)
    recorder = Recorder()
    with pytest.raises(NotATestStack, match=r"stack prodlike is not marked as a test stack "
                                            r"\(municloud:test_stack: true in Pulumi.prodlike.yaml\)"):
        reset_stack("prodlike", root=root, reset=recorder)
    assert recorder.calls == []


def test_a_test_stack_has_every_members_services_emptied_with_a_sentence_per_member(tmp_path):
    root = _stack(tmp_path, "scratch", test_stack=True)
    recorder, said = Recorder(), []
    sentences = reset_stack("scratch", root=root, reset=recorder, progress=said.append)
    members = ("053031", "053279", "053465")
    assert [s.split(" ", 1)[0] for s in sentences] == list(members)
    assert said == sentences
    assert sentences[0].startswith("053031 小坂町: residents_registry: emptied 6 tables of 053031")
    assert "; tax: emptied" in sentences[0] and "; nhi: emptied" in sentences[0]
    assert {(lg, svc) for _, lg, svc in recorder.calls} == {
        (lg, svc) for lg in members for svc in ("residents_registry", "tax", "nhi")}


def test_the_cli_refuses_a_stack_not_marked_with_exit_2_and_a_sentence():
    # akita is a consortium's own configuration, not a test stack
    result = CliRunner().invoke(app, ["reset", "--stack", "akita"])
    assert result.exit_code == 2, result.output
    assert ("error: stack akita is not marked as a test stack (municloud:test_stack: true in "
            "Pulumi.akita.yaml); its members' data is left untouched") in result.output


def test_the_cli_names_an_unknown_stack_with_exit_2():
    result = CliRunner().invoke(app, ["reset", "--stack", "nosuch"])
    assert result.exit_code == 2
    assert "Pulumi.nosuch.yaml not found" in result.output


def test_the_dev_stack_and_the_suites_test_stacks_carry_the_mark(monkeypatch):
    import stacks.automation
    from support.stack import default_overrides

    # the free port and address range come from the engine; only the mark matters here
    monkeypatch.setattr(stacks.automation, "free_port", lambda: 18443)
    monkeypatch.setattr(stacks.automation, "free_network_base", lambda: "10.250.0.0/16")

    assert yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8"))[
        "config"]["municloud:test_stack"] is True
    assert default_overrides()["municloud:test_stack"] is True


def _raw(**changes):
    document = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    raw = {k.split(":", 1)[1]: v for k, v in document["config"].items()}
    raw.update(changes)
    return raw


def test_a_production_stack_cannot_be_marked_as_a_test_stack():
    with pytest.raises(ConfigError, match="a production stack cannot be marked as a test stack"):
        load("prod", _raw(environment="production", test_stack=True), engines=False)
    assert load("prod", _raw(environment="production", test_stack=False), engines=False).test_stack is False
    assert load("dev", _raw(), engines=False).test_stack is True
