"""Shared steps of the role tests: one role run into a tmp dir, and the refusal every bad input gets."""

from __future__ import annotations

from pathlib import Path

from municloud_ops.ansible import AnsibleRunner, RoleRun


def render(tmp_path: Path, role: str, variables: dict) -> tuple[RoleRun, Path]:
    """Run ``role`` with ``variables`` into ``tmp_path/o``; the run and that directory."""
    out = tmp_path / "o"
    return AnsibleRunner(tmp_path / "state").apply_role(role, {**variables, f"{role}_output_dir": str(out)}), out


def assert_refused(run: RoleRun, out: Path, named: str) -> None:
    """The run failed, a failed task's message says ``named``, and nothing was written."""
    assert run.status == "failed" and run.rc != 0
    assert any(named in f for f in run.failures), run.failures
    assert not out.exists()


def render_twice(tmp_path: Path, role: str, variables: dict) -> tuple[RoleRun, RoleRun, Path]:
    """Two runs with the same inputs into the same directory (the second must change nothing)."""
    first, out = render(tmp_path, role, variables)
    second, _ = render(tmp_path, role, variables)
    return first, second, out
