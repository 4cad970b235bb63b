"""`pulumi refresh` reads back what the program manages, not what the image or engine adds.

Unit tests of the pure view over `docker inspect` data, and one integration test that inspects a
real container made from the project's base image (whose labels Docker copies into every
container) through the provider's own `read`.
"""

from __future__ import annotations

import pytest

from stacks.providers.container import ContainerProvider, live_view

NET = {"name": "mc-s-primary-053031", "aliases": ["tax"]}
PROPS = {"name": "mc-s-primary-053031-tax", "docker_host": "unix:///var/run/docker.sock",
         "image": "municloud/tax:abc", "labels": {"municloud.stack": "s", "municloud.component": "tax"},
         "networks": [NET], "env": {"MC_LGCODE": "053031"}, "restart_policy": "unless-stopped",
         "files": [{"path": "/run/secrets/db/password", "content": "x"}], "container_id": "c1"}
IMAGE = {"Labels": {"municloud.context": "d1", "municloud.image": "tax"},
         "Env": ["PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"]}


def _attrs(**changes):
    attrs = {"Name": "/mc-s-primary-053031-tax",
             "Config": {"Image": "municloud/tax:abc",
                        "Labels": {**PROPS["labels"], **IMAGE["Labels"]},
                        "Env": IMAGE["Env"] + ["MC_LGCODE=053031"]},
             "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}},
             "NetworkSettings": {"Networks": {NET["name"]: {}}}}
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            attrs[section][field] = value
        else:
            attrs[section] = value
    return attrs


@pytest.mark.unit
def test_a_fresh_container_reads_back_exactly_its_props():
    assert live_view(PROPS, _attrs(), IMAGE) == PROPS


@pytest.mark.unit
def test_twin_a_label_added_by_hand_is_drift():
    attrs = _attrs(Config__Labels={**PROPS["labels"], **IMAGE["Labels"], "edited": "by-hand"})
    assert live_view(PROPS, attrs, IMAGE)["labels"] == {**PROPS["labels"], "edited": "by-hand"}


@pytest.mark.unit
def test_twin_an_image_label_overridden_by_hand_is_drift_and_a_changed_value_shows():
    labels = {**PROPS["labels"], **IMAGE["Labels"], "municloud.image": "other", "municloud.component": "nhi"}
    view = live_view(PROPS, _attrs(Config__Labels=labels), IMAGE)["labels"]
    assert view == {"municloud.stack": "s", "municloud.component": "nhi", "municloud.image": "other"}


@pytest.mark.unit
def test_env_from_the_image_is_not_drift_but_a_changed_or_added_variable_is():
    assert live_view(PROPS, _attrs(), IMAGE)["env"] == PROPS["env"]
    env = IMAGE["Env"] + ["MC_LGCODE=053279", "DEBUG=1"]
    assert live_view(PROPS, _attrs(Config__Env=env), IMAGE)["env"] == {"MC_LGCODE": "053279", "DEBUG": "1"}


@pytest.mark.unit
def test_without_the_image_only_declared_keys_are_compared():
    attrs = _attrs(Config__Labels={**PROPS["labels"], **IMAGE["Labels"], "edited": "by-hand"})
    assert live_view(PROPS, attrs, None)["labels"] == PROPS["labels"]


@pytest.mark.unit
def test_renamed_restart_policy_changed_and_networks_left_or_joined_by_hand_show():
    attrs = _attrs(Name="/renamed", HostConfig={"RestartPolicy": {"Name": ""}},
                   NetworkSettings={"Networks": {"bridge": {}}})
    view = live_view(PROPS, attrs, IMAGE)
    assert view["name"] == "renamed"
    assert view["restart_policy"] == "no"
    assert view["networks"] == [{"name": "bridge"}]


@pytest.mark.unit
def test_extra_hosts_read_back_as_set_and_a_hand_edit_shows():
    props = {**PROPS, "extra_hosts": {"mc-s-dr-053031-postgres": "10.252.2.11"}}
    attrs = _attrs(HostConfig={"RestartPolicy": {"Name": "unless-stopped"},
                               "ExtraHosts": ["mc-s-dr-053031-postgres:10.252.2.11"]})
    assert live_view(props, attrs, IMAGE) == props
    # the twin: an entry changed by hand (recreated with another address) is drift
    attrs["HostConfig"]["ExtraHosts"] = ["mc-s-dr-053031-postgres:10.252.2.99"]
    assert live_view(props, attrs, IMAGE)["extra_hosts"] == {"mc-s-dr-053031-postgres": "10.252.2.99"}
    # a container made without extra_hosts reads back without the key (its state is unchanged)
    assert "extra_hosts" not in live_view(PROPS, _attrs(), IMAGE)


@pytest.mark.unit
def test_extra_hosts_must_name_ipv4_addresses():
    props = {**PROPS, "labels": {"municloud.stack": "s", "municloud.site": "primary", "municloud.lgcode": "053031",
                                 "municloud.component": "tax"}}
    bad = ContainerProvider().check({}, {**props, "extra_hosts": {"mc-s-dr-053031-postgres": "not-an-address"}})
    assert [f.property for f in bad.failures] == ["extra_hosts"]
    assert "not an IPv4 address" in bad.failures[0].reason
    good = ContainerProvider().check({}, {**props, "extra_hosts": {"mc-s-dr-053031-postgres": "10.252.2.11"}})
    assert not good.failures


@pytest.mark.integration
def test_read_of_a_real_container_shows_no_drift_then_a_hand_made_twin_does():
    """The python image carries labels (municloud.context...); a container made from it with the
    program's labels reads back as no change, and one made with an extra label reads as drift."""
    import docker

    from municloud_ops import images

    client = docker.from_env()
    ref = images.ensure_image("python", client)  # built by the set-up; labelled by the build
    made = []
    try:
        for extra in ({}, {"edited": "by-hand"}):
            labels = {"municloud.stack": "readtest", "municloud.component": "probe"}
            c = client.containers.create(ref, command=["sleep", "60"], labels={**labels, **extra},
                                         environment={"MC_PROBE": "1"})
            made.append(c)
            props = {**PROPS, "name": c.name, "image": ref, "labels": labels, "env": {"MC_PROBE": "1"},
                     "restart_policy": "no", "networks": [{"name": "bridge"}],
                     "docker_host": "unix:///var/run/docker.sock"}
            result = ContainerProvider().read(c.id, props)
            assert result.id == c.id
            if extra:
                assert result.outs["labels"] == {**labels, **extra}
            else:
                assert client.images.get(ref).labels, "the python image should carry labels"
                assert result.outs == props
    finally:
        for c in made:
            c.remove(force=True)
    gone = ContainerProvider().read(made[0].id, {**PROPS, "docker_host": "unix:///var/run/docker.sock"})
    assert gone.id == "" and gone.outs == {}
