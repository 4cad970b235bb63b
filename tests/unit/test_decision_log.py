"""The decision log (docs/decisions.md) and its files stay in step: numbered without gaps, each
file with the sections a reader looks for, each listed once in the index with its title."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs"
SECTIONS = ("## Context", "## Decision", "## Consequences")


def _files() -> list[Path]:
    return sorted((DOCS / "decisions").glob("[0-9][0-9][0-9][0-9]-*.md"))


def test_a_pending_decision_has_the_sections_and_waits_for_its_number():
    """``pending-<slug>.md``: written on a branch, numbered and indexed when merged."""
    for path in sorted((DOCS / "decisions").glob("pending-*.md")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# NNNN — "), f"{path.name}: title must start with 'NNNN — '"
        assert re.search(r"^- Status: accepted$", text, re.M) and re.search(r"^- Date: \d{4}-\d{2}-\d{2}$", text, re.M)
        for section in SECTIONS:
            assert section in text, f"{path.name}: missing '{section}'"
    others = [p.name for p in (DOCS / "decisions").glob("*.md") if p not in _files() and not p.name.startswith("pending-")]
    assert not others, f"neither NNNN-<slug>.md nor pending-<slug>.md: {others}"


def test_every_decision_is_numbered_in_order_with_its_sections():
    files = _files()
    assert files, "no decisions recorded"
    numbers = []
    for path in files:
        match = re.fullmatch(r"(\d{4})-[a-z0-9-]+\.md", path.name)
        assert match, f"{path.name}: expected NNNN-<slug>.md"
        numbers.append(int(match.group(1)))
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"# {match.group(1)} — "), f"{path.name}: title must start with its number"
        assert re.search(r"^- Status: (proposed|accepted|superseded by \d{4}|deprecated)$", text, re.M), path.name
        assert re.search(r"^- Date: \d{4}-\d{2}-\d{2}$", text, re.M), path.name
        for section in SECTIONS:
            assert section in text, f"{path.name}: missing '{section}'"
    assert numbers == list(range(1, len(numbers) + 1)), f"numbers have gaps or repeats: {numbers}"


def test_the_index_lists_each_decision_once_with_its_title_and_status():
    index = (DOCS / "decisions.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d{4}) \| \[(.+)\]\(decisions/([^)]+)\) \| ([a-z0-9 ]+) \|$", index, re.M)
    assert [r[2] for r in rows] == [p.name for p in _files()], "index and files differ"
    for number, title, name, status in rows:
        text = (DOCS / "decisions" / name).read_text(encoding="utf-8")
        assert text.splitlines()[0] == f"# {number} — {title}", name
        assert f"- Status: {status}" in text, name
