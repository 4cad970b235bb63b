"""JSON whose meaning is ambiguous: repeated keys and NaN / Infinity.

Python's json keeps the last of two equal keys and reads NaN and Infinity, which the JSON
standard (RFC 8259) does not define; a 申告 with two `salary_income` keys has no single meaning.
`json_problem` finds the first such place and names it as a field path (`spouse.age`,
`members.0.birth_date`). Used by the calculation CLI and the services' request middleware.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["json_problem"]


class _Pairs(list):
    """A JSON object kept as its key/value pairs, so a repeated key can be seen and named."""


class _Problem(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class _NonNumber(str):
    """NaN / Infinity / -Infinity as read, so the walk can name where it stands."""


def _keep_constant(name: str) -> Any:
    return _NonNumber(name)


def _walk(value: Any, path: str) -> None:
    if isinstance(value, _NonNumber):
        raise _Problem(path or "(root)", f"{value} is not a number JSON allows")
    if isinstance(value, _Pairs):
        seen: set[str] = set()
        for key, item in value:
            where = f"{path}.{key}" if path else key
            if key in seen:
                raise _Problem(where, "duplicate key (each key once)")
            seen.add(key)
            _walk(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{path}.{i}" if path else str(i))


def json_problem(text: str | bytes) -> tuple[str, str] | None:
    """(field, reason) when `text` repeats a key or carries NaN/Infinity; None otherwise,
    including text that is not JSON at all (the caller's parser reports that itself)."""
    try:
        tree = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_keep_constant)
        _walk(tree, "")
    except _Problem as exc:
        return exc.field, exc.reason
    except RecursionError:  # hostile nesting (100,000 levels): refused, not a 500
        return "(root)", "nested too deeply"
    except ValueError:
        return None
    return None
