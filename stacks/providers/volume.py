"""Docker named volume as a dynamic resource (PostgreSQL data, backup repository)."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from ._base import ValidatingProvider, check_labels, docker_client, engine_props


class VolumeProvider(ValidatingProvider):
    KIND = "volume"
    REQUIRED = {"name": str, "docker_host": str, "labels": dict}
    OPTIONAL = {"docker_tls": dict}
    REPLACE_ON = ("name", "docker_host", "labels")

    def validate(self, news):
        return check_labels(news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        import docker.errors

        client = docker_client(props)
        try:
            existing = client.volumes.get(props["name"])
        except docker.errors.NotFound:
            existing = None
        if existing is not None:
            if (existing.attrs.get("Labels") or {}) != props["labels"]:
                raise docker.errors.APIError(
                    f"volume {props['name']} already exists on {props['docker_host']} and is not ours")
            return CreateResult(existing.name, dict(props))
        vol = client.volumes.create(name=props["name"], driver="local", labels=props["labels"])
        return CreateResult(vol.name, dict(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        import docker.errors

        try:
            vol = docker_client(props).volumes.get(id_)
        except docker.errors.NotFound:
            return ReadResult("", {})
        return ReadResult(id_, {**props, "labels": vol.attrs.get("Labels") or {}})

    def update(self, _id, _olds, news) -> UpdateResult:
        return UpdateResult(dict(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        import docker.errors

        try:
            docker_client(props).volumes.get(id_).remove(force=True)
        except docker.errors.NotFound:
            pass


class Volume(Resource, module="municloud", name="Volume"):
    """A named Docker volume; deleted with the stack (``protect`` it in production)."""

    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: pulumi.Input[str], docker_host: pulumi.Input[str],
                 labels: pulumi.Input[dict], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(VolumeProvider(), resource_name,
                         {"name": name, "docker_host": docker_host, "labels": labels,
                          **engine_props(docker_host)}, opts)
