"""Identifiers of Japanese municipal systems: validation, check digits and seeded generators.

- 個人番号 (My Number): 12 digits, the last a check digit (番号法施行令 §8, 総務省令第85号 §5).
- 全国地方公共団体コード (lgcode): 6 digits, 2 prefecture + 3 municipality + check digit.
- 住民票コード (resident record code): 11 digits; 住民基本台帳法施行規則 §1 says 10 random digits
  and one 検査数字 whose formula is set by 平成14年総務省告示第436号. OPEN: that notice could not
  be read here, so we validate length and digits only and do NOT check the last digit.
- 宛名番号 (atena number, the municipality's internal person id) and 世帯番号 (household number):
  lengths are not national; OUR DESIGN: 15 digits = the holder municipality's 6-digit lgcode
  followed by a 9-digit serial. That makes numbers of different municipalities disjoint and lets
  a validator reject a number whose prefix is not a valid lgcode.

Validators take the raw value and never "fix" it: full-width digits, spaces, hyphens, a wrong
length or a non-string are errors. Error messages never contain the value itself (a 個人番号 is
personal data); they say what is wrong.
"""

from __future__ import annotations

import random

__all__ = [
    "ATENA_NUMBER_LENGTH",
    "HOUSEHOLD_NUMBER_LENGTH",
    "IdentifierError",
    "generate_my_number",
    "json_schema",
    "lgcode_check_digit",
    "my_number_check_digit",
    "my_number_for_serial",
    "new_atena_number",
    "new_household_number",
    "resident_record_code_for_serial",
    "validate_atena_number",
    "validate_household_number",
    "validate_lgcode",
    "validate_my_number",
    "validate_resident_record_code",
]

ATENA_NUMBER_LENGTH = 15
HOUSEHOLD_NUMBER_LENGTH = 15
_SERIAL_DIGITS = 9

#: The identifiers as the OpenAPI states them (docs/services.md, "The contract"): the digit pattern
#: a JSON Schema can say and a named format for the check digit and prefix it cannot.
_FORMATS = {
    "my-number": (12, "個人番号: 12 digits, the last a check digit"),
    "atena-number": (ATENA_NUMBER_LENGTH, "宛名番号: 地方公共団体コード (6, with its check digit) + serial (9)"),
    "household-number": (HOUSEHOLD_NUMBER_LENGTH,
                         "世帯番号: 地方公共団体コード (6, with its check digit) + serial (9)"),
    "resident-record-code": (11, "住民票コード: 11 digits"),
    "lgcode": (6, "地方公共団体コード: 6 digits, prefecture 01..47, the last a check digit"),
}


def json_schema(fmt: str) -> dict:
    """The JSON Schema of an identifier of the named format (``atena-number``, ...)."""
    length, what = _FORMATS[fmt]
    return {"type": "string", "format": fmt, "pattern": f"^[0-9]{{{length}}}$", "description": what}

_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_LGCODE_WEIGHTS = (6, 5, 4, 3, 2)
_ASCII_DIGITS = frozenset("0123456789")


