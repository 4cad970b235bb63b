"""Docker Swarm objects as dynamic resources: a replicated service, an overlay network, and the
secrets and configs a service mounts (docs/operator-guide.md "Nodes and swarms").

A site with several nodes is one swarm (tools/bootstrap/site-hosts.sh ``swarm``); these resources
are created at its manager's engine (``docker_host``). What this kernel lacks shapes the service:
no IPVS, so a service has no virtual IP (``endpoint_mode`` dnsrr: its name resolves to the tasks'
addresses); no ingress routing mesh, so a published port is bound on the node that runs the task
(publish mode ``host``); no IPsec, so overlays are not encrypted (TLS stays in the applications).

Service: every property but its name and engine is updated in place, as a rolling update with the
service's ``update`` settings (default: one task at a time, the new one started before the old one
stops, each watched ``monitor_s`` seconds); a task that fails or does not become healthy in that
time fails the update, the swarm rolls the service back to its previous spec, and ``up`` fails
with a sentence naming the service. Create and update wait until the service runs its replicas.

Secret and Config: content-addressed. The name in the swarm is ``<name>-<digest>`` (the first 12
hex digits of the SHA-256 of the content): a changed content is a new object, created before the
service is updated to it (so the service rolls) and the old one removed after. A secret's content
is a secret input (encrypted in the state); only its digest is in the name. The digest is over
the content only: a secret with little entropy (a guessable word) would be recognisable by it,
the consortium's secrets are generated (``RandomPassword``, keys).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CreateResult, ReadResult, Resource, UpdateResult

from ._base import ValidatingProvider, check_labels, docker_client, engine_props, is_unknown
from .container import _healthcheck

#: update and rollback order: the new task starts before the old one stops (no gap in service)
ORDERS = ("start-first", "stop-first")
DEFAULT_UPDATE = {"parallelism": 1, "order": "start-first", "monitor_s": 5, "delay_s": 0}
DIGEST_CHARS = 12
#: update states of the swarm that end an update (``UpdateStatus.State``)
_ROLLED_BACK = ("rollback_completed", "rollback_paused", "paused")


class ServiceError(RuntimeError):
    """A service did not converge or its update was rolled back; the message names it and why."""


def content_name(name: str, content: str) -> str:
    """``<name>-<digest>``: the swarm name of a secret or config with this content."""
    return f"{name}-{hashlib.sha256(content.encode()).hexdigest()[:DIGEST_CHARS]}"


# -- overlay network ---------------------------------------------------------------------------
class OverlayNetworkProvider(ValidatingProvider):
    KIND = "overlay network"
    REQUIRED = {"name": str, "docker_host": str, "labels": dict}
    OPTIONAL = {"internal": bool, "attachable": bool, "subnet": str, "docker_tls": dict}
    REPLACE_ON = ("name", "docker_host", "labels", "internal", "attachable", "subnet")

    def validate(self, news):
        return check_labels(news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        import docker.errors

        client = docker_client(props)
        for existing in client.networks.list(names=[props["name"]]):
            if existing.name == props["name"]:
                raise docker.errors.APIError(f"overlay network {props['name']} already exists on "
                                             f"{props['docker_host']}: remove it or choose another name")
        ipam = None
        if props.get("subnet"):
            from docker.types import IPAMConfig, IPAMPool

            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=props["subnet"])])
        net = client.networks.create(props["name"], driver="overlay", scope="swarm",
                                     attachable=bool(props.get("attachable", True)),
                                     internal=bool(props.get("internal")), labels=props["labels"], ipam=ipam)
        return CreateResult(net.id, dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        import docker.errors

        try:
            attrs = docker_client(props).api.inspect_network(id_)
        except docker.errors.NotFound:
            return ReadResult("", {})
        return ReadResult(id_, {**props, "name": attrs["Name"], "labels": attrs.get("Labels") or {},
                                "internal": bool(attrs.get("Internal")),
                                "attachable": bool(attrs.get("Attachable"))})

    def update(self, _id, _olds, news) -> UpdateResult:
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # the tasks of a service just removed leave the network within seconds
        _remove_when_free(lambda: docker_client(props).api.remove_network(id_), "active endpoints")


class OverlayNetwork(Resource, module="municloud", name="OverlayNetwork"):
    """A swarm-scoped overlay network (VXLAN between the site's nodes); ``internal`` ones have no
    route out, like an internal bridge; ``attachable`` lets plain containers join it too."""

    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: pulumi.Input[str], docker_host: pulumi.Input[str],
                 labels: pulumi.Input[dict], internal: bool = True, attachable: bool = True, subnet: str = "",
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"name": name, "docker_host": docker_host, "labels": labels, "internal": internal,
                 "attachable": attachable, "subnet": subnet} | engine_props(docker_host)
        super().__init__(OverlayNetworkProvider(), resource_name, props, opts)


# -- secrets and configs -----------------------------------------------------------------------
class _ContentProvider(ValidatingProvider):
    """A swarm secret or config named by its content's digest (module docstring)."""

    REQUIRED = {"name": str, "docker_host": str, "labels": dict, "content": str}
    OPTIONAL = {"docker_tls": dict}
    OUTPUTS = ("swarm_name", "object_id")
    REPLACE_ON = ("name", "docker_host", "labels", "content")
    #: the new object (another name) exists before the service moves to it; the old goes after
    delete_before_replace = False

    def validate(self, news):
        failures = check_labels(news)
        content = news.get("content")
        if isinstance(content, str) and not content:
            failures.append(CheckFailure("content", f"{self.KIND} {news['name']}: 'content' is empty"))
        return failures

    def _api(self, props):  # (create, inspect, remove) of the kind
        raise NotImplementedError

    def create(self, props: dict[str, Any]) -> CreateResult:
        import docker.errors

        create, inspect, _remove = self._api(props)
        swarm_name = content_name(props["name"], props["content"])
        try:
            object_id = create(name=swarm_name, data=props["content"].encode(), labels=props["labels"])["ID"]
        except docker.errors.APIError as exc:
            if exc.status_code != 409:
                raise
            # the same content under the same name (an interrupted run): the same object
            held = inspect(swarm_name)
            if (held["Spec"].get("Labels") or {}) != props["labels"]:
                raise docker.errors.APIError(f"{self.KIND} {swarm_name} already exists on {props['docker_host']} "
                                             f"and is not labelled for this stack") from None
            object_id = held["ID"]
        return CreateResult(object_id, {**props, "swarm_name": swarm_name, "object_id": object_id})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        import docker.errors

        _create, inspect, _remove = self._api(props)
        try:
            held = inspect(id_)
        except docker.errors.NotFound:
            return ReadResult("", {})
        return ReadResult(id_, {**props, "swarm_name": held["Spec"]["Name"],
                                "labels": held["Spec"].get("Labels") or {}})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        _create, _inspect, remove = self._api(props)
        # in use until the service's old tasks are gone (a rolling update just ended)
        _remove_when_free(lambda: remove(id_), "in use")


class SecretProvider(_ContentProvider):
    KIND = "secret"

    def _api(self, props):
        api = docker_client(props).api
        return api.create_secret, api.inspect_secret, api.remove_secret


class ConfigProvider(_ContentProvider):
    KIND = "config"

    def _api(self, props):
        api = docker_client(props).api
        return api.create_config, api.inspect_config, api.remove_config


class SwarmSecret(Resource, module="municloud", name="SwarmSecret"):
    """A swarm secret (a file under /run/secrets in the tasks); its content is a secret in the
    state, its swarm name ``<name>-<digest>``."""

    swarm_name: pulumi.Output[str]
    object_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: str, docker_host: pulumi.Input[str], labels: dict,
                 content: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"name": name, "docker_host": docker_host, "labels": labels,
                 "content": pulumi.Output.secret(content), "swarm_name": None, "object_id": None}
        # the output echoing the content is a secret as well (encrypted in the state)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["content"]))
        super().__init__(SecretProvider(), resource_name, props | engine_props(docker_host), opts)


