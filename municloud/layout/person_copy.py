"""The person items shared by the tax and nhi layouts: both services keep their own copy of the
resident (municloud/service/person_replica.py), kept from 住民異動通知."""

from __future__ import annotations

from collections.abc import Mapping

from municloud.layout.codec import LayoutIssue
from municloud.layout.definition import LayoutDef
from municloud.service.person_replica import STATUSES

Row = dict[str, object]
#: person status -> its layout code (the statuses are municloud.service.person_replica's)
STATUS = dict(zip(STATUSES, ("1", "2", "3")))
STATUS_OF_CODE = {code: status for status, code in STATUS.items()}
# layout item key -> column of taxpayers / persons
COLUMNS = {
    "atena_number": "atena_number", "household_number": "household_number",
    "my_number": "individual_number", "family_name": "family_name", "given_name": "given_name",
    "family_name_kana": "family_name_kana", "given_name_kana": "given_name_kana",
    "birth_date": "birth_date", "sex": "sex", "relationship": "relationship_to_head",
    "address": "address", "status": "status", "status_date": "status_date",
}


def person_cells(record: Mapping[str, object]) -> Row:
    """Layout values of one stored person."""
    row = {key: record[column] for key, column in COLUMNS.items()}
    row["status"] = STATUS[str(record["status"])]
    return row


def person_records(layout: LayoutDef, rows: list[Row]) -> tuple[list[tuple], list[LayoutIssue]]:
    """One record per person (in COLUMNS order); a person on several rows must be identical."""
    first: dict[object, tuple[int, tuple]] = {}
    issues = []
    for line, row in enumerate(rows, start=2):
        record = tuple(STATUS_OF_CODE[str(row[k])] if k == "status" else row[k] for k in COLUMNS)
        seen = first.setdefault(row["atena_number"], (line, record))
        if seen[0] != line and seen[1] != record:
            issues.append(LayoutIssue(line, layout.item("atena_number").name,
                                      f"person items differ from line {seen[0]}"))
    return [record for _, record in first.values()], issues
