"""Provider check/diff: clear validation errors naming the property, and their allowed twins."""

import pytest

from stacks.providers._base import UNKNOWN
from stacks.providers.container import ContainerProvider
from stacks.providers.secrets import RandomPasswordProvider

pytestmark = pytest.mark.unit

LABELS = {"municloud.stack": "t", "municloud.site": "primary", "municloud.lgcode": "053031",
          "municloud.component": "tax"}


def _container(**over):
    props = {"name": "mc-t-primary-053031-tax", "docker_host": "unix:///var/run/docker.sock", "image": "img",
             "labels": dict(LABELS), "networks": [{"name": "mc-t-primary-053031", "aliases": []}],
             "env": {"DB_PASSWORD_FILE": "/run/secrets/db/password"}, "health_timeout": 60.0}
    props.update(over)
    return props


def test_valid_container_passes_and_numbers_become_ints():
    result = ContainerProvider().check({}, _container())
    assert result.failures == []
    assert result.inputs["health_timeout"] == 60 and isinstance(result.inputs["health_timeout"], int)


def test_secret_in_env_is_rejected_naming_env():
    result = ContainerProvider().check({}, _container(env={"DB_PASSWORD": "x"}))
    assert [f.property for f in result.failures] == ["env"]
    assert "DB_PASSWORD_FILE" in result.failures[0].reason


def test_missing_label_is_rejected_naming_labels():
    labels = dict(LABELS)
    del labels["municloud.lgcode"]
    result = ContainerProvider().check({}, _container(labels=labels))
    assert [f.property for f in result.failures] == ["labels"]


def test_unknown_property_and_wrong_type_are_named():
    result = ContainerProvider().check({}, _container(imagee="x", image=3))
    assert sorted(f.property for f in result.failures) == ["image", "imagee"]


def test_unknown_values_pass_check_in_preview():
    assert ContainerProvider().check({}, _container(files=UNKNOWN, image=UNKNOWN)).failures == []


def test_diff_replaces_on_image_and_updates_restart_policy():
    old = _container(restart_policy="unless-stopped")
    changed_image = ContainerProvider().diff("id", old, _container(image="img2", restart_policy="unless-stopped"))
    assert changed_image.changes and changed_image.replaces == ["image"]
    policy = ContainerProvider().diff("id", old, _container(restart_policy="always"))
    assert policy.changes and policy.replaces == []
    same = ContainerProvider().diff("id", old, _container(restart_policy="unless-stopped", __provider="other"))
    assert not same.changes


def test_diff_treats_unknown_replacing_input_as_replace():
    d = ContainerProvider().diff("id", _container(), _container(image=UNKNOWN))
    assert d.changes and "image" in d.replaces


def test_password_length_bounds():
    assert RandomPasswordProvider().check({}, {"length": 8}).failures[0].property == "length"
    assert RandomPasswordProvider().check({}, {"length": 32}).failures == []


def test_engine_socket_true_needs_a_unix_docker_host():
    result = ContainerProvider().check({}, _container(engine_socket=True, docker_host="ssh://site-b"))
    assert [f.property for f in result.failures] == ["engine_socket"]
    assert "unix://" in result.failures[0].reason and "ssh://site-b" in result.failures[0].reason
    assert "name the socket's path" in result.failures[0].reason


def test_engine_socket_on_a_remote_engine_is_an_absolute_path_on_its_host():
    relative = ContainerProvider().check({}, _container(engine_socket="run/docker.sock", docker_host="ssh://site-b"))
    assert [f.property for f in relative.failures] == ["engine_socket"]
    assert "absolute path" in relative.failures[0].reason
    assert ContainerProvider().check({}, _container(engine_socket=7)).failures[0].property == "engine_socket"


def test_twin_engine_socket_on_a_unix_docker_host_or_a_path_passes():
    assert ContainerProvider().check({}, _container(engine_socket=True)).failures == []
    assert ContainerProvider().check({}, _container(engine_socket="/var/run/docker.sock",
                                                    docker_host="ssh://site-b")).failures == []
