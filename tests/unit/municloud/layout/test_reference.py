"""docs/layout.md's item reference is exactly what the layout definitions say (regenerate with
`python -m municloud.layout.reference`), and it names every item, era and code value."""

import pytest

from municloud.layout import load_layout
from municloud.layout.definition import AREAS
from municloud.layout.reference import DOC, render, updated

pytestmark = pytest.mark.unit


def test_docs_item_reference_matches_the_definitions() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert updated(text) == text, "docs/layout.md drifted: run python -m municloud.layout.reference"


def test_reference_names_every_item_era_and_code_value() -> None:
    rendered = render()
    for area in AREAS:
        layout = load_layout(area)
        for item in layout.items:
            assert f"| {item.name} | `{item.key}` |" in rendered
        for table in layout.code_tables.values():
            assert all(f"`{code}` {label}" in rendered for code, label in table.items())
    assert "| 和暦 |" in rendered


def test_drift_is_detected() -> None:
    """The twin: a doc whose table differs from the definitions is rewritten."""
    text = DOC.read_text(encoding="utf-8").replace("| 宛名番号 |", "| 宛名番号X |", 1)
    assert updated(text) != text
