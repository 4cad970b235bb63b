"""Docker container as a dynamic resource.

Create = create the container on its networks (with aliases, optionally a fixed ``ipv4_address``),
copy its files in (secrets as mode 0400 files owned by the service user, never env or labels),
start it and wait until the image's healthcheck reports healthy. Anything about what runs (image, command, env, files,
mounts, networks, ports, capabilities) replaces it; the restart policy updates in place.

Two changes are applied in place instead, like an Ansible handler: with a ``reload`` command
given, changed contents of the same set of files are copied in and the command runs in the
container (``nginx -s reload``, ``pg_ctl reload``; exit status 75 asks for a restart, e.g. a
PostgreSQL setting that needs one); and networks joined or left beside the first one are
connected or disconnected on the running container. Files are judged by their paths: a preview
in which a content is not known yet (a configuration rendered again, a joining member's key) shows
the same in-place update that ``up`` applies, not a replacement (stacks/tls.py).

While the engine still reports a new container "starting", the wait runs the image's own
healthcheck command itself from 0.5 s after start (then every 0.75-1 s), so a service with a 10 s healthcheck interval is not
waited on for a whole interval after it is ready (Docker's status catches up at its next check).
A probe is a process started in the container (~0.1 s of CPU): after the first 10 s of waiting the
gaps grow to 4 s, and no more probes than the machine has cores run at once in the provider
process (a busy slot skips that probe), so dozens of containers starting together (a 12-member
consortium) do not spend the cores on asking whether they are ready yet.

``network_mode: "host"`` puts a container in its engine host's network namespace (the frontdoor,
decision 0019): it joins no network (``networks`` is empty) and publishes no port (it binds host
addresses itself); ``read`` reports the mode the engine holds, and the engine's own ``host``
network entry is not a network the program joined.

Files are copied into labelled anonymous volumes, one per distinct parent directory of the
files (``/run/secrets``, ``/etc/municloud``...), because ``docker cp`` refuses a read-only root
filesystem but writes into volumes; those directories must be empty in the image.
"""

from __future__ import annotations

import ipaddress
import io
import os
import posixpath
import re
import tarfile
import threading
import time
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ._base import ValidatingProvider, check_labels, docker_client, engine_props, is_unknown

#: env names that would carry a secret in plain text; secrets go in files (``<NAME>_FILE``)
_SECRET_ENV = re.compile(r"(PASSWORD|PASSWD|SECRET|PRIVATE_KEY|PASSPHRASE|TOKEN)$", re.IGNORECASE)
_LOG_TAIL = 30
#: resolver options of every container. The project's networks are internal: Docker's embedded DNS
#: answers the names on them at once, but forwards any other name (a peer whose container is gone,
#: e.g. a killed primary during failover) to upstream servers it cannot reach, and glibc's default
#: (5 s x 2 attempts, A and AAAA) then blocks the caller for 20 s. A standby's WAL receiver stuck
#: in that lookup held promotion for ~11 s in 2 to 4 of a rehearsal's 4 failover lanes (docs/dr.md). With these
#: options a missing name fails in about 2 s; names that exist are answered locally, well within 1 s.
DNS_OPTIONS = ("timeout:1", "attempts:2")
#: the one ``network_mode`` besides a network of the stack: the engine host's network namespace
HOST_NETWORK = "host"
#: where a container with ``engine_socket`` finds the engine (municloud.supervisor.SOCKET)
ENGINE_SOCKET = "/run/docker.sock"
#: our own health probes running at once in this provider process (one per core, see the docstring)
PROBE_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
#: probe gaps: at most 1 s during the first 10 s of a wait, then growing to 4 s
PROBE_FAST_S, PROBE_SLOW_AFTER_S, PROBE_MAX_GAP_S = 1.0, 10.0, 4.0


class ContainerStartError(RuntimeError):
    """The container did not become healthy; names it and carries its last log lines."""


def socket_path(props: dict[str, Any]) -> str:
    """The engine's unix socket on its own host: ``engine_socket`` when it names a path, else
    (``true``) the unix:// docker_host's."""
    socket = props["engine_socket"]
    return socket if isinstance(socket, str) else props["docker_host"].removeprefix("unix://")