class SwarmConfig(Resource, module="municloud", name="SwarmConfig"):
    """A swarm config (a non-secret file in the tasks), its swarm name ``<name>-<digest>``."""

    swarm_name: pulumi.Output[str]
    object_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: str, docker_host: pulumi.Input[str], labels: dict,
                 content: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"name": name, "docker_host": docker_host, "labels": labels, "content": content,
                 "swarm_name": None, "object_id": None}
        super().__init__(ConfigProvider(), resource_name, props | engine_props(docker_host), opts)


# -- service -----------------------------------------------------------------------------------
class ServiceProvider(ValidatingProvider):
    KIND = "service"
    REQUIRED = {"name": str, "docker_host": str, "image": str, "labels": dict, "replicas": int}
    OPTIONAL = {"command": list, "env": dict, "user": str, "networks": list, "constraints": list,
                "spread": list, "max_replicas_per_node": int, "ports": list, "healthcheck": dict,
                "update": dict, "secrets": list, "configs": list, "timeout_s": int, "docker_tls": dict}
    REPLACE_ON = ("name", "docker_host")
    OUTPUTS = ("service_id",)

    def validate(self, news: dict[str, Any]) -> list[CheckFailure]:
        name = news.get("name")
        failures = check_labels(news)
        replicas = news.get("replicas")
        if isinstance(replicas, int) and replicas < 0:
            failures.append(CheckFailure("replicas", f"service {name}: 'replicas' must be 0 or more, got {replicas}"))
        per_node = news.get("max_replicas_per_node")
        if isinstance(per_node, int) and per_node < 0:
            failures.append(CheckFailure("max_replicas_per_node", f"service {name}: 'max_replicas_per_node' must "
                                                                  f"be 0 (no limit) or more, got {per_node}"))
        for p in _known(news.get("ports")):
            if not (isinstance(p, dict) and isinstance(p.get("target"), int) and isinstance(p.get("published"), int)):
                failures.append(CheckFailure("ports", f"service {name}: each port needs integer 'target' and "
                                                      f"'published' (bound on the node running the task)"))
        for c in _known(news.get("constraints")):
            if not isinstance(c, str) or not any(op in c for op in ("==", "!=")):
                failures.append(CheckFailure("constraints", f"service {name}: constraint {c!r} is not "
                                                            f"'<attribute>==<value>' or '!='"))
        update = news.get("update")
        if isinstance(update, dict):
            unknown = sorted(set(update) - set(DEFAULT_UPDATE))
            if unknown:
                failures.append(CheckFailure("update", f"service {name}: unknown update setting(s) "
                                                       f"{', '.join(unknown)} (known: {', '.join(DEFAULT_UPDATE)})"))
            if update.get("order", "start-first") not in ORDERS:
                failures.append(CheckFailure("update", f"service {name}: update order {update.get('order')!r}: "
                                                       f"one of {', '.join(ORDERS)}"))
        for key in ("secrets", "configs"):
            for ref in _known(news.get(key)):
                if not is_unknown(ref) and not (isinstance(ref, dict) and {"object_id", "swarm_name", "target"}
                                                <= set(ref)):
                    failures.append(CheckFailure(key, f"service {name}: each of '{key}' needs 'object_id', "
                                                      f"'swarm_name' and 'target' (a file name; 'uid' optional)"))
        return failures

    def create(self, props: dict[str, Any]) -> CreateResult:
        import docker.errors

        api = docker_client(props).api
        try:
            held = api.inspect_service(props["name"])
        except docker.errors.NotFound:
            held = None
        if held is not None:
            if (held["Spec"].get("Labels") or {}).get("municloud.stack") != props["labels"].get("municloud.stack"):
                raise ServiceError(f"service {props['name']} already exists on {props['docker_host']} and is not "
                                   f"labelled for this stack")
            api.remove_service(held["ID"])  # a leftover of an interrupted run of this stack
            _wait_gone(api, held["ID"])
        spec = service_spec(props)
        service_id = api.create_service(**spec)["ID"]
        try:
            _converge(api, service_id, props)
        except BaseException:
            api.remove_service(service_id)  # nothing half-made stays (the next attempt creates anew)
            raise
        return CreateResult(service_id, {**props, "service_id": service_id})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = docker_client(news).api
        before = api.inspect_service(id_)
        spec = service_spec(news)
        api.update_service(id_, before["Version"]["Index"], **spec)
        _converge(api, id_, news, updating=True, previous=before.get("UpdateStatus"))
        return UpdateResult({**news, "service_id": id_})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """What the program manages, as the swarm holds it (``pulumi refresh``): name, image,
        replicas, the labels the program set, constraints, published ports."""
        import docker.errors

        try:
            held = docker_client(props).api.inspect_service(id_)
        except docker.errors.NotFound:
            return ReadResult("", {})
        return ReadResult(id_, live_view(props, held["Spec"]))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        import docker.errors

        api = docker_client(props).api
        try:
            api.remove_service(id_)
        except docker.errors.NotFound:
            return
        _wait_gone(api, id_)


