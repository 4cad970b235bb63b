"""CSV codec of the intermediate standard layout (中間標準レイアウト) — OUR DESIGN.

Physical format (DOMAIN.md marks it OPEN): CSV, UTF-8 or Shift_JIS (cp932) chosen per file,
a header row of item names, every cell double-quoted, CRLF line ends, no BOM unless asked.
Encoding is byte-deterministic: the same rows give the same bytes.

Decoding validates every row and collects every problem (line, item, reason); `decode`
returns rows only when the whole file is valid, so an importer never sees a partial file.
Hostile input is bounded: file size limit, strict decoding, a field size limit, no embedded
line breaks, formula-like cells refused.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from municloud.layout.cells import CellError, format_cell, parse_cell
from municloud.layout.definition import LayoutDef

ENCODINGS = ("utf-8", "cp932")
MAX_FILE_BYTES = 256 * 1024 * 1024
# Longest cell the CSV parser accepts (characters); every item is far shorter (<= 4096).
MAX_FIELD_CHARS = 16 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
_FOREIGN_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class LayoutIssue:
    """One problem in a file: physical line (1 = header), item name (None = whole row/file)."""

    line: int
    item: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", item {self.item}" if self.item else "")
        return f"{where}: {self.reason}"


@dataclass
class LayoutReport:
    """Outcome of validating one file: rows read and every issue found."""

    area: str
    encoding: str
    rows: int = 0
    issues: list[LayoutIssue] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.issues

    def summary(self) -> str:
        if self.valid:
            return f"{self.area} file valid: {self.rows} rows ({self.encoding})"
        bad_lines = len({i.line for i in self.issues})
        return (f"{self.area} file invalid: {len(self.issues)} issues on {bad_lines} lines "
                f"of {self.rows} rows ({self.encoding}); nothing may be imported")

    def to_text(self) -> str:
        return "\n".join([self.summary(), *(str(i) for i in self.issues)])

    def to_dict(self) -> dict:
        return {"area": self.area, "encoding": self.encoding, "rows": self.rows,
                "valid": self.valid, "issues": [asdict(i) for i in self.issues]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


class LayoutError(Exception):
    """A layout file could not be written or read; `report` lists every issue."""

    def __init__(self, report: LayoutReport) -> None:
        super().__init__(report.to_text())
        self.report = report


class _Dialect(csv.Dialect):
    delimiter = ","
    quotechar = '"'
    doublequote = True
    escapechar = None
    lineterminator = "\r\n"
    quoting = csv.QUOTE_ALL
    skipinitialspace = False
    strict = True


def _check_encoding(encoding: str) -> str:
    normalised = encoding.lower().replace("_", "-")
    aliases = {"utf8": "utf-8", "shift-jis": "cp932", "sjis": "cp932", "ms932": "cp932",
               "windows-31j": "cp932"}
    normalised = aliases.get(normalised, normalised)
    if normalised not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}; got {encoding!r}")
    return normalised


def encode(layout: LayoutDef, rows: Iterable[Mapping[str, object]], *, encoding: str = "utf-8",
           bom: bool = False) -> bytes:
    """Write rows (dicts keyed by item key) as a layout file; raises LayoutError listing
    every cell that breaks the layout or cannot be written in the encoding."""
    encoding = _check_encoding(encoding)
    if bom and encoding != "utf-8":
        raise ValueError("a BOM is only written for utf-8")
    report = LayoutReport(layout.area, encoding)
    out = io.StringIO(newline="")
    writer = csv.writer(out, dialect=_Dialect)
    writer.writerow(layout.header)
    row_keys: dict[tuple, int] = {}
    for line, row in enumerate(rows, start=2):
        report.rows += 1
        cells = []
        issues_before = len(report.issues)
        for item in layout.items:
            try:
                text = format_cell(layout, item, row.get(item.key))
                text.encode(encoding)
            except CellError as exc:
                report.issues.append(LayoutIssue(line, item.name, exc.reason))
                text = ""
            except UnicodeEncodeError as exc:
                report.issues.append(LayoutIssue(
                    line, item.name, f"character {exc.start + 1} cannot be written in {encoding}"))
                text = ""
            cells.append(text)
        if len(report.issues) == issues_before:
            typed = {i.key: None if row.get(i.key) in (None, "") else row.get(i.key)
                     for i in layout.items}
            report.issues += _row_rules(layout, typed, line, row_keys)
        writer.writerow(cells)
    if report.issues:
        raise LayoutError(report)
    data = out.getvalue().encode(encoding)
    return UTF8_BOM + data if bom else data


def _decode_text(data: bytes, encoding: str, report: LayoutReport,
                 layout: LayoutDef | None = None) -> str | None:
    if len(data) > MAX_FILE_BYTES:
        report.issues.append(LayoutIssue(0, None, f"file is {len(data)} bytes; limit "
                                                  f"{MAX_FILE_BYTES}"))
        return None
    if data.startswith(_FOREIGN_BOMS):
        report.issues.append(LayoutIssue(1, None, "file starts with a UTF-16 byte order mark; "
                                                  "only utf-8 or cp932 are accepted"))
        return None
    if data.startswith(UTF8_BOM):
        if encoding != "utf-8":
            report.issues.append(LayoutIssue(1, None, f"file starts with a UTF-8 byte order "
                                                      f"mark but {encoding} was declared"))
            return None
        data = data[len(UTF8_BOM):]
    try:
        return data.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        report.issues.append(LayoutIssue(line, _item_at(layout, data, exc.start),
                                         f"byte {exc.start} is not valid {encoding} "
                                         f"(wrong encoding?)"))
        return None


def _item_at(layout: LayoutDef | None, data: bytes, offset: int) -> str | None:
    """Name of the item whose cell holds byte `offset` (None on the header row): the cells
    before it on its line are counted, reading the line's start leniently."""
    start = data.rfind(b"\n", 0, offset) + 1
    if layout is None or start == 0:
        return None
    prefix = data[start:offset].decode("ascii", errors="replace")
    if prefix.count('"') % 2:
        prefix += '"'  # close the cell the byte is in
    try:
        cells = next(csv.reader([prefix], dialect=_Dialect), [""])
    except csv.Error:
        return None
    index = len(cells) - 1
    return layout.items[index].name if 0 <= index < len(layout.items) else None