#: run in a one-off container on a remote engine: the socket's group and the ID of the engine that
#: answers on it (standard library only, as root: the socket is the engine's)
_SOCKET_PROBE = (
    "import http.client, json, os, socket, sys\n"
    "class C(http.client.HTTPConnection):\n"
    "    def connect(self):\n"
    "        self.sock = socket.socket(socket.AF_UNIX); self.sock.settimeout(10); self.sock.connect('/engine.sock')\n"
    "c = C('localhost'); c.request('GET', '/info'); info = json.loads(c.getresponse().read())\n"
    "print(os.stat('/engine.sock').st_gid, info.get('ID', ''))\n")


def socket_group(client, props: dict[str, Any], path: str) -> int:
    """The group owning the engine's socket on the engine's host: read here for a unix:// engine,
    else by a one-off container of the same image on that engine (the host is not this machine),
    which also asks the engine answering on that socket for its ID: a socket of another engine
    (a wrong ``engine_socket``) is refused, naming both."""
    if props["docker_host"].startswith("unix://"):
        return os.stat(path).st_gid
    from docker.types import Mount

    from municloud.naming import ONE_OFF_LABEL

    try:
        out = client.containers.run(
            props["image"], ["-c", _SOCKET_PROBE], entrypoint=["python"], user="0", network_mode="none",
            remove=True, cap_drop=["ALL"], security_opt=["no-new-privileges:true"],
            labels={**props["labels"], ONE_OFF_LABEL: f"engine socket of {props['name']}"},
            mounts=[Mount(target="/engine.sock", source=path, type="bind", read_only=True)])
        gid, engine_id = out.decode().split()
        gid = int(gid)
    except Exception as exc:  # noqa: BLE001 - said with the socket's path and the engine
        raise RuntimeError(f"container {props['name']}: no engine socket at {path} on the host of "
                           f"{props['docker_host']} ({str(exc)[-300:]}): set sites.<site>.engine_socket "
                           f"to its path there") from None
    own = client.info().get("ID", "")
    if engine_id != own:
        raise RuntimeError(f"container {props['name']}: {path} on the host of {props['docker_host']} is "
                           f"the socket of another engine (ID {engine_id}, the site's engine is {own}): set "
                           f"sites.<site>.engine_socket to the site engine's own socket there")
    return gid


