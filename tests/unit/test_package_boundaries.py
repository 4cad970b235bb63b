"""Packages by audience: the runtime kit (``municloud``) and the services import no operator
tooling (``municloud_ops``), no Pulumi program, no test support and no test or operator library;
the python image carries only the runtime kit and the services, without their tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from municloud_ops.images import app_sources

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
#: top-level modules the runtime may never import: operator and test code, and their libraries
FORBIDDEN = {"municloud_ops", "stacks", "support", "tests", "pytest", "docker", "pulumi", "locust",
             "ansible_runner", "testcontainers", "testinfra", "psycopg"}


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, at any depth of the code (absolute imports)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def forbidden_imports(source: str) -> set[str]:
    return {m for m in imported_modules(source) if m.split(".")[0] in FORBIDDEN}


def _runtime_files() -> list[Path]:
    files = list((ROOT / "municloud").rglob("*.py"))
    files += [p for p in (ROOT / "services").rglob("*.py") if "tests" not in p.relative_to(ROOT).parts]
    return files


def test_the_runtime_kit_and_services_import_no_operator_or_test_code():
    files = _runtime_files()
    assert len(files) > 50, "runtime sources not found"
    bad = {str(p.relative_to(ROOT)): sorted(forbidden_imports(p.read_text(encoding="utf-8"))) for p in files}
    assert not {k: v for k, v in bad.items() if v}


def test_twin_an_import_of_operator_tooling_inside_a_function_is_found():
    source = "import json\n\ndef f():\n    from municloud_ops.images import ensure_image\n    import docker.errors\n"
    assert forbidden_imports(source) == {"municloud_ops.images", "docker.errors"}
    assert forbidden_imports("from municloud.platform import codec\nimport asyncpg\n") == set()


def test_the_image_carries_only_the_runtime_kit_and_the_services_without_tests():
    names = [name for name, _data, _mode in app_sources()]
    assert any(n.startswith("app/municloud/service/") for n in names)
    assert any(n.startswith("app/services/residents_registry/") for n in names)
    outside = [n for n in names if not n.startswith(("app/municloud/", "app/services/"))]
    assert not outside
    assert not [n for n in names if "/tests/" in n or "municloud_ops" in n or "/testing/" in n]
