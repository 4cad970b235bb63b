"""Configuration rendered by an Ansible role (connection local) as a dynamic resource.

The role writes into a per-resource directory under the state dir; its files become the
``files`` output that the Container provider copies into the container. The role runs again
only when its variables or the role's own files change (``diff``), and a rerun of an unchanged
role reports changed=0. Pulumi creates these resources side by side; their renders share
ansible-runner runs (``GroupCommit``: one run for every render that arrives while the others
run), so a consortium's dozens of clusters cost a few interpreter starts, not one each. Creates
and updates render in separate lanes (``municloud_ops.ansible.LANES``): a new container's configuration
does not wait behind re-renders of running ones.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ._base import ValidatingProvider, is_unknown


def role_digest(role: str) -> str:
    """Hash of the role's files and of the controller-side actions roles use."""
    from municloud_ops.ansible import ACTION_PLUGINS_PATH, ROLES_PATH

    h = hashlib.sha256()
    for base, root in ((ROLES_PATH, ROLES_PATH / role), (ACTION_PLUGINS_PATH.parent, ACTION_PLUGINS_PATH)):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def _render(props: dict[str, Any], lane: str) -> dict[str, Any]:
    from municloud_ops.ansible import AnsibleRunError, shared_group_commit
    from municloud_ops.images import STATE_DIR

    out_dir = STATE_DIR / "rendered" / props["instance"]
    # the provider process's one GroupCommit (this module may arrive pickled by value: the state
    # lives in municloud_ops.ansible, which is imported for real)
    run = shared_group_commit(STATE_DIR, lane).apply(props["role"], props["instance"],
                                {**props["variables"], props["output_var"]: str(out_dir)})
    if run.status != "successful":
        raise AnsibleRunError(f"role {props['role']} for {props['instance']}: {run.status} (rc={run.rc}), "
                              f"stats={run.stats}; {'; '.join(run.failures) or 'no failed task reported'}; "
                              f"see {STATE_DIR}/ansible/")
    files = {p.relative_to(out_dir).as_posix(): p.read_text() for p in sorted(Path(out_dir).rglob("*")) if p.is_file()}
    return {**props, "files": files, "role_digest": role_digest(props["role"]), "run": run.sentence()}


class RenderedConfigProvider(ValidatingProvider):
    KIND = "rendered config"
    REQUIRED = {"role": str, "instance": str, "output_var": str, "variables": dict}
    REPLACE_ON = ()
    OUTPUTS = ("files", "role_digest", "run")

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['role']}-{props['instance']}", _render(props, "create"))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        base = super().diff(id_, olds, news)
        if base.changes or is_unknown(news.get("role")):
            return base
        if role_digest(news["role"]) != olds.get("role_digest"):
            return DiffResult(changes=True, replaces=[], stables=[], delete_before_replace=False)
        return DiffResult(changes=False)

    def update(self, _id, _olds, news) -> UpdateResult:
        return UpdateResult(_render(news, "update"))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, dict(props))

    def delete(self, _id, props) -> None:
        import shutil

        from municloud_ops.images import STATE_DIR

        shutil.rmtree(STATE_DIR / "rendered" / props["instance"], ignore_errors=True)


class RenderedConfig(Resource, module="municloud", name="RenderedConfig"):
    """Files rendered by ``roles/<role>``; ``files`` maps a relative path to its content."""

    files: pulumi.Output[dict]

    def __init__(self, resource_name: str, *, role: str, instance: str, output_var: str,
                 variables: pulumi.Input[dict], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(RenderedConfigProvider(), resource_name,
                         {"role": role, "instance": instance, "output_var": output_var, "variables": variables,
                          "files": None, "role_digest": None, "run": None}, opts)