class ContainerProvider(ValidatingProvider):
    KIND = "container"
    REQUIRED = {"name": str, "docker_host": str, "image": str, "labels": dict, "networks": list}
    OPTIONAL = {"env": dict, "command": list, "user": str, "mounts": list, "tmpfs": dict, "ports": list,
                "restart_policy": str, "cap_add": list, "read_only": bool, "files": list,
                "health_timeout": int, "start": bool, "healthcheck": dict, "reload": list, "engine_socket": (bool, str),
                "docker_tls": dict, "extra_hosts": dict, "network_mode": str}
    REPLACE_ON = ("name", "docker_host", "image", "labels", "networks", "env", "command", "user", "mounts",
                  "tmpfs", "ports", "cap_add", "read_only", "files", "start", "healthcheck", "engine_socket",
                  "extra_hosts", "network_mode")
    OUTPUTS = ("container_id",)
    #: exit status of a ``reload`` command asking for a restart instead (EX_TEMPFAIL)
    RESTART_EXIT_CODE = 75

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        base = super().diff(id_, olds, news)
        if not base.replaces:
            return base
        in_place = {k for k in ("files", "networks") if k in base.replaces and _in_place(k, olds, news)}
        replaces = [k for k in base.replaces if k not in in_place]
        return DiffResult(changes=True, replaces=replaces, stables=base.stables,
                          delete_before_replace=bool(replaces))

    def validate(self, news: dict[str, Any]) -> list[CheckFailure]:
        failures = check_labels(news)
        for key in (news.get("env") or {}) if not is_unknown(news.get("env")) else ():
            if _SECRET_ENV.search(key):
                failures.append(CheckFailure("env", f"container {news['name']}: env '{key}' looks like a "
                                                    f"secret; pass it as a file and set '{key}_FILE'"))
        nets = news["networks"]
        mode = news.get("network_mode")
        if mode is not None and not is_unknown(mode):
            if mode != HOST_NETWORK:
                failures.append(CheckFailure("network_mode", f"container {news['name']}: network_mode {mode!r}: "
                                                             f"only {HOST_NETWORK!r} (else name its networks)"))
            if not is_unknown(nets) and nets:
                failures.append(CheckFailure("networks", f"container {news['name']}: on the host network it "
                                                         f"joins no other network, got {len(nets)}"))
            if _known_list(news.get("ports")):
                failures.append(CheckFailure("ports", f"container {news['name']}: on the host network nothing is "
                                                      f"published; it binds the host's addresses itself"))
        if not is_unknown(nets):
            if not nets and mode is None:
                failures.append(CheckFailure("networks", f"container {news['name']}: needs at least one network"))
            for n in _known_list(nets):
                if not isinstance(n, dict) or "name" not in n:
                    failures.append(CheckFailure("networks", f"container {news['name']}: each network needs 'name'"))
                elif n.get("ipv4_address") and not is_unknown(n["ipv4_address"]):
                    try:
                        ipaddress.IPv4Address(n["ipv4_address"])
                    except ValueError:
                        failures.append(CheckFailure("networks", f"container {news['name']}: network {n['name']}: "
                                                                 f"'ipv4_address' is not an IPv4 address: "
                                                                 f"{n['ipv4_address']!r}"))
        for f in _known_list(news.get("files")):
            if is_unknown(f):
                continue
            if not isinstance(f, dict) or not str(f.get("path", "")).startswith("/") or "content" not in f:
                failures.append(CheckFailure("files", f"container {news['name']}: each file needs an "
                                                      f"absolute 'path' and 'content'"))
        for p in _known_list(news.get("ports")):
            if not is_unknown(p) and not (isinstance(p, dict) and isinstance(p.get("container_port"), int)
                                          and isinstance(p.get("host_port"), int)
                                          and isinstance(p.get("host_ip", ""), str)):
                failures.append(CheckFailure("ports", f"container {news['name']}: each port needs integer "
                                                      f"'container_port' and 'host_port' (and a string "
                                                      f"'host_ip' if any)"))
        policy = news.get("restart_policy")
        if policy is not None and not is_unknown(policy) and policy not in ("no", "always", "unless-stopped",
                                                                             "on-failure"):
            failures.append(CheckFailure("restart_policy", f"container {news['name']}: unknown restart "
                                                           f"policy {policy!r}"))
        hosts = news.get("extra_hosts")
        if hosts and not is_unknown(hosts):
            for hostname, address in hosts.items():
                try:
                    ipaddress.IPv4Address(address)
                except (ValueError, TypeError):
                    failures.append(CheckFailure("extra_hosts", f"container {news['name']}: extra_hosts "
                                                                f"{hostname!r}: not an IPv4 address: {address!r}"))
        host = news.get("docker_host")
        socket = news.get("engine_socket")
        if socket is True and not is_unknown(host) and not str(host).startswith("unix://"):
            failures.append(CheckFailure("engine_socket", f"container {news['name']}: 'engine_socket' true needs a "
                                                          f"unix:// docker_host (its socket is mounted); for {host!r} "
                                                          f"name the socket's path on that engine's host"))
        if isinstance(socket, str) and not socket.startswith("/"):
            failures.append(CheckFailure("engine_socket", f"container {news['name']}: 'engine_socket' {socket!r}: "
                                                          f"must be an absolute path on the engine's host"))
        return failures

    # -- create -------------------------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        import docker.errors
        from docker.types import Mount

        client = docker_client(props)
        api = client.api
        name = props["name"]
        self._remove_leftover(client, props)

        mounts = [Mount(target=m["target"], source=m["source"], type="volume",
                        read_only=bool(m.get("read_only"))) for m in props.get("mounts") or []]
        for d in _file_dirs(props):
            mounts.append(Mount(target=d, source=None, type="volume", labels=props["labels"]))
        ports = props.get("ports") or []
        group_add = None
        if props.get("engine_socket"):
            # the site supervisor (municloud/supervisor.py): the engine's socket, reachable by the
            # socket's group, so the container needs neither root nor a capability
            path = socket_path(props)
            mounts.append(Mount(target=ENGINE_SOCKET, source=path, type="bind"))
            group_add = [str(socket_group(client, props, path))]
        host_config = api.create_host_config(
            group_add=group_add,
            mounts=mounts,
            # Loopback unless a port names its host address (policy frontdoor-published-address).
            port_bindings={f"{p['container_port']}/tcp": (p.get("host_ip") or "127.0.0.1", p["host_port"])
                           for p in ports},
            restart_policy={"Name": props.get("restart_policy") or "unless-stopped"},
            cap_drop=["ALL"], cap_add=props.get("cap_add") or None,
            read_only=bool(props.get("read_only")), tmpfs=props.get("tmpfs") or None,
            security_opt=["no-new-privileges:true"], network_mode=props.get("network_mode") or props["networks"][0]["name"],
            init=True, dns_opt=list(DNS_OPTIONS), extra_hosts=props.get("extra_hosts") or None,
        )
        networking = None
        if props["networks"]:
            first = props["networks"][0]
            networking = api.create_networking_config(
                {first["name"]: api.create_endpoint_config(aliases=first.get("aliases") or None,
                                                           ipv4_address=first.get("ipv4_address") or None)})
        created = api.create_container(
            props["image"], name=name, command=props.get("command") or None, user=props.get("user") or None,
            environment=props.get("env") or {}, labels=props["labels"], host_config=host_config,
            networking_config=networking, ports=[p["container_port"] for p in ports] or None,
            healthcheck=_healthcheck(props.get("healthcheck")),
        )
        cid = created["Id"]
        try:
            for net in props["networks"][1:]:
                api.connect_container_to_network(cid, net["name"], aliases=net.get("aliases") or None,
                                                 ipv4_address=net.get("ipv4_address") or None)
            for d in _file_dirs(props):
                # into the volume at d: allowed even when the root filesystem is read-only
                api.put_archive(cid, d, _tar([f for f in props["files"] if posixpath.dirname(f["path"]) == d]))
            if props.get("start", True):
                api.start(cid)
                _wait_healthy(client, cid, name, props.get("health_timeout") or 120)
        except BaseException:
            # Create is transactional: a half-made container would block the next attempt by name.
            try:
                api.remove_container(cid, force=True, v=True)
            except docker.errors.APIError:
                pass
            raise
        return CreateResult(cid, {**props, "container_id": cid})

    def _remove_leftover(self, client, props) -> None:
        import docker.errors

        try:
            old = client.containers.get(props["name"])
        except docker.errors.NotFound:
            return
        if old.labels.get("municloud.stack") != props["labels"].get("municloud.stack"):
            raise ContainerStartError(f"container {props['name']} already exists on {props['docker_host']} "
                                      f"and is not labelled for this stack")
        old.remove(force=True, v=True)

    # -- update / read / delete -----------------------------------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = docker_client(news)
        api = client.api
        api.update_container(id_, restart_policy={"Name": news.get("restart_policy") or "unless-stopped"})
        if olds.get("networks") != news.get("networks"):
            old = {n["name"] for n in olds.get("networks") or []}
            new = {n["name"] for n in news["networks"]}
            for net in news["networks"][1:]:
                if net["name"] not in old:
                    api.connect_container_to_network(id_, net["name"], aliases=net.get("aliases") or None,
                                                     ipv4_address=net.get("ipv4_address") or None)
            for name in sorted(old - new):
                api.disconnect_container_from_network(id_, name)
        if olds.get("files") != news.get("files"):
            old_files = {f["path"]: f for f in olds.get("files") or []}
            changed = {posixpath.dirname(f["path"]) for f in news["files"] if old_files.get(f["path"]) != f}
            for d in sorted(changed):
                api.put_archive(id_, d, _tar([f for f in news["files"] if posixpath.dirname(f["path"]) == d]))
            if api.inspect_container(id_)["State"].get("Running"):
                self._reload(client, id_, news)
        return UpdateResult({**news, "container_id": id_})

    def _reload(self, client, id_: str, props: dict[str, Any]) -> None:
        """Run the reload command; exit 75 = restart wanted (then wait until healthy again)."""
        api = client.api
        exec_id = api.exec_create(id_, props["reload"], user=props.get("user") or "")["Id"]
        output = api.exec_start(exec_id).decode(errors="replace").strip()
        code = api.exec_inspect(exec_id)["ExitCode"]
        if code == self.RESTART_EXIT_CODE:
            api.restart(id_, timeout=30)
            _wait_healthy(client, id_, props["name"], props.get("health_timeout") or 120)
        elif code != 0:
            raise ContainerStartError(f"container {props['name']}: reload {props['reload']} failed "
                                      f"(exit {code}): {output[-2000:]}")

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """What the program manages, as the engine has it now (``pulumi refresh``).

        Only what the program set is compared: its labels and env (the image's own labels and env,
        which Docker merges into every container, are not the program's and are left out unless a
        hand edit changed them), the image reference, the restart policy, the networks it joined.
        A container removed by hand reads as gone, so the next ``up`` creates it again.
        """
        import docker.errors

        client = docker_client(props)
        try:
            c = client.containers.get(id_)
        except docker.errors.NotFound:
            return ReadResult("", {})
        return ReadResult(id_, live_view(props, c.attrs, _image_config(client, c.attrs.get("Image"))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        import docker.errors

        client = docker_client(props)
        try:
            c = client.containers.get(id_)
        except docker.errors.NotFound:
            return
        try:
            c.stop(timeout=10)
        except docker.errors.APIError:
            pass
        c.remove(force=True, v=True)


def live_view(props: dict[str, Any], attrs: dict[str, Any], image_config: dict[str, Any] | None) -> dict[str, Any]:
    """The container's managed properties from ``docker inspect`` data (``attrs``).

    ``image_config`` is the image's ``Config`` (None when the image is gone): what the container
    inherits from it is not drift. Without it only the keys the program set can be compared.
    """
    config = attrs.get("Config") or {}
    host = attrs.get("HostConfig") or {}
    inherited = image_config or {}
    live = dict(props)
    live["name"] = attrs.get("Name", "").lstrip("/") or props.get("name")
    live["image"] = config.get("Image") or props.get("image")
    live["labels"] = _managed(props.get("labels") or {}, config.get("Labels") or {},
                              inherited.get("Labels") or {}, image_config is not None)
    if "env" in props:
        live["env"] = _managed(props.get("env") or {}, _env_dict(config.get("Env")),
                               _env_dict(inherited.get("Env")), image_config is not None)
    live["restart_policy"] = (host.get("RestartPolicy") or {}).get("Name") or "no"
    if "extra_hosts" in props:  # /etc/hosts entries the program set (other sites' names), as Docker holds them
        live["extra_hosts"] = dict(entry.rsplit(":", 1) for entry in host.get("ExtraHosts") or [] if ":" in entry)
    attached = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    if "network_mode" in props:  # the engine lists its host mode as a network: not one the program joined
        live["network_mode"] = host.get("NetworkMode") or props["network_mode"]
        attached = {k: v for k, v in attached.items() if k != live["network_mode"]}
    declared = [n for n in props.get("networks") or [] if isinstance(n, dict)]
    kept = [n for n in declared if n.get("name") in attached]
    extra = [{"name": name} for name in sorted(attached) if name not in {n.get("name") for n in declared}]
    live["networks"] = kept + extra
    return live


def _managed(declared: dict[str, Any], live: dict[str, Any], inherited: dict[str, Any],
             know_inherited: bool) -> dict[str, Any]:
    """``live`` as the program sees it: every declared key (if still present), plus any other key
    that neither the program nor the image set (a hand edit), when the image's keys are known."""
    view = {k: live[k] for k in declared if k in live}
    if know_inherited:
        view.update({k: v for k, v in live.items() if k not in declared and inherited.get(k) != v})
    return view


def _env_dict(env: list[str] | None) -> dict[str, str]:
    return dict(item.split("=", 1) if "=" in item else (item, "") for item in env or [])


def _image_config(client, image_id: str | None) -> dict[str, Any] | None:
    import docker.errors

    if not image_id:
        return None
    try:
        return client.api.inspect_image(image_id).get("Config") or {}
    except docker.errors.NotFound:
        return None


def _in_place(key: str, olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Whether a change of ``files`` or ``networks`` can be applied to the running container.

    Files: the same paths and the same reload command; a content may still be unknown (a preview
    before the configuration it comes from is rendered again): the paths decide, so the preview
    shows the in-place update that ``up`` then applies."""
    new = news.get(key)
    if not isinstance(new, list) or not new:
        return False
    old = olds.get(key) or []
    if key == "networks":  # the first network is the container's network mode; aliases are set on connect
        if is_unknown(new):
            return False
        before = {n["name"]: n for n in old}
        return bool(old) and old[0] == new[0] and all(before.get(n["name"], n) == n for n in new)
    reload = news.get("reload")
    if not reload or is_unknown(reload) or reload != olds.get("reload"):
        return False
    if any(not isinstance(f, dict) or is_unknown({k: v for k, v in f.items() if k != "content"}) for f in new):
        return False  # a path (or mode, owner) not known yet: cannot tell
    return sorted(f["path"] for f in old) == sorted(f["path"] for f in new)


def _known_list(value: Any) -> list:
    """The list, or nothing while it is unknown (preview); items may still be unknown."""
    return value if isinstance(value, list) else []


def _healthcheck(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """A healthcheck overriding the image's (``test`` as exec list, seconds as ints)."""
    if not spec:
        return None
    return {"test": ["CMD", *spec["test"]], "interval": int(spec.get("interval_s", 2) * 1e9),
            "timeout": int(spec.get("timeout_s", 3) * 1e9), "retries": int(spec.get("retries", 30)),
            "start_period": int(spec.get("start_period_s", 0) * 1e9)}


def _file_dirs(props: dict[str, Any]) -> list[str]:
    return sorted({posixpath.dirname(f["path"]) for f in props.get("files") or []})


def _tar(files: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for f in sorted(files, key=lambda f: f["path"]):
            data = f["content"].encode()
            info = tarfile.TarInfo(posixpath.basename(f["path"]))
            info.size = len(data)
            info.mode = int(f.get("mode", 0o400))
            info.uid = int(f.get("uid", 0))
            info.gid = int(f.get("gid", info.uid))
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _wait_healthy(client, cid: str, name: str, timeout_s: int) -> None:
    deadline = time.monotonic() + timeout_s
    # the image's own check, run by us soon after start and then less often (0.5 s after start, the
    # gaps growing to 1 s): most containers are ready within 1-4 s, and a deploy waits for them in
    # a chain (PostgreSQL, its standby, the services), so each step's wait costs the whole up; each
    # probe is a docker exec (~0.1 s of CPU), so not more often than that
    started = time.monotonic()
    probe_every = 0.5
    next_probe = started + probe_every
    state: dict[str, Any] = {}
    info: dict[str, Any] = {}
    while time.monotonic() < deadline:
        info = client.api.inspect_container(cid)
        state = info["State"]
        health = (state.get("Health") or {}).get("Status")
        # a crash loop under the restart policy will not heal by waiting
        if state.get("Status") in ("exited", "dead") or info.get("RestartCount", 0) >= 2:
            break
        if health == "healthy" or (health is None and state.get("Running")):
            return
        if health == "starting" and time.monotonic() >= next_probe:
            if _bounded_probe(client, cid, info):
                return
            now = time.monotonic()
            probe_every = min(PROBE_FAST_S if now - started < PROBE_SLOW_AFTER_S else PROBE_MAX_GAP_S,
                              probe_every * 1.5)
            next_probe = now + probe_every
        time.sleep(max(0.05, min(0.5, next_probe - time.monotonic())))
    logs = client.api.logs(cid, tail=_LOG_TAIL).decode(errors="replace").rstrip()
    status = state.get("Status"), (state.get("Health") or {}).get("Status"), state.get("ExitCode")
    restarts = info.get("RestartCount", 0)
    why = f"crash-looped ({restarts} restarts)" if restarts >= 2 else (
        "exited" if state.get("Status") in ("exited", "dead") else f"did not become healthy within {timeout_s} s")
    raise ContainerStartError(
        f"container {name} {why} "
        f"(status={status[0]}, health={status[1]}, exit={status[2]}); last log lines:\n{logs}")


def _bounded_probe(client, cid: str, info: dict[str, Any]) -> bool:
    """``_probe`` when a probe slot is free; False (probe again later) when every slot is busy."""
    if not PROBE_SLOTS.acquire(blocking=False):
        return False
    try:
        return _probe(client, cid, info)
    finally:
        PROBE_SLOTS.release()


def _probe(client, cid: str, info: dict[str, Any]) -> bool:
    """Run the container's own healthcheck command once; True when it exits 0."""
    import docker.errors

    test = (info.get("Config", {}).get("Healthcheck") or {}).get("Test") or []
    if not test or test[0] not in ("CMD", "CMD-SHELL"):
        return False
    cmd = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
    try:
        exec_id = client.api.exec_create(cid, cmd, user=info["Config"].get("User") or "")["Id"]
        client.api.exec_start(exec_id)
        return client.api.exec_inspect(exec_id)["ExitCode"] == 0
    except docker.errors.APIError:
        return False  # e.g. the container restarted between inspect and exec


class Container(Resource, module="municloud", name="Container"):
    """A container of the consortium; see the module docstring for what replaces it."""

    container_id: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: pulumi.Input[str], docker_host: pulumi.Input[str],
                 image: pulumi.Input[str], labels: dict, networks: list,
                 env: dict | None = None, command: list | None = None, user: str | None = None,
                 mounts: list | None = None, tmpfs: dict | None = None, ports: list | None = None,
                 restart_policy: str = "unless-stopped", cap_add: list | None = None,
                 read_only: bool = False, files: list[dict] | None = None,
                 health_timeout: int = 120, start: bool = True, healthcheck: dict | None = None,
                 reload: list | None = None, engine_socket: bool | str = False, extra_hosts: dict | None = None,
                 network_mode: str | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"name": name, "docker_host": docker_host, "image": image, "labels": labels,
                 "networks": networks, "env": env or {}, "command": command or [], "user": user or "",
                 "mounts": mounts or [], "tmpfs": tmpfs or {}, "ports": ports or [],
                 "restart_policy": restart_policy, "cap_add": cap_add or [], "read_only": read_only,
                 "files": files if files is not None else [], "health_timeout": health_timeout,
                 "start": start, "healthcheck": healthcheck or {}, "container_id": None}
        if reload:  # only when given, so the state of containers without one is unchanged
            props["reload"] = reload
        if engine_socket:  # likewise; a path: the socket on a remote engine's own host
            props["engine_socket"] = engine_socket
        if extra_hosts:  # likewise: /etc/hosts entries for names on another engine (no shared DNS)
            props["extra_hosts"] = dict(extra_hosts)
        if network_mode:  # likewise: the engine host's network namespace (``networks`` then empty)
            props["network_mode"] = network_mode
        props |= engine_props(docker_host)
        if files is not None:
            # every content is secret (keys, passwords, and the rest need not be shown either); the
            # paths stay plain and known, so a preview can tell an in-place reload (same paths)
            # from a replacement while a content is not known yet (``_in_place``)
            props["files"] = [{**f, "content": pulumi.Output.secret(f["content"])} for f in files]
        super().__init__(ContainerProvider(), resource_name, props, opts)
