"""The test tree itself: pytest's default import mode needs unique test-module basenames."""

from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _basename_clashes(paths):
    seen = defaultdict(list)
    for p in paths:
        # Modules inside a package (a dir with __init__.py) are imported by dotted name: no clash.
        if not (p.parent / "__init__.py").exists():
            seen[p.name].append(p)
    return {name: ps for name, ps in seen.items() if len(ps) > 1}


def test_no_two_test_modules_share_a_basename():
    tests = [p for d in ("tests", "services") for p in (ROOT / d).rglob("test_*.py")]
    assert tests, "no test modules found"
    clashes = _basename_clashes(tests)
    assert not clashes, f"rename one of each: { {k: [str(p.relative_to(ROOT)) for p in v] for k, v in clashes.items()} }"


def test_the_clash_check_finds_a_clash(tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "test_x.py").write_text("")
    assert set(_basename_clashes(list(tmp_path.rglob("test_*.py")))) == {"test_x.py"}
