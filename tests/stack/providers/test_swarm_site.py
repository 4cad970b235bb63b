"""A site of two nodes as one swarm (tools/bootstrap/site-hosts.sh ``swarm``), driven through the
swarm providers' create/update/delete (what ``pulumi up`` calls), on real engines:

- a service of 2 replicas placed one per node (max one per node), its port bound on each node;
- an update (a new content-addressed config) rolls the tasks one at a time, the service answering
  throughout at one of the two nodes (a client with both nodes' addresses, bounded loop);
- an update whose new task fails is rolled back by the swarm and fails with a sentence naming the
  service, the old tasks still serving;
- `pulumi up` of a secret keeps its content encrypted in the state file;
- an internal overlay isolates: a container on it does not reach a listener on another overlay,
  while a container on that overlay (on the other node: VXLAN across the site LAN) does;
- a node powered off: its replica of a service (spread over the nodes, no per-node limit) is
  started on the other node; the time from power-off to both replicas running is printed.

Needs root (network namespaces) and the local engine (the python image is shipped to the nodes by
docker save | load). Names are this test's own: MC_SWARM_TEST_PREFIX (namespaces, links),
MC_SWARM_TEST_LINK_NET and MC_SWARM_TEST_LAN_NET, so other checkouts' site hosts are untouched.
At the end every node leaves the swarm (its services' containers go), the nodes and the site LAN
are removed; their data roots stay (the shipped image, as for every site host).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request

import pytest

from support import sites

pytestmark = [pytest.mark.integration, pytest.mark.stack]

PREFIX = os.environ.get("MC_SWARM_TEST_PREFIX", "msw")
SITE = "swlab"
NODES = ("sw1=1", "sw2=2")
STACK = f"{PREFIX}swarmtest"
LABELS = {"municloud.stack": STACK, "municloud.site": SITE, "municloud.lgcode": "000000",
          "municloud.component": "swarm-test"}
PORT = 18080
#: what one test leaves for the next (they run in file order on one swarm)
RUN: dict = {}


@pytest.fixture(scope="module")
def swarm():
    if os.geteuid() != 0:
        pytest.skip("site nodes need root (network namespaces and mounts)")
    env = {"MC_SITE_PREFIX": PREFIX, "MC_SITE_LINK_NET": os.environ.get("MC_SWARM_TEST_LINK_NET", "10.249.17"),
           "MC_SITE_LAN_NET": os.environ.get("MC_SWARM_TEST_LAN_NET", "10.248"), "MC_SITE_HOSTS": ""}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        t0 = time.monotonic()
        print(sites.swarm(SITE, *NODES))
        up_s = time.monotonic() - t0
        nodes = [sites.host(spec.split("=")[0]) for spec in NODES]
        clients = [n.client(timeout=60) for n in nodes]
        from municloud_ops.images import ensure_image, ship_image

        image = ensure_image("python")
        for c in clients:
            print(ship_image(image, c))
        print(f"[swarm test] two nodes up and joined in {up_s:.1f} s")
        yield {"nodes": nodes, "clients": clients, "image": image, "manager": nodes[0]}
    finally:
        try:
            _leave_and_remove()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _leave_and_remove() -> None:
    for spec in reversed(NODES):  # workers first, the manager last
        name = spec.split("=")[0]
        try:
            print(sites.up(spec))  # a node powered off by a test is powered on to leave cleanly
            sites.host(name).client(timeout=60).swarm.leave(force=True)
        except Exception as exc:  # noqa: BLE001 - the removal below must still run
            print(f"[swarm test] {name}: leaving the swarm failed: {exc}")
        # out of the swarm nothing is left to shut down cleanly: a power-off is quicker than the
        # engine's own shutdown (~16 s for a node that was in a swarm)
        print(sites.power_off(name))
        print(sites.remove(name))
    print(sites.lan_down(SITE))


def _props(swarm, name: str, **over) -> dict:
    from stacks.providers.swarm import ServiceProvider

    props = {"name": f"{PREFIX}-{name}", "docker_host": swarm["manager"].docker_host, "image": swarm["image"],
             "labels": dict(LABELS), "replicas": 2,
             "constraints": [f"node.labels.municloud.site=={SITE}"],
             "healthcheck": {"test": ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/')"],
                             "interval_s": 2, "timeout_s": 5, "retries": 3, "start_period_s": 30},
             "update": {"order": "stop-first", "monitor_s": 3}, "timeout_s": 90,
             "docker_tls": sites.SiteHost.tls()}
    props.update(over)
    result = ServiceProvider().check({}, props)
    assert result.failures == [], [f.reason for f in result.failures]
    return result.inputs


def _web(swarm, config: dict) -> dict:
    return _props(swarm, "web", command=["python", "-m", "http.server", "8080", "--directory", "/srv"],
                  max_replicas_per_node=1, ports=[{"target": 8080, "published": PORT}],
                  configs=[{"object_id": config["object_id"], "swarm_name": config["swarm_name"],
                            "target": "/srv/index.html"}])


def _config(swarm, content: str) -> dict:
    from stacks.providers.swarm import ConfigProvider

    props = {"name": f"{PREFIX}-web-page", "docker_host": swarm["manager"].docker_host, "labels": dict(LABELS),
             "content": content, "docker_tls": sites.SiteHost.tls()}
    return ConfigProvider().create(props).outs


def _tasks(swarm, service_id: str) -> list[dict]:
    api = swarm["clients"][0].api
    return [t for t in api.tasks(filters={"service": service_id, "desired-state": "running"})
            if t["Status"]["State"] == "running"]


def _node_ids(swarm) -> list[str]:
    return [c.info()["Swarm"]["NodeID"] for c in swarm["clients"]]


def _get(address: str, timeout: float = 1.0) -> str:
    with urllib.request.urlopen(f"http://{address}:{PORT}/", timeout=timeout) as answer:  # noqa: S310 - our node
        return answer.read().decode()


def test_two_replicas_run_one_per_node_each_serving_on_its_node(swarm):
    from stacks.providers.swarm import ServiceProvider

    config = _config(swarm, "page v1")
    t0 = time.monotonic()
    created = ServiceProvider().create(_web(swarm, config))
    print(f"[swarm test] service of 2 replicas running (healthy) {time.monotonic() - t0:.1f} s after create")
    RUN.update(web=created.id, web_props=created.outs, config=config)
    tasks = _tasks(swarm, created.id)
    assert sorted(t["NodeID"] for t in tasks) == sorted(_node_ids(swarm)), tasks
    assert [_get(n.address) for n in swarm["nodes"]] == ["page v1", "page v1"]


def test_a_new_config_rolls_the_tasks_while_the_service_keeps_answering(swarm):
    from stacks.providers.swarm import ConfigProvider, ServiceProvider

    before = {t["ID"] for t in _tasks(swarm, RUN["web"])}
    config = _config(swarm, "page v2")
    assert config["swarm_name"] != RUN["config"]["swarm_name"]  # another content, another object
    tally = {"ok": 0, "failed": 0, "first_try_failed": 0}
    stop = threading.Event()

    def client():  # both nodes' addresses, as a frontdoor would have them; bounded in count and time
        addresses = [n.address for n in swarm["nodes"]]
        deadline = time.monotonic() + 120
        for i in range(3000):
            if stop.is_set() or time.monotonic() > deadline:
                return
            for attempt in range(2):
                try:
                    _get(addresses[(i + attempt) % 2], timeout=3)  # generous: a loaded machine is slow
                    tally["ok"] += 1
                    break
                except OSError:
                    tally["first_try_failed"] += attempt == 0
            else:
                tally["failed"] += 1
            time.sleep(0.02)

    loop = threading.Thread(target=client)
    loop.start()
    t0 = time.monotonic()
    try:
        new = _web(swarm, config)
        ServiceProvider().update(RUN["web"], RUN["web_props"], new)
        rolled_s = time.monotonic() - t0
    finally:
        stop.set()
        loop.join()
    ConfigProvider().delete(RUN["config"]["object_id"], RUN["config"])  # the old object, after the service moved
    RUN.update(web_props={**new, "service_id": RUN["web"]}, config=config)
    after = {t["ID"] for t in _tasks(swarm, RUN["web"])}
    print(f"[swarm test] rolling update (stop-first, one task at a time) in {rolled_s:.1f} s; requests: {tally}")
    assert len(after) == 2 and not after & before  # every task replaced
    assert [_get(n.address) for n in swarm["nodes"]] == ["page v2", "page v2"]
    assert tally["ok"] > 0 and tally["failed"] == 0, tally


def test_an_update_whose_task_fails_is_rolled_back_and_fails_naming_the_service(swarm):
    from stacks.providers.swarm import ServiceError, ServiceProvider

    before = {t["ID"] for t in _tasks(swarm, RUN["web"])}
    broken = {**RUN["web_props"], "command": ["python", "-c", "raise SystemExit(3)"]}
    t0 = time.monotonic()
    with pytest.raises(ServiceError) as failed:
        ServiceProvider().update(RUN["web"], RUN["web_props"], broken)
    print(f"[swarm test] failed update rolled back in {time.monotonic() - t0:.1f} s: {failed.value}")
    assert f"service {PREFIX}-web: the update failed and the swarm rolled it back" in str(failed.value)
    held = swarm["clients"][0].api.inspect_service(RUN["web"])
    assert held["Spec"]["TaskTemplate"]["ContainerSpec"]["Command"][:3] == ["python", "-m", "http.server"]
    deadline = time.monotonic() + 60
    while len(_tasks(swarm, RUN["web"])) < 2:
        assert time.monotonic() < deadline, "the rolled-back service did not run 2 replicas again within 60 s"
        time.sleep(0.5)
    assert [_get(n.address) for n in swarm["nodes"]] == ["page v2", "page v2"]
    # the twin: the same update without the failure goes through (the service is not stuck)
    fixed = {**RUN["web_props"], "env": {"PAGE_REVISION": "3"}}
    ServiceProvider().update(RUN["web"], RUN["web_props"], fixed)
    RUN["web_props"] = {**fixed, "service_id": RUN["web"]}
    assert not before & {t["ID"] for t in _tasks(swarm, RUN["web"])}


def _run_on(client, image: str, network: str, command: list[str], name: str):
    """A plain container of the test on an attachable overlay, at one node's engine."""
    return client.containers.run(image, command, name=name, network=network, labels=LABELS, detach=True,
                                 cap_drop=["ALL"], security_opt=["no-new-privileges:true"])