def validate(layout: LayoutDef, data: bytes, *, encoding: str = "utf-8") -> tuple[
        LayoutReport, list[dict[str, object]]]:
    """Read and check a whole file; returns the report and the typed rows (use the rows only
    when ``report.valid``)."""
    encoding = _check_encoding(encoding)
    report = LayoutReport(layout.area, encoding)
    text = _decode_text(data, encoding, report, layout)
    if text is None:
        return report, []
    if "\x00" in text:
        report.issues.append(LayoutIssue(text.count("\n", 0, text.index("\x00")) + 1, None,
                                         "file contains a NUL character"))
        return report, []
    previous_limit = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        rows = _read_rows(layout, text, report)
    finally:
        csv.field_size_limit(previous_limit)
    return report, rows


def _read_rows(layout: LayoutDef, text: str, report: LayoutReport) -> list[dict[str, object]]:
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_Dialect)
    rows: list[dict[str, object]] = []
    seen: dict[str, dict[object, int]] = {i.key: {} for i in layout.items if i.unique}
    row_keys: dict[tuple, int] = {}
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if line == 1:
                if cells != layout.header:
                    report.issues.append(LayoutIssue(1, None, _header_reason(layout, cells)))
                    return []
                continue
            report.rows += 1
            if line != reader.line_num:
                report.issues.append(LayoutIssue(line, None, "a cell contains a line break"))
                continue
            if len(cells) != len(layout.items):
                report.issues.append(LayoutIssue(
                    line, None, f"row has {len(cells)} cells; layout {layout.area} has "
                                f"{len(layout.items)}"))
                continue
            row: dict[str, object] = {}
            for item, cell in zip(layout.items, cells, strict=True):
                try:
                    row[item.key] = parse_cell(layout, item, cell)
                except CellError as exc:
                    report.issues.append(LayoutIssue(line, item.name, exc.reason))
                    continue
                if item.unique and row[item.key] is not None:
                    first = seen[item.key].setdefault(row[item.key], line)
                    if first != line:
                        report.issues.append(LayoutIssue(line, item.name,
                                                         f"duplicate of line {first}"))
            if len(row) == len(layout.items):
                report.issues += _row_rules(layout, row, line, row_keys)
            rows.append(row)
    except csv.Error as exc:
        report.issues.append(LayoutIssue(reader.line_num, None, f"not valid CSV: {exc}"))
    if start == 1:
        report.issues.append(LayoutIssue(1, None, "file is empty: no header row"))
    return rows


def _row_rules(layout: LayoutDef, row: dict[str, object], line: int,
               row_keys: dict[tuple, int]) -> list[LayoutIssue]:
    """Rules between items of one row, and the row key across rows."""
    issues = []
    for item in layout.items:
        if item.requires and row[item.key] is not None and row[item.requires] is None:
            issues.append(LayoutIssue(line, item.name, f"only allowed when "
                                                       f"{layout.item(item.requires).name} is given"))
        if item.required_with and row[item.key] is None and row[item.required_with] is not None:
            issues.append(LayoutIssue(line, item.name, f"required when "
                                                       f"{layout.item(item.required_with).name} "
                                                       f"is given"))
    if layout.row_key:
        key = tuple(row[k] for k in layout.row_key)
        first = row_keys.setdefault(key, line)
        if first != line:
            names = "+".join(layout.item(k).name for k in layout.row_key)
            issues.append(LayoutIssue(line, layout.item(layout.row_key[0]).name,
                                      f"duplicate {names} of line {first}"))
    return issues


def _header_reason(layout: LayoutDef, cells: list[str]) -> str:
    missing = [n for n in layout.header if n not in cells]
    unexpected = [c[:40] for c in cells if c not in layout.header]
    if not missing and not unexpected:
        return "header items are out of order"
    return (f"header does not match layout {layout.area} (wrong area or encoding?); "
            f"missing {missing[:5]}, unexpected {unexpected[:5]}")


def decode(layout: LayoutDef, data: bytes, *, encoding: str = "utf-8") -> list[dict[str, object]]:
    """All rows of a valid file; raises LayoutError with every issue otherwise."""
    report, rows = validate(layout, data, encoding=encoding)
    if not report.valid:
        raise LayoutError(report)
    return rows