class IdentifierError(ValueError):
    """An identifier failed validation. `field` names the input field, `reason` says why.

    The message never includes the offending value.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _require_digits(value: object, *, field: str, label: str, length: int) -> str:
    if not isinstance(value, str):
        raise IdentifierError(field, f"{label} must be a string of {length} ASCII digits; "
                                     f"got {type(value).__name__}")
    if not _ASCII_DIGITS.issuperset(value):
        bad = sorted({_describe(ch) for ch in value if ch not in _ASCII_DIGITS})
        raise IdentifierError(field, f"{label} must be {length} ASCII digits; "
                                     f"found {', '.join(bad)}")
    if len(value) != length:
        raise IdentifierError(field, f"{label} must be {length} ASCII digits; "
                                     f"got {len(value)} characters")
    return value


def _describe(ch: str) -> str:
    """Name a bad character class without echoing the identifier."""
    if ch.isspace():
        return "whitespace"
    if ch in "-‐‑‒–—―ー－":
        return "a hyphen"
    if ch.isdigit():
        return "a non-ASCII (e.g. full-width) digit"
    return "a non-digit character"


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


# --- 個人番号 -------------------------------------------------------------------------------

def my_number_check_digit(first11: str) -> int:
    """Check digit of a 個人番号 from its first 11 digits.

    Weights 6,5,4,3,2,7,6,5,4,3,2 left to right; r = sum mod 11; 0 if r <= 1 else 11 - r.
    """
    _require_digits(first11, field="my_number", label="個人番号 base", length=11)
    r = _weighted_sum(first11, _MY_NUMBER_WEIGHTS) % 11
    return 0 if r <= 1 else 11 - r


def validate_my_number(value: object, field: str = "my_number") -> str:
    """Return the canonical 12-digit 個人番号 or raise IdentifierError naming `field`."""
    number = _require_digits(value, field=field, label="個人番号", length=12)
    if my_number_check_digit(number[:11]) != int(number[11]):
        raise IdentifierError(field, "個人番号 check digit mismatch")
    return number


def _with_my_number_check(first11: str) -> str:
    return first11 + str(my_number_check_digit(first11))


def generate_my_number(rng: random.Random) -> str:
    """A valid 個人番号 drawn from `rng` (for tests; not unique across calls)."""
    return _with_my_number_check(f"{rng.randrange(10**11):011d}")


# Affine bijections on 11 / 10 digit spaces: distinct (lgcode, serial) pairs give distinct
# numbers that do not look sequential. Multipliers are coprime to 10.
_MY_NUMBER_MULTIPLIER = 37_124_915_633
_MY_NUMBER_OFFSET = 52_039_117_461
_RECORD_CODE_MULTIPLIER = 73_648_120_493
_RECORD_CODE_OFFSET = 19_065_342_771


def _lgcode_serial_key(lgcode: str, serial: int, *, serial_space: int) -> int:
    lg = validate_lgcode(lgcode)
    if not 0 <= serial < serial_space:
        raise IdentifierError("serial", f"serial must be in 0..{serial_space - 1}")
    return int(lg[:5]) * serial_space + serial


def my_number_for_serial(lgcode: str, serial: int) -> str:
    """Deterministic, valid 個人番号 for synthetic person `serial` (< 1,000,000) of `lgcode`.

    Seed-data only: distinct (lgcode, serial) pairs always give distinct numbers.
    """
    key = _lgcode_serial_key(lgcode, serial, serial_space=10**6)
    mixed = (key * _MY_NUMBER_MULTIPLIER + _MY_NUMBER_OFFSET) % 10**11
    return _with_my_number_check(f"{mixed:011d}")


# --- 全国地方公共団体コード -------------------------------------------------------------------

def lgcode_check_digit(first5: str) -> int:
    """Check digit of a 地方公共団体コード: weights 6,5,4,3,2; (11 - sum mod 11) mod 10."""
    _require_digits(first5, field="lgcode", label="地方公共団体コード base", length=5)
    return (11 - _weighted_sum(first5, _LGCODE_WEIGHTS) % 11) % 10


def validate_lgcode(value: object, field: str = "lgcode") -> str:
    """Return the canonical 6-digit 地方公共団体コード or raise IdentifierError naming `field`."""
    code = _require_digits(value, field=field, label="地方公共団体コード", length=6)
    if code[:2] == "00" or int(code[:2]) > 47:
        raise IdentifierError(field, "地方公共団体コード prefecture part must be 01..47")
    if lgcode_check_digit(code[:5]) != int(code[5]):
        raise IdentifierError(field, "地方公共団体コード check digit mismatch")
    return code


# --- 住民票コード -----------------------------------------------------------------------------

def validate_resident_record_code(value: object, field: str = "resident_record_code") -> str:
    """Return the 11-digit 住民票コード or raise IdentifierError.

    OPEN: the last digit is a check digit (住民基本台帳法施行規則 §1) whose formula
    (平成14年総務省告示第436号) we could not confirm, so only length and digits are checked.
    """
    return _require_digits(value, field=field, label="住民票コード", length=11)


def resident_record_code_for_serial(lgcode: str, serial: int) -> str:
    """Deterministic synthetic 住民票コード (11 digits) for person `serial` (< 1,000,000).

    All 11 digits come from the mixing function: no check digit is computed (formula OPEN).
    """
    key = _lgcode_serial_key(lgcode, serial, serial_space=10**6)
    return f"{(key * _RECORD_CODE_MULTIPLIER + _RECORD_CODE_OFFSET) % 10**11:011d}"


# --- 宛名番号 / 世帯番号 (our design) ---------------------------------------------------------

def _validate_prefixed(value: object, *, field: str, label: str, length: int) -> str:
    number = _require_digits(value, field=field, label=label, length=length)
    try:
        validate_lgcode(number[:6], field=field)
    except IdentifierError:
        raise IdentifierError(field, f"{label} must start with a valid 地方公共団体コード") from None
    return number


def validate_atena_number(value: object, field: str = "atena_number") -> str:
    """宛名番号: 15 digits, lgcode (6) + serial (9). Our design; see module docstring."""
    return _validate_prefixed(value, field=field, label="宛名番号", length=ATENA_NUMBER_LENGTH)


def validate_household_number(value: object, field: str = "household_number") -> str:
    """世帯番号: 15 digits, lgcode (6) + serial (9). Our design; see module docstring."""
    return _validate_prefixed(value, field=field, label="世帯番号",
                              length=HOUSEHOLD_NUMBER_LENGTH)


def _new_prefixed(lgcode: str, serial: int, field: str) -> str:
    lg = validate_lgcode(lgcode)
    if not 0 < serial < 10**_SERIAL_DIGITS:
        raise IdentifierError(field, f"serial must be in 1..{10**_SERIAL_DIGITS - 1}")
    return f"{lg}{serial:0{_SERIAL_DIGITS}d}"


def new_atena_number(lgcode: str, serial: int) -> str:
    """宛名番号 for the `serial`-th person registered in `lgcode`."""
    return _new_prefixed(lgcode, serial, "atena_number")


def new_household_number(lgcode: str, serial: int) -> str:
    """世帯番号 for the `serial`-th household registered in `lgcode`."""
    return _new_prefixed(lgcode, serial, "household_number")
