"""Sample rows for the layout tests (imported by the test modules beside it)."""

from __future__ import annotations

import random
from datetime import date

from municloud import ids
from municloud.layout import load_layout

RESIDENTS = load_layout("住民基本台帳")
LGCODE = "053031"


def resident(serial: int, **overrides: object) -> dict[str, object]:
    rng = random.Random(serial)
    row: dict[str, object] = {
        "atena_number": ids.new_atena_number(LGCODE, serial),
        "household_number": ids.new_household_number(LGCODE, (serial + 1) // 2),
        "resident_record_code": ids.resident_record_code_for_serial(LGCODE, serial),
        "my_number": ids.generate_my_number(rng),
        "family_name": "佐藤",
        "given_name": "花子" if serial % 2 else "太郎",
        "family_name_kana": "サトウ",
        "given_name_kana": "ハナコ" if serial % 2 else "タロウ",
        "birth_date": date(1950 + serial % 60, 1 + serial % 12, 1 + serial % 28),
        "sex": "2" if serial % 2 else "1",
        "relationship": "世帯主" if serial % 2 else "妻",
        "status": "1", "status_date": None, "next_address": None, "next_lgcode": None,
        "resident_since": date(1990, 4, 1),
        "address": "秋田県鹿角郡小坂町小坂字中前田１２番地",
        "address_since": date(2019, 5, 1),
        "notified_on": date(2019, 5, 7),
        "previous_address": None,
        "move_reason": "01",
        "moved_on": date(2019, 5, 1),
    }
    row.update(overrides)
    return row


ROWS = [resident(n) for n in range(1, 21)]


def lines_of(data: bytes, encoding: str = "utf-8") -> list[str]:
    return data.decode(encoding).split("\r\n")


def set_cell(data: bytes, line: int, item: str, text: str) -> bytes:
    lines = lines_of(data)
    cells = lines[line - 1][1:-1].split('","')
    cells[RESIDENTS.header.index(item)] = text
    lines[line - 1] = '"' + '","'.join(cells) + '"'
    return "\r\n".join(lines).encode()
