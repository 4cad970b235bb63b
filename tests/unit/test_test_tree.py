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


def _collect(tmp_path, body: str):
    """Collect a one-test module under the project's root conftest (its tier rules) in a subprocess."""
    import subprocess
    import sys

    test_dir = ROOT / "tests" / f"_tier_probe_{tmp_path.name}"
    test_dir.mkdir()
    try:
        (test_dir / "test_probe.py").write_text("import pytest\n\n" + body)
        return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                               str(test_dir)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        import shutil

        shutil.rmtree(test_dir)


def test_a_test_without_a_tier_or_a_non_live_test_using_a_stack_is_refused(tmp_path):
    untiered = _collect(tmp_path, "def test_x():\n    pass\n")
    assert untiered.returncode != 0 and "tiers none" in untiered.stdout + untiered.stderr
    stacked = _collect(tmp_path, "@pytest.mark.unit\ndef test_x(live_stack):\n    pass\n")
    assert stacked.returncode != 0 and "uses a live stack but is marked unit" in stacked.stdout + stacked.stderr


def test_twin_a_test_with_one_tier_is_collected(tmp_path):
    ok = _collect(tmp_path, "@pytest.mark.live\ndef test_x(live_stack):\n    pass\n")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 test collected" in ok.stdout
