"""Swarm providers without an engine: checks naming the property (with allowed twins), what a change
replaces or updates in place, the docker-py spec a service becomes, content-addressed names, the
read view, and the secret content marked secret."""

import pytest

from stacks.providers._base import UNKNOWN
from stacks.providers.swarm import (ConfigProvider, OverlayNetworkProvider, SecretProvider, ServiceProvider,
                                    content_name, live_view, service_spec)

pytestmark = pytest.mark.unit

LABELS = {"municloud.stack": "t", "municloud.site": "primary", "municloud.lgcode": "000000",
          "municloud.component": "web"}
HOST = "tcp://10.249.17.6:2376"


def _service(**over):
    props = {"name": "mc-t-web", "docker_host": HOST, "image": "municloud/python:x", "labels": dict(LABELS),
             "replicas": 2.0, "command": ["python", "-m", "http.server", "8080"],
             "constraints": ["node.labels.municloud.site==primary"], "spread": ["node.labels.municloud.node"],
             "max_replicas_per_node": 1, "ports": [{"target": 8080, "published": 18080}],
             "healthcheck": {"test": ["python", "-c", "print(1)"], "interval_s": 1, "retries": 3},
             "update": {"order": "start-first", "monitor_s": 3}, "networks": ["mc-t-lan"],
             "secrets": [{"object_id": "s1", "swarm_name": "mc-t-key-abc", "target": "key"}],
             "configs": [{"object_id": "c1", "swarm_name": "mc-t-conf-def", "target": "app.conf"}]}
    props.update(over)
    return props


def test_a_valid_service_passes_and_numbers_become_ints():
    result = ServiceProvider().check({}, _service())
    assert result.failures == []
    assert result.inputs["replicas"] == 2 and isinstance(result.inputs["replicas"], int)


@pytest.mark.parametrize("over, prop, words", [
    ({"replicas": -1}, "replicas", "0 or more"),
    ({"ports": [{"target": 8080}]}, "ports", "'published'"),
    ({"constraints": ["node.role manager"]}, "constraints", "'<attribute>==<value>'"),
    ({"update": {"order": "sideways"}}, "update", "start-first"),
    ({"update": {"paralelism": 2}}, "update", "paralelism"),
    ({"secrets": [{"object_id": "s1"}]}, "secrets", "'swarm_name'"),
    ({"labels": {"municloud.stack": "t"}}, "labels", "municloud.site"),
    ({"max_replicas_per_node": -2}, "max_replicas_per_node", "no limit"),
])
def test_bad_service_input_is_refused_naming_the_property(over, prop, words):
    result = ServiceProvider().check({}, _service(**over))
    assert [f.property for f in result.failures] == [prop]
    assert words in result.failures[0].reason
    assert prop == "labels" or "mc-t-web" in result.failures[0].reason  # the shared label check names the key


def test_unknown_values_in_a_preview_are_not_refused():
    assert ServiceProvider().check({}, _service(ports=UNKNOWN, secrets=[UNKNOWN])).failures == []


def test_a_new_image_or_more_replicas_update_the_service_in_place():
    old = ServiceProvider().check({}, _service()).inputs
    for change in ({"image": "municloud/python:y"}, {"replicas": 3}, {"env": {"A": "1"}},
                   {"secrets": [{"object_id": "s2", "swarm_name": "mc-t-key-012", "target": "key"}]}):
        diff = ServiceProvider().diff("id", old, ServiceProvider().check({}, _service(**change)).inputs)
        assert diff.changes and diff.replaces == [], change


def test_another_name_or_engine_replaces_the_service_and_nothing_changed_is_no_change():
    old = ServiceProvider().check({}, _service()).inputs
    assert ServiceProvider().diff("id", old, dict(old)).changes is False  # the twin
    diff = ServiceProvider().diff("id", old, {**old, "name": "mc-t-web2"})
    assert diff.replaces == ["name"]


