"""Locally built image as a dynamic resource.

Builds through ``municloud_ops.images`` (the one image builder of the project): tags carry a content
hash, so ``diff`` can tell whether the build context changed by computing the tag it would get,
and a changed tag replaces the containers that use the image.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ._base import ValidatingProvider, docker_client, engine_props, is_unknown


def _planned_ref(props: dict[str, Any]) -> str:
    from municloud_ops import images

    # the tag depends on the build context only, wherever the image is then shipped: the local engine
    ctx = images.build_context(props["image"])
    return f"{images.IMAGE_PREFIX}/{props['image']}:{ctx.digest()}"


class ImageProvider(ValidatingProvider):
    KIND = "image"
    REQUIRED = {"image": str, "docker_host": str}
    OPTIONAL = {"docker_tls": dict}
    REPLACE_ON = ()
    OUTPUTS = ("ref",)

    def create(self, props: dict[str, Any]) -> CreateResult:
        from municloud_ops.images import ensure_image

        ref = ensure_image(props["image"], docker_client(props))
        return CreateResult(ref, {**props, "ref": ref})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        base = super().diff(id_, olds, news)
        if base.changes or is_unknown(news.get("image")) or is_unknown(news.get("docker_host")):
            return base
        # Unchanged inputs: the build context decides (a changed file gives a new tag).
        if _planned_ref(news) != olds.get("ref"):
            return DiffResult(changes=True, replaces=[], stables=[], delete_before_replace=False)
        return DiffResult(changes=False)

    def update(self, _id, _olds, news) -> UpdateResult:
        from municloud_ops.images import ensure_image

        return UpdateResult({**news, "ref": ensure_image(news["image"], docker_client(news))})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        import docker.errors

        try:
            docker_client(props).images.get(props["ref"])
        except docker.errors.ImageNotFound:
            return ReadResult("", {})
        return ReadResult(id_, dict(props))

    def delete(self, _id, _props) -> None:
        # Images are a cache shared by stacks and tests (content-addressed); removing one here
        # would only force a rebuild elsewhere. `docker image prune` reclaims space.
        return None


class Image(Resource, module="municloud", name="Image"):
    """An image from ``images/<name>/`` or ``services/<name>/``; ``ref`` is its content-hash tag."""

    ref: pulumi.Output[str]

    def __init__(self, resource_name: str, *, image: str, docker_host: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ImageProvider(), resource_name,
                         {"image": image, "docker_host": docker_host, "ref": None,
                          **engine_props(docker_host)}, opts)