def test_an_internal_overlay_does_not_reach_another_overlay_its_twin_does(swarm):
    from stacks.providers.swarm import OverlayNetworkProvider

    manager, worker = swarm["clients"]
    nets = {}
    for name in ("isolated", "listening"):
        props = {"name": f"{PREFIX}-{name}", "docker_host": swarm["manager"].docker_host, "labels": dict(LABELS),
                 "internal": True, "attachable": True, "docker_tls": sites.SiteHost.tls()}
        nets[name] = OverlayNetworkProvider().create(props)
    made = []
    try:
        listener = _run_on(manager, swarm["image"], f"{PREFIX}-listening", ["python", "-m", "http.server", "8081"],
                           f"{PREFIX}-listener")
        made.append(listener)
        deadline = time.monotonic() + 30
        while not (manager.api.inspect_container(listener.id)["NetworkSettings"]["Networks"]
                   .get(f"{PREFIX}-listening", {}).get("IPAddress")):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        address = manager.api.inspect_container(listener.id)["NetworkSettings"]["Networks"][
            f"{PREFIX}-listening"]["IPAddress"]
        probe = ("import socket, sys, time\n"
                 "for _ in range(20):\n"
                 "    try:\n"
                 f"        socket.create_connection(('{address}', 8081), timeout=1).close(); sys.exit(0)\n"
                 "    except OSError: time.sleep(0.25)\n"
                 "sys.exit(1)\n")
        results = {}
        for net, client in (("isolated", manager), ("listening", worker)):
            c = _run_on(client, swarm["image"], f"{PREFIX}-{net}", ["python", "-c", probe], f"{PREFIX}-probe-{net}")
            made.append(c)
            results[net] = c.wait(timeout=60)["StatusCode"]
        print(f"[swarm test] listener {address} on {PREFIX}-listening: probe exit codes {results} (0 = reached)")
        assert results == {"isolated": 1, "listening": 0}, results
    finally:
        for c in made:
            c.remove(force=True)
        for result in nets.values():
            OverlayNetworkProvider().delete(result.id, result.outs)


