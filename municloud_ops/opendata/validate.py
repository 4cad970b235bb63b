"""Validation of a published file against its dataset's column definition, the small-cell rule
and the reader's attack (municloud_ops.opendata.audit). Operator tooling."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from municloud.ids import IdentifierError, validate_lgcode
from municloud.opendata.definition import Definition
from municloud.opendata.render import read_csv

AREA_CODE = re.compile(r"^[0-9]{7}$")


@dataclass
class Report:
    dataset: str
    rows: int = 0
    suppressed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def sentence(self) -> str:
        if self.ok:
            return (f"{self.dataset}: valid ({self.rows} rows, {self.suppressed} suppressed cells, "
                    "none recoverable from the published totals)")
        return f"{self.dataset}: {len(self.problems)} problems: " + "; ".join(self.problems[:5])


def validate(definition: Definition, data: bytes, *, lgcode: str, as_of: date,
             min_count: int = 3, audit: bool = True) -> Report:
    report = Report(definition.file_name)
    p = report.problems
    try:
        header, rows = read_csv(definition, data)
    except (ValueError, UnicodeDecodeError) as exc:
        p.append(str(exc))
        return report
    expected = [c.name for c in definition.columns]
    if header != expected:
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        p.append(f"header differs from the definition (missing {missing}, unexpected {extra}, "
                 "or order)")
        return report
    report.rows = len(rows)
    marker = definition.suppressed_marker
    ids, codes = set(), set()
    for n, row in enumerate(rows, start=2):
        where = f"line {n}"
        if len(row) != len(expected):
            p.append(f"{where}: {len(row)} fields, the definition has {len(expected)}")
            continue
        rec = dict(zip(expected, row, strict=True))
        try:
            if validate_lgcode(rec["全国地方公共団体コード"]) != lgcode:
                p.append(f"{where} 全国地方公共団体コード: {rec['全国地方公共団体コード']} is not {lgcode}")
        except IdentifierError as exc:
            p.append(f"{where} 全国地方公共団体コード: {exc.reason}")
        if not rec["ID"] or rec["ID"] in ids:
            p.append(f"{where} ID: empty or repeated")
        ids.add(rec["ID"])
        if not rec["地方公共団体名"] or not rec["地域名"]:
            p.append(f"{where}: 地方公共団体名 and 地域名 are required")
        if rec["調査年月日"] != as_of.isoformat():
            p.append(f"{where} 調査年月日: {rec['調査年月日']!r} is not {as_of.isoformat()} (YYYY-MM-DD)")
        if not AREA_CODE.match(rec["地域コード"]) or rec["地域コード"] in codes:
            p.append(f"{where} 地域コード: {rec['地域コード']!r} is not 7 digits or is repeated")
        codes.add(rec["地域コード"])
        for col in definition.count_columns:
            text = rec[col]
            if text == marker:
                report.suppressed += 1
            elif not text.isdigit() or not text.isascii():
                p.append(f"{where} {col}: {text!r} is neither a count nor {marker!r}")
            elif 0 < int(text) < min_count:
                p.append(f"{where} {col}: {text} is below {min_count} and published")
    if rows and rows[-1][4] != definition.total_area_code:
        p.append(f"last row: 地域コード must be {definition.total_area_code} (the whole municipality)")
    if p or not audit:
        return report
    from municloud_ops.opendata import audit as attack

    try:
        table = attack.published_table(definition, data)
        for eq_total, parts in table.equations():
            cells = (eq_total, *parts)
            if not any(c in table.suppressed for c in cells) and \
                    table.value(eq_total) != sum(table.value(c) for c in parts):
                p.append(f"{table.areas[eq_total[0]][1]} {eq_total[1]}: the published parts do not add up")
        if not p:
            for bound in (b for b in attack.bounds(table) if b.recovered):
                p.append(f"{bound.area} {bound.column}: suppressed but recoverable from the totals "
                         f"(bounds {bound.low:g}..{bound.high:g})")
    except ValueError as exc:
        p.append(str(exc))
    return report
