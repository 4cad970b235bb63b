"""Proof that a change of the program's code leaves an existing stack alone.

``python -m stacks.migration before NAME`` brings a throwaway stack up from the code of the tree
it runs from (``PYTHONPATH`` = that tree) and records its resources' URNs (``--urns FILE``);
``python -m stacks.migration after NAME --code TREE`` points the same scratch project at another
tree's ``stacks/`` and runs ``preview`` then ``up`` on the same state: every step other than
``same`` is listed, and the exit status is 1 if any custom resource (a Docker object, a secret,
a certificate, a rendered configuration) would be created, updated, replaced or deleted.
Components (logical grouping, no physical object) and the dynamic-provider plugin's own provider
resource may appear; they are counted apart.
``python -m stacks.migration destroy NAME`` removes the stack. docs/stack.md ("Refactoring
without touching a running consortium") shows the whole procedure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stacks.automation import REPO_ROOT

#: URN type tokens of component resources (no provider object behind them)
COMPONENT_PREFIX = "municloud:stack:"
_RECORD = "scratch.json"


def _state_dir(name: str) -> Path:
    from municloud_ops.images import STATE_DIR

    return STATE_DIR / "test-stacks" / name


def stack_urns(stack) -> list[str]:
    """The URNs of every resource in the stack's state (the stack resource and providers left out)."""
    deployment = stack.export_stack().deployment
    return sorted(r["urn"] for r in deployment.get("resources", [])
                  if r["type"] != "pulumi:pulumi:Stack" and not r["type"].startswith("pulumi:providers:"))


def before(name: str, urns_file: Path | None) -> str:
    from support.stack import open_stack

    live = open_stack(name)
    (_state_dir(name) / _RECORD).write_text(json.dumps({"work_dir": str(live.work_dir)}))
    result = live.up()
    urns = stack_urns(live.stack)
    if urns_file:
        urns_file.write_text("\n".join(urns) + "\n", encoding="utf-8")
    return (f"stack {name} up from {REPO_ROOT} with {len(urns)} resources "
            f"({result.summary.resource_changes})")


def _open(name: str, code: Path):
    from stacks.automation import ScratchStack, pulumi_env

    work_dir = Path(json.loads((_state_dir(name) / _RECORD).read_text())["work_dir"])
    link = work_dir / "stacks"
    link.unlink()
    link.symlink_to(code.resolve() / "stacks")
    scratch = ScratchStack(name, work_dir, pulumi_env(_state_dir(name) / "state"))
    return scratch.stack()


def classify(events: list) -> dict[str, list[str]]:
    """Steps of an engine event stream other than ``same``, by op, as ``op: [urn...]``."""
    ops: dict[str, list[str]] = {}
    for ev in events:
        step = ev.resource_pre_event
        if step is None or step.metadata.op.value == "same":
            continue
        ops.setdefault(step.metadata.op.value, []).append(step.metadata.urn)
    return ops


def _custom(urn: str) -> bool:
    """A resource with an object behind it: not one of our components, not a provider's own state."""
    type_ = urn.split("::")[2].rsplit("$", 1)[-1]
    return not type_.startswith((COMPONENT_PREFIX, "pulumi:providers:"))


def physical(ops: dict[str, list[str]]) -> dict[str, list[str]]:
    """The steps that touch a custom resource (see ``_custom``)."""
    return {op: [u for u in urns if _custom(u)] for op, urns in ops.items() if any(_custom(u) for u in urns)}


def after(name: str, code: Path, urns_file: Path | None) -> tuple[bool, str]:
    stack = _open(name, code)
    lines = []
    for verb in ("preview", "up"):
        events: list = []
        run = stack.preview if verb == "preview" else stack.up
        result = run(on_event=events.append, color="never", suppress_progress=True)
        ops = classify(events)
        touched = physical(ops)
        summary = result.change_summary if verb == "preview" else result.summary.resource_changes
        lines.append(f"{verb} with the code of {code}: {summary}; steps other than same: "
                     f"{ {op: len(u) for op, u in ops.items()} }; on custom resources: "
                     f"{ {op: u for op, u in touched.items()} or 'none'}")
        if touched:
            return False, "\n".join(lines)
    if urns_file:
        urns_file.write_text("\n".join(stack_urns(stack)) + "\n", encoding="utf-8")
    return True, "\n".join(lines)


def destroy(name: str) -> str:
    from support.stack import remove_labelled

    stack = _open(name, REPO_ROOT)
    stack.destroy(color="never", suppress_progress=True)
    stack.workspace.remove_stack(name)
    return f"destroyed stack {name} ({remove_labelled(name)} labelled objects left behind removed)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m stacks.migration", description=__doc__.split("\n\n")[0])
    p.add_argument("phase", choices=("before", "after", "destroy"))
    p.add_argument("name", help="throwaway stack name (from Pulumi.dev.yaml)")
    p.add_argument("--code", type=Path, default=REPO_ROOT, help="after: the tree whose stacks/ to run")
    p.add_argument("--urns", type=Path, help="write the stack's resource URNs to this file")
    a = p.parse_args(argv)
    if a.phase == "before":
        print(before(a.name, a.urns))
        return 0
    if a.phase == "destroy":
        print(destroy(a.name))
        return 0
    ok, report = after(a.name, a.code, a.urns)
    print(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