def test_up_keeps_a_swarm_secret_encrypted_in_the_state_a_config_plain(swarm, tmp_path):
    """`pulumi up` of a SwarmSecret and a SwarmConfig (an inline program, a state of its own in
    tmp_path): in the state file the secret's content is ciphertext only, in inputs and outputs;
    the config's content, not a secret, is there in plain text (the twin: the search can find)."""
    import json
    import secrets as _secrets

    import pulumi
    from pulumi import automation as auto

    from stacks.providers._base import register_engines
    from stacks.providers.swarm import SwarmConfig, SwarmSecret

    manager = swarm["manager"]
    secret, page = f"secret-{_secrets.token_hex(12)}", f"page-{_secrets.token_hex(12)}"

    def program():
        register_engines({manager.docker_host: manager.tls()})
        made = SwarmSecret("key", name=f"{PREFIX}-key", docker_host=manager.docker_host, labels=LABELS, content=secret)
        SwarmConfig("page", name=f"{PREFIX}-page", docker_host=manager.docker_host, labels=LABELS, content=page)
        pulumi.export("secret_name", made.swarm_name)

    backend = f"file://{tmp_path}"
    stack = auto.create_or_select_stack(
        stack_name="swarmsecrets", project_name=f"{PREFIX}swarm", program=program,
        opts=auto.LocalWorkspaceOptions(
            env_vars={"PULUMI_BACKEND_URL": backend, "PULUMI_CONFIG_PASSPHRASE": _secrets.token_hex(16)},
            project_settings=auto.ProjectSettings(name=f"{PREFIX}swarm", runtime="python",
                                                  backend=auto.ProjectBackend(url=backend))))
    try:
        result = stack.up(on_output=lambda *_: None)
        name = result.outputs["secret_name"].value
        assert name.startswith(f"{PREFIX}-key-") and swarm["clients"][0].api.inspect_secret(name)["Spec"]["Name"] == name
        [state_file] = list(tmp_path.rglob("swarmsecrets.json"))
        text = state_file.read_text()
        resources = json.loads(text)["checkpoint"]["latest"]["resources"]
        [held] = [r for r in resources if r["type"].endswith("SwarmSecret")]
        assert "ciphertext" in json.dumps(held["inputs"]["content"]) and "ciphertext" in json.dumps(
            held["outputs"]["content"])
        assert secret not in text
        assert page in text  # the twin
    finally:
        stack.destroy(on_output=lambda *_: None)


def test_a_replica_of_a_powered_off_node_is_started_on_the_other_node(swarm):
    from stacks.providers.swarm import ServiceProvider

    props = _props(swarm, "spread", command=["python", "-m", "http.server", "8080"],
                   spread=["node.labels.municloud.node"])
    created = ServiceProvider().create(props)
    ids = _node_ids(swarm)
    assert sorted(t["NodeID"] for t in _tasks(swarm, created.id)) == sorted(ids)  # one per node first
    t0 = time.monotonic()
    print(sites.power_off(NODES[1].split("=")[0]))
    deadline = t0 + 120
    while True:
        on = [t["NodeID"] for t in _tasks(swarm, created.id)]
        if on == [ids[0], ids[0]]:
            break
        assert time.monotonic() < deadline, f"replicas not both on the manager 120 s after the power-off: {on}"
        time.sleep(0.25)
    moved_s = time.monotonic() - t0
    state = swarm["clients"][0].api.inspect_node(ids[1])["Status"]["State"]
    print(f"[swarm test] node powered off: both replicas running on the remaining node {moved_s:.1f} s later "
          f"(the powered-off node's state at the manager: {state})")
    assert state == "down"
    ServiceProvider().delete(created.id, created.outs)
