"""Container diff: which changes are applied to the running container (files + reload, networks
beside the first) and which still replace it; each in-place case has its replacing twin."""

import pytest

from stacks.providers._base import UNKNOWN
from stacks.providers.container import ContainerProvider

pytestmark = pytest.mark.unit

LABELS = {"municloud.stack": "t", "municloud.site": "primary", "municloud.lgcode": "shared",
          "municloud.component": "gateway"}
RELOAD = ["/bin/sh", "-c", "nginx -s reload"]


def _props(**over):
    props = {"name": "mc-t-primary-gateway", "docker_host": "unix:///var/run/docker.sock", "image": "img",
             "labels": dict(LABELS), "networks": [{"name": "edge", "aliases": []}, {"name": "t1", "aliases": []}],
             "files": [{"path": "/etc/municloud/nginx.conf", "content": "a", "mode": 292, "uid": 0}],
             "reload": RELOAD, "container_id": "c1"}
    props.update(over)
    return props


def _file(content: str, path: str = "/etc/municloud/nginx.conf") -> list[dict]:
    return [{"path": path, "content": content, "mode": 292, "uid": 0}]


def _diff(olds, news):
    return ContainerProvider().diff("c1", olds, news)


def test_changed_file_content_with_a_reload_command_updates_in_place():
    d = _diff(_props(), _props(files=_file("b")))
    assert d.changes and not d.replaces and not d.delete_before_replace


def test_twin_changed_file_content_without_a_reload_command_replaces():
    d = _diff(_props(reload=None), _props(reload=None, files=_file("b")))
    assert d.replaces == ["files"] and d.delete_before_replace


def test_twin_a_new_file_path_replaces_even_with_a_reload_command():
    d = _diff(_props(), _props(files=_file("a") + _file("x", "/etc/municloud/extra.conf")))
    assert d.replaces == ["files"]


def test_a_content_not_known_yet_with_the_same_paths_previews_as_in_place():
    # a preview before the configuration is rendered again (a member joining or leaving): the
    # paths are known, the content is not; `up` reloads in place, and the preview says so
    d = _diff(_props(), _props(files=_file(UNKNOWN)))
    assert d.changes and not d.replaces and not d.delete_before_replace


def test_twin_files_unknown_during_preview_replace():
    assert _diff(_props(), _props(files=UNKNOWN)).replaces == ["files"]
    unknown_path = [{"path": UNKNOWN, "content": "a", "mode": 292, "uid": 0}]
    assert _diff(_props(), _props(files=unknown_path)).replaces == ["files"]
    # an unknown content at a new path, or without a reload command, still replaces
    assert _diff(_props(), _props(files=_file(UNKNOWN, "/etc/municloud/other.conf"))).replaces == ["files"]
    assert _diff(_props(reload=None), _props(reload=None, files=_file(UNKNOWN))).replaces == ["files"]


def test_joining_another_network_beside_the_first_updates_in_place():
    nets = [{"name": "edge", "aliases": []}, {"name": "t1", "aliases": []}, {"name": "t2", "aliases": []}]
    d = _diff(_props(), _props(networks=nets))
    assert d.changes and not d.replaces


def test_twin_changing_the_first_network_or_an_alias_replaces():
    first = [{"name": "edge2", "aliases": []}, {"name": "t1", "aliases": []}]
    alias = [{"name": "edge", "aliases": []}, {"name": "t1", "aliases": ["x"]}]
    assert _diff(_props(), _props(networks=first)).replaces == ["networks"]
    assert _diff(_props(), _props(networks=alias)).replaces == ["networks"]


def test_twin_an_image_change_with_a_file_change_still_replaces():
    d = _diff(_props(), _props(image="img2", files=_file("b")))
    assert d.replaces == ["image"]


def test_nothing_changed_is_no_change():
    assert not _diff(_props(), _props()).changes
