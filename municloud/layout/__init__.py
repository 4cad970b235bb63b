"""Intermediate standard layout (中間標準レイアウト): definitions and the CSV codec.

Physical format, encodings, item lists and code tables are OUR DESIGN (DOMAIN.md marks the
J-LIS specification OPEN); see docs/layout.md.
"""

from municloud.layout.codec import (
    ENCODINGS,
    LayoutError,
    LayoutIssue,
    LayoutReport,
    decode,
    encode,
    validate,
)
from municloud.layout.definition import AREA_BY_UNIT, AREAS, ItemDef, LayoutDef, load_layout

__all__ = [
    "AREAS", "AREA_BY_UNIT", "ENCODINGS", "ItemDef", "LayoutDef", "LayoutError", "LayoutIssue",
    "LayoutReport", "decode", "encode", "load_layout", "validate",
]
