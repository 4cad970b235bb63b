"""Site supervisor: the one process that brings back a container of its site that died while it
was meant to run — ``docker kill`` included, which the engine's restart policy treats as a manual
stop (municloud/supervisor.py says exactly what it restarts and what it leaves alone).

It has no network at all, only the site engine's unix socket (mounted, reached through the
socket's group: no root, no capability), and a read-only root filesystem.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from municloud.supervisor import COMPONENT
from stacks.naming import docker_name, labels, urn_name
from stacks.providers.container import Container

APP_UID = 10001  # the python image's "app" user


@dataclass
class SupervisorArgs:
    """Inputs of a site supervisor."""

    stack: str
    """stack name (the supervisor watches only this stack's containers)"""
    site: str
    """site name (and only this site's)"""
    docker_host: str
    """the site's engine"""
    engine_socket: bool | str
    """that engine's socket to mount (SiteConfig.socket_mount)"""
    image: pulumi.Input[str]
    """the python image (it carries the municloud package)"""


class SiteSupervisor(pulumi.ComponentResource):
    """A container running ``python -m municloud.supervisor`` against its site's engine."""

    def __init__(self, name: str, args: SupervisorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("municloud:stack:SiteSupervisor", name, None, opts)
        a = args
        self.container_name = docker_name(a.stack, a.site, COMPONENT)
        self.container = Container(
            urn_name(a.site, COMPONENT), name=self.container_name, docker_host=a.docker_host, image=a.image,
            labels=labels(a.stack, a.site, COMPONENT), networks=[{"name": "none", "aliases": []}],
            command=["python", "-m", "municloud.supervisor", "--stack", a.stack, "--site", a.site],
            user=str(APP_UID), read_only=True, restart_policy="always",
            engine_socket=a.engine_socket,
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"container": self.container.name})
