"""Helpers of the infra tier: testinfra hosts for containers, containers by label."""

from __future__ import annotations

import testinfra
from testinfra.backend.docker import DockerBackend
from testinfra.host import Host

SERVICES = ("residents_registry", "tax", "nhi")


class EngineDockerBackend(DockerBackend):
    """testinfra's `docker exec` sent to the engine a container lives on: a site host's engine at
    its own address over tcp+TLS with the consortium CA's client certificate (the same engine the
    program made the container on), not the machine's."""

    NAME = "docker-engine"

    def __init__(self, name: str, engine_args: list[str], *args, **kwargs):
        self.engine_args = engine_args
        super().__init__(name, *args, **kwargs)

    def run(self, command: str, *args: str, **kwargs):
        cmd = self.get_command(command, *args)
        user = ["-u", self.user] if self.user is not None else []
        words = [*self.engine_args, "exec", *user, self.name, "/bin/sh", "-c", cmd]
        out = self.run_local("docker" + " %s" * len(words), *words)
        out.command = self.encode(cmd)
        return out


def engine_args(client) -> list[str]:
    """The docker CLI's flags that reach ``client``'s engine: none for the machine's own socket,
    ``-H tcp://ADDR:PORT --tlsverify`` with the client's CA and certificate for a site host."""
    api = client.api
    if not api.base_url.startswith("https://"):
        return []
    cert, key = api.cert
    return ["-H", api.base_url.replace("https://", "tcp://", 1), "--tlsverify", f"--tlscacert={api.verify}",
            f"--tlscert={cert}", f"--tlskey={key}"]


def host(target, user: str | None = None):
    """A testinfra host of a container: by name on the machine's engine, or a docker-py container
    object, reached on the engine it was found on (its site host's, through that engine's address)."""
    if isinstance(target, str):
        return testinfra.get_host(f"docker://{user + '@' if user else ''}{target}")
    flags = engine_args(target.client)
    if not flags:
        return host(target.name, user)
    return Host(EngineDockerBackend(f"{user + '@' if user else ''}{target.name}", flags))


def by_component(containers, component: str, lgcode: str | None = None) -> list[str]:
    return sorted(n for n, c in containers.items() if c.labels["municloud.component"] == component
                  and (lgcode is None or c.labels["municloud.lgcode"] == lgcode))