def service_spec(props: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of docker-py's ``create_service`` / ``update_service`` for ``props``:
    replicated mode, placement, dnsrr endpoint with host-mode ports, update and rollback config."""
    from docker.types import (ConfigReference, ContainerSpec, EndpointSpec, Healthcheck, Placement,
                              RestartPolicy, RollbackConfig, SecretReference, ServiceMode, TaskTemplate,
                              UpdateConfig)

    update = {**DEFAULT_UPDATE, **(props.get("update") or {})}
    health = _healthcheck(props.get("healthcheck"))
    container = ContainerSpec(
        props["image"], command=props.get("command") or None, env=props.get("env") or None,
        user=props.get("user") or None, labels=props["labels"], init=True,
        healthcheck=Healthcheck(**health) if health else None, cap_drop=["ALL"],
        # a secret file is readable by its owner only: the service's user (``uid``, default root)
        secrets=[SecretReference(s["object_id"], s["swarm_name"], filename=s["target"], uid=str(s.get("uid", 0)),
                                 gid=str(s.get("uid", 0)), mode=0o400)
                 for s in props.get("secrets") or []] or None,
        configs=[ConfigReference(c["object_id"], c["swarm_name"], filename=c["target"], mode=0o444)
                 for c in props.get("configs") or []] or None)
    placement = Placement(constraints=props.get("constraints") or None,
                          preferences=[("spread", label) for label in props.get("spread") or []] or None,
                          maxreplicas=props.get("max_replicas_per_node") or None)
    task = TaskTemplate(container, placement=placement,
                        restart_policy=RestartPolicy(condition="any", delay=int(1e9)),
                        networks=[{"Target": n} for n in props.get("networks") or []] or None)
    ns = int(1e9)
    return {
        "task_template": task, "name": props["name"], "labels": props["labels"],
        "mode": ServiceMode("replicated", replicas=props["replicas"]),
        # no IPVS in this kernel: no virtual IP; no routing mesh: ports bound where the task runs
        "endpoint_spec": EndpointSpec(mode="dnsrr", ports=[
            {"Protocol": "tcp", "TargetPort": p["target"], "PublishedPort": p["published"], "PublishMode": "host"}
            for p in props.get("ports") or []] or None),
        "update_config": UpdateConfig(parallelism=update["parallelism"], order=update["order"],
                                      failure_action="rollback", monitor=int(update["monitor_s"] * ns),
                                      delay=int(update["delay_s"] * ns), max_failure_ratio=0),
        "rollback_config": RollbackConfig(parallelism=update["parallelism"], order=update["order"],
                                          failure_action="pause", monitor=int(update["monitor_s"] * ns)),
    }


def live_view(props: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The managed properties from a service's ``Spec`` (``docker service inspect``)."""
    task = spec.get("TaskTemplate") or {}
    container = task.get("ContainerSpec") or {}
    placement = task.get("Placement") or {}
    labels = spec.get("Labels") or {}
    live = dict(props)
    live["name"] = spec.get("Name", props.get("name"))
    live["image"] = container.get("Image", props.get("image"))
    live["replicas"] = ((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas", 0)
    live["labels"] = {k: labels[k] for k in props.get("labels") or {} if k in labels}
    if "constraints" in props:
        live["constraints"] = placement.get("Constraints") or []
    if "ports" in props:
        live["ports"] = [{"target": p["TargetPort"], "published": p["PublishedPort"]}
                         for p in (spec.get("EndpointSpec") or {}).get("Ports") or []]
    return live


def _converge(api, service_id: str, props: dict[str, Any], updating: bool = False,
              previous: dict[str, Any] | None = None) -> None:
    """Wait until the service runs ``replicas`` tasks; after an update, until the update completed.
    A rolled-back update raises ``ServiceError`` naming the service. ``previous``: the update status
    before this update (the swarm keeps the last one, also when this update changes no task)."""
    name = props["name"]
    timeout = props.get("timeout_s") or 120
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        held = api.inspect_service(service_id)
        status = held.get("UpdateStatus") or {}
        state = None if status == (previous or {}) else status.get("State")
        if updating and state in _ROLLED_BACK:
            raise ServiceError(f"service {name}: the update failed and the swarm rolled it back to the previous "
                               f"spec ({state}: {status.get('Message', '')}); {_task_errors(api, service_id)}")
        if state in (None, "completed"):
            # tasks of the service's current container spec (right after an update call, the old ones
            # still run; the engine adds defaults such as Runtime to the rest of a task's spec)
            current = _container_spec(held["Spec"]["TaskTemplate"])
            running = [t for t in api.tasks(filters={"service": service_id, "desired-state": "running"})
                       if t["Status"]["State"] == "running" and _container_spec(t["Spec"]) == current]
            if len(running) >= props["replicas"]:
                return
        time.sleep(0.5)
    raise ServiceError(f"service {name}: not running {props['replicas']} replicas of its spec within {timeout} s"
                       f"{' (update ' + str(status.get('State')) + ')' if status else ''}; "
                       f"{_task_errors(api, service_id)}")


def _container_spec(task_spec: dict[str, Any]) -> tuple:
    """What a task runs: its container spec and the force-update counter."""
    return task_spec.get("ContainerSpec"), task_spec.get("ForceUpdate", 0)


def _task_errors(api, service_id: str) -> str:
    """The last distinct errors of the service's tasks (``docker service ps --no-trunc``)."""
    errors = []
    for t in sorted(api.tasks(filters={"service": service_id}), key=lambda t: t.get("UpdatedAt", ""), reverse=True):
        st = t.get("Status") or {}
        msg = st.get("Err") or (st.get("Message") if st.get("State") in ("failed", "rejected") else "")
        if msg and msg not in errors:
            errors.append(msg)
    return "task errors: " + "; ".join(errors[:3]) if errors else "no task error reported"


def _wait_gone(api, service_id: str, timeout_s: float = 60) -> None:
    """Until the removed service's containers are gone (its networks and secrets are then free)."""
    import docker.errors

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if not api.tasks(filters={"service": service_id}):
                return
        except docker.errors.NotFound:  # the swarm forgot the service: its tasks are gone with it
            return
        time.sleep(0.5)


def _remove_when_free(remove, busy: str, timeout_s: float = 30) -> None:
    """``remove()``, again every 0.5 s while the engine answers that the object is ``busy`` (for at
    most ``timeout_s``); an object already gone is removed."""
    import docker.errors

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            remove()
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if busy not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _known(value: Any) -> list:
    return value if isinstance(value, list) else []


class Service(Resource, module="municloud", name="Service"):
    """A replicated swarm service at a site's manager; see the module docstring for how it updates."""

    service_id: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: str, docker_host: pulumi.Input[str], image: pulumi.Input[str],
                 labels: dict, replicas: int, command: list | None = None, env: dict | None = None,
                 user: str = "", networks: list | None = None, constraints: list | None = None,
                 spread: list | None = None, max_replicas_per_node: int = 0, ports: list | None = None,
                 healthcheck: dict | None = None, update: dict | None = None,
                 secrets: list | None = None, configs: list | None = None, timeout_s: int = 120,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"name": name, "docker_host": docker_host, "image": image, "labels": labels, "replicas": replicas,
                 "command": command or [], "env": env or {}, "user": user, "networks": networks or [],
                 "constraints": constraints or [], "spread": spread or [],
                 "max_replicas_per_node": max_replicas_per_node, "ports": ports or [],
                 "healthcheck": healthcheck or {}, "update": update or {}, "secrets": secrets or [],
                 "configs": configs or [], "timeout_s": timeout_s, "service_id": None}
        super().__init__(ServiceProvider(), resource_name, props | engine_props(docker_host), opts)
