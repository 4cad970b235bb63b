"""The item reference of docs/layout.md, generated from the same definitions the codec uses
(definitions/*.yaml): `python -m municloud.layout.reference` rewrites the generated section;
tests/unit/municloud/layout/test_reference.py fails when the docs drift from the definitions."""

from __future__ import annotations

import sys
from pathlib import Path

from municloud.layout.definition import AREAS, ItemDef, ItemType, LayoutDef, load_layout

BEGIN = "<!-- BEGIN GENERATED: python -m municloud.layout.reference -->"
END = "<!-- END GENERATED -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "layout.md"


def _type(item: ItemDef) -> str:
    if item.type is ItemType.NUMBER:
        return "数字 (fixed)" if item.fixed else "数字"
    return item.type.value


def _rules(layout: LayoutDef, item: ItemDef) -> str:
    notes = []
    if item.code_table:
        table = layout.code_tables[item.code_table]
        notes.append(f"{item.code_table}: " + ", ".join(f"`{k}` {v}" for k, v in table.items()))
    if item.check:
        notes.append(f"check `{item.check}` (municloud.ids)")
    if item.unique:
        notes.append("unique")
    if item.requires:
        notes.append(f"only with {layout.item(item.requires).name}")
    if item.required_with:
        notes.append(f"required with {layout.item(item.required_with).name}")
    if item.sensitive:
        notes.append("personal identifier")
    return "; ".join(notes)


def render() -> str:
    out = [BEGIN, ""]
    for area in AREAS:
        layout = load_layout(area)
        out += [f"### {layout.area} ({layout.unit}, version {layout.version})", ""]
        if layout.row_key:
            out += ["Row key: " + " + ".join(layout.item(k).name for k in layout.row_key), ""]
        out += ["| # | item (項目名) | key | type | length | required | era | rules, code values |",
                "|---|---|---|---|---|---|---|---|"]
        for n, item in enumerate(layout.items, start=1):
            era = item.calendar.value if item.calendar else ""
            out.append(f"| {n} | {item.name} | `{item.key}` | {_type(item)} | {item.length} | "
                       f"{'yes' if item.required else ''} | {era} | {_rules(layout, item)} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def updated(text: str) -> str:
    """`text` (docs/layout.md) with the generated section replaced by a fresh rendering."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + render() + text[end:]


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    fresh = updated(text)
    if fresh != text:
        DOC.write_text(fresh, encoding="utf-8")
        print(f"rewrote the item reference in {DOC}")
    else:
        print(f"the item reference in {DOC} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
