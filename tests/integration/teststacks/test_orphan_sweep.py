"""Test stacks left behind by a run that was cut off: a later run on the same engine removes the
Docker objects labelled for its stack names that no state of its own manages, and keeps those it
does manage (tests/support/stack.py remove_orphans)."""

from __future__ import annotations

import json
import uuid

import docker
import pytest

from support.stack import engine_neighbours, remove_orphans, state_resources

pytestmark = pytest.mark.integration


@pytest.fixture
def orphan():
    """A network and a volume labelled for a test stack of a unique name, as a cut-off run leaves."""
    client = docker.from_env()
    name = f"orphantest{uuid.uuid4().hex[:8]}"
    labels = {"municloud.stack": name}
    net = client.networks.create(f"mc-{name}-wan", labels=labels)
    vol = client.volumes.create(f"mc-{name}-data", labels=labels)
    yield client, name
    for obj in (net, vol):
        try:
            obj.remove()
        except docker.errors.NotFound:
            pass


def _checkpoint(backend_dir, name, resources):
    path = backend_dir / ".pulumi" / "stacks" / "municloud" / f"{name}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 3, "checkpoint": {"latest": {"resources": resources}}}))


def test_objects_no_state_manages_are_removed_with_a_sentence(orphan, tmp_path):
    client, name = orphan
    sentence = remove_orphans(name, tmp_path / "state", client)
    assert sentence.startswith(f"removed 2 Docker objects labelled for stack {name} that no state in ")
    flt = {"label": f"municloud.stack={name}"}
    assert client.networks.list(filters=flt) == [] and client.volumes.list(filters=flt) == []
    assert remove_orphans(name, tmp_path / "state", client) is None  # nothing left: nothing said


def test_a_destroyed_stack_state_holds_no_resources_so_its_leftovers_go_too(orphan, tmp_path):
    client, name = orphan
    _checkpoint(tmp_path, name, [])
    assert state_resources(name, tmp_path) == 0
    assert remove_orphans(name, tmp_path, client) is not None


def test_objects_of_a_stack_this_checkout_manages_are_kept(orphan, tmp_path):
    client, name = orphan
    _checkpoint(tmp_path, name, [{"urn": "urn:pulumi:x::municloud::pulumi:pulumi:Stack::x"}])
    assert state_resources(name, tmp_path) == 1
    assert remove_orphans(name, tmp_path, client) is None
    assert len(client.networks.list(filters={"label": f"municloud.stack={name}"})) == 1


def test_neighbours_name_the_other_stacks_running_containers(orphan):
    from municloud_ops.images import base_image

    client, name = orphan
    other = f"{name}other"
    box = client.containers.run(base_image(), ["sleep", "60"], detach=True, remove=True,
                                labels={"municloud.stack": other}, network_mode="none")
    try:
        sentence = engine_neighbours(name, client)
        assert f" other containers ran on the engine beside stack {name} (" in sentence
        assert f"{other} 1" in sentence
        assert engine_neighbours(other, client).count(other) == 1  # its own container is not a neighbour
    finally:
        box.remove(force=True)
    assert other not in engine_neighbours(name, client)


def test_the_session_sweep_covers_each_named_suite_stack(orphan, monkeypatch):
    from support.stack import SUITE_STACKS, sweep_suite_orphans

    client, name = orphan
    monkeypatch.setenv("MC_DR_STACK", name)  # the DR rehearsal's stack, renamed to the orphan's
    said = sweep_suite_orphans(client)
    assert any(s.startswith(f"removed 2 Docker objects labelled for stack {name} ") for s in said)
    assert client.networks.list(filters={"label": f"municloud.stack={name}"}) == []
    assert set(SUITE_STACKS.values()) >= {"citest", "citestload", "citestdr", "citestakita", "ts2sites", "drhub1"}