def test_the_spec_has_no_virtual_ip_host_mode_ports_spread_and_rollback_on_failure():
    spec = service_spec(ServiceProvider().check({}, _service()).inputs)
    assert spec["endpoint_spec"]["Mode"] == "dnsrr"
    assert spec["endpoint_spec"]["Ports"] == [{"Protocol": "tcp", "TargetPort": 8080, "PublishedPort": 18080,
                                               "PublishMode": "host"}]
    assert spec["mode"] == {"replicated": {"Replicas": 2}}
    placement = spec["task_template"]["Placement"]
    assert placement["Constraints"] == ["node.labels.municloud.site==primary"]
    assert placement["Preferences"] == [{"Spread": {"SpreadDescriptor": "node.labels.municloud.node"}}]
    assert placement["MaxReplicas"] == 1
    update = spec["update_config"]
    assert (update["FailureAction"], update["Order"], update["Parallelism"], update["Monitor"]) == (
        "rollback", "start-first", 1, 3_000_000_000)
    assert spec["rollback_config"]["Order"] == "start-first"
    container = spec["task_template"]["ContainerSpec"]
    assert container["Healthcheck"]["Test"] == ["CMD", "python", "-c", "print(1)"]
    assert [(s["SecretName"], s["File"]["Name"], s["File"]["Mode"]) for s in container["Secrets"]] == [
        ("mc-t-key-abc", "key", 0o400)]
    assert [c["ConfigName"] for c in container["Configs"]] == ["mc-t-conf-def"]
    assert spec["task_template"]["Networks"] == [{"Target": "mc-t-lan"}]


def test_a_service_without_ports_or_limits_leaves_them_out():
    spec = service_spec(ServiceProvider().check({}, _service(ports=[], max_replicas_per_node=0, spread=[])).inputs)
    assert "Ports" not in spec["endpoint_spec"] and spec["endpoint_spec"]["Mode"] == "dnsrr"
    assert "MaxReplicas" not in spec["task_template"]["Placement"]


def test_read_reports_what_the_program_set_as_the_swarm_holds_it():
    props = ServiceProvider().check({}, _service()).inputs
    held = service_spec(props)
    swarm_spec = {"Name": "mc-t-web", "Labels": {**LABELS, "com.docker.stack": "other"},
                  "TaskTemplate": dict(held["task_template"]), "Mode": {"Replicated": {"Replicas": 3}},
                  "EndpointSpec": dict(held["endpoint_spec"])}
    live = live_view(props, swarm_spec)
    assert live["labels"] == LABELS  # a label the program did not set is not its concern
    assert live["replicas"] == 3  # scaled by hand: drift the next up corrects
    assert live["ports"] == [{"target": 8080, "published": 18080}]
    assert {k: v for k, v in live.items() if k != "replicas"} == {k: v for k, v in props.items() if k != "replicas"}


def test_secret_and_config_names_carry_the_content_digest():
    assert content_name("mc-t-key", "a") == content_name("mc-t-key", "a")
    assert content_name("mc-t-key", "a") != content_name("mc-t-key", "b")
    assert content_name("mc-t-key", "a").startswith("mc-t-key-") and len(content_name("mc-t-key", "a")) == 21


@pytest.mark.parametrize("provider", [SecretProvider, ConfigProvider])
def test_a_changed_content_makes_a_new_object_before_the_old_goes(provider):
    props = {"name": "mc-t-key", "docker_host": HOST, "labels": dict(LABELS), "content": "a"}
    assert provider().check({}, props).failures == []
    diff = provider().diff("id", {**props, "swarm_name": "x", "object_id": "y"}, {**props, "content": "b"})
    assert diff.replaces == ["content"] and not diff.delete_before_replace
    assert provider().diff("id", props, dict(props)).changes is False
    empty = provider().check({}, {**props, "content": ""})
    assert [f.property for f in empty.failures] == ["content"]


def test_an_overlay_network_needs_its_labels():
    props = {"name": "mc-t-lan", "docker_host": HOST, "labels": dict(LABELS), "internal": True}
    assert OverlayNetworkProvider().check({}, props).failures == []
    bad = OverlayNetworkProvider().check({}, {**props, "labels": {}})
    assert [f.property for f in bad.failures] == ["labels"]


def test_a_secret_content_is_a_secret_input(monkeypatch):
    """What the state gets: the content wrapped as a secret (encrypted by the stack's secrets
    provider), a config's content plain."""
    import pulumi
    from pulumi.dynamic import Resource

    from stacks.providers import swarm

    seen = {}
    monkeypatch.setattr(Resource, "__init__",
                        lambda self, provider, name, props, opts=None: seen.update({name: props, f"{name}.opts": opts}))
    swarm.SwarmSecret("key", name="mc-t-key", docker_host=HOST, labels=LABELS, content="s3cret")
    swarm.SwarmConfig("conf", name="mc-t-conf", docker_host=HOST, labels=LABELS, content="plain")
    assert isinstance(seen["key"]["content"], pulumi.Output)
    assert seen["key.opts"].additional_secret_outputs == ["content"]
    assert seen["conf"]["content"] == "plain"
