"""Image references are content-addressed: no floating tag.

Reason: ARCHITECTURE.md "Machines without a registry" and docs/decisions/0004 (images built
without a registry, content-addressed): every image is built here and tagged with the hash of its build context, so a
reference names exactly one content; ``:latest`` or a version tag can silently change what runs.
"""

from __future__ import annotations

import re

from policies.guardrails import UNKNOWN, Ctx, Res, Rule

CONTENT_TAG = re.compile(r"^[a-z0-9][a-z0-9._/-]*:[0-9a-f]{12,64}$")  # municloud_ops.images: <name>:<sha256[:12]>
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def content_addressed(ref: str) -> bool:
    return bool(CONTENT_TAG.match(ref) or DIGEST.search(ref))


def check(res: Res, ctx: Ctx) -> list[str]:
    ref = res.props.get("image")
    if ref is UNKNOWN or not isinstance(ref, str):
        return []  # an Image resource's tag, known once it is built: `pulumi up` analyzes it then
    if content_addressed(ref):
        return []
    return [f"{res} runs image {ref!r}, a floating reference: use a content-hash tag "
            f"(municloud_ops.images) or an @sha256 digest"]


RULE = Rule(
    name="image-content-addressed",
    description="Every container runs an image by content hash (municloud/<name>:<hash> or @sha256:...), never "
                "a floating tag such as :latest.",
    enforcement="mandatory", check=check, kinds=("Container",))
