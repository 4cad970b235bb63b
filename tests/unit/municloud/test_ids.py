"""Identifiers: check digits, validators (guards and their allowed twins), generators."""

from __future__ import annotations

import random

import pytest

from municloud import ids
from municloud.ids import IdentifierError

pytestmark = pytest.mark.unit

VALID_MY_NUMBER = "123456789018"  # DOMAIN.md example: 12345678901 -> sum 212, r 3, check 8

# The 12 Akita towns and villages (DOMAIN.md) plus well-known codes, each verified by the rule
# (weights 6,5,4,3,2; (11 - sum mod 11) mod 10), e.g. 05303 -> 6*0+5*5+4*3+3*0+2*3 = 43,
# 43 mod 11 = 10, (11-10) mod 10 = 1 -> 053031.
AKITA_CODES = ["053031", "053279", "053465", "053481", "053490", "053619", "053635", "053660",
               "053686", "054348", "054631", "054640"]
# 東京都 130001, 秋田市 052019, 北海道 010006, 大阪市 271004 — 全国地方公共団体コード as
# published by 総務省; each also satisfies the check-digit rule.
OTHER_CODES = ["130001", "052019", "010006", "271004"]


def test_my_number_check_digit_matches_domain_example() -> None:
    assert ids.my_number_check_digit("12345678901") == 8


@pytest.mark.parametrize(("first11", "expected"), [
    ("00000000000", 0),   # r = 0 -> 0
    ("00000000005", 1),   # sum 10, r 10 -> 1
    ("10000000000", 5),   # sum 6, r 6 -> 5
    ("00000100000", 4),   # weight 7 -> r 7 -> 4
    ("98320567321", 4),   # widely used sample 983205673214
])
def test_my_number_check_digit_vectors(first11: str, expected: int) -> None:
    assert ids.my_number_check_digit(first11) == expected


def test_my_number_remainder_one_gives_zero() -> None:
    # weight 2 at the last position: digit 6 -> sum 12 -> r 1 -> check 0
    assert ids.my_number_check_digit("00000000006") == 0


def test_validate_my_number_accepts_valid() -> None:
    assert ids.validate_my_number(VALID_MY_NUMBER) == VALID_MY_NUMBER


@pytest.mark.parametrize(("value", "reason_part"), [
    ("123456789017", "check digit mismatch"),
    ("12345678901", "got 11 characters"),
    ("1234567890188", "got 13 characters"),
    ("１２３４５６７８９０１８", "full-width"),
    ("1234 5678 9018", "whitespace"),
    ("12345678901 ", "whitespace"),
    ("1234-5678-901", "hyphen"),
    ("12345678901a", "non-digit"),
    (" 23456789018", "whitespace"),
])
def test_validate_my_number_rejects_without_echoing(value: str, reason_part: str) -> None:
    with pytest.raises(IdentifierError) as info:
        ids.validate_my_number(value, field="residents[0].my_number")
    assert info.value.field == "residents[0].my_number"
    assert reason_part in info.value.reason
    digits = "".join(ch for ch in value if ch.isascii() and ch.isdigit())
    assert value not in str(info.value)
    if len(digits) >= 4:
        assert digits not in str(info.value)


@pytest.mark.parametrize("value", [123456789018, None, b"123456789018"])
def test_validate_my_number_rejects_non_strings(value: object) -> None:
    with pytest.raises(IdentifierError, match="must be a string"):
        ids.validate_my_number(value)


def test_every_single_digit_error_is_caught() -> None:
    for pos in range(12):
        for digit in "0123456789":
            if digit == VALID_MY_NUMBER[pos]:
                continue
            mutated = VALID_MY_NUMBER[:pos] + digit + VALID_MY_NUMBER[pos + 1:]
            with pytest.raises(IdentifierError):
                ids.validate_my_number(mutated)


def test_generated_my_numbers_are_valid_and_seeded() -> None:
    a = [ids.generate_my_number(random.Random(7)) for _ in range(3)]
    b = [ids.generate_my_number(random.Random(7)) for _ in range(3)]
    assert a == b
    rng = random.Random(1)
    for _ in range(500):
        ids.validate_my_number(ids.generate_my_number(rng))


def test_my_number_for_serial_is_valid_and_injective() -> None:
    numbers = {ids.my_number_for_serial(code, serial)
               for code in ("053031", "053279") for serial in range(1, 3001)}
    assert len(numbers) == 6000
    for n in list(numbers)[:200]:
        ids.validate_my_number(n)


@pytest.mark.parametrize("code", AKITA_CODES + OTHER_CODES)
def test_lgcode_vectors(code: str) -> None:
    assert ids.lgcode_check_digit(code[:5]) == int(code[5])
    assert ids.validate_lgcode(code) == code


def test_lgcode_domain_example() -> None:
    assert ids.lgcode_check_digit("05303") == 1


@pytest.mark.parametrize(("value", "reason_part"), [
    ("053032", "check digit mismatch"),
    ("05303", "got 5 characters"),
    ("０５３０３１", "full-width"),
    ("05-303", "hyphen"),
    ("003031", "prefecture"),
    ("483031", "prefecture"),
])
def test_validate_lgcode_rejects(value: str, reason_part: str) -> None:
    with pytest.raises(IdentifierError) as info:
        ids.validate_lgcode(value)
    assert info.value.field == "lgcode"
    assert reason_part in info.value.reason


def test_resident_record_code_length_and_digits_only() -> None:
    assert ids.validate_resident_record_code("12345678901") == "12345678901"
    for bad in ("1234567890", "123456789012", "1234567890a", "１２３４５６７８９０１"):
        with pytest.raises(IdentifierError):
            ids.validate_resident_record_code(bad)


def test_resident_record_codes_for_serials_are_distinct_and_valid() -> None:
    codes = {ids.resident_record_code_for_serial("053031", s) for s in range(1, 2001)}
    assert len(codes) == 2000
    assert all(ids.validate_resident_record_code(c) for c in codes)


def test_atena_and_household_numbers() -> None:
    atena = ids.new_atena_number("053031", 42)
    assert atena == "053031000000042" and len(atena) == ids.ATENA_NUMBER_LENGTH
    assert ids.validate_atena_number(atena) == atena
    household = ids.new_household_number("054640", 7)
    assert ids.validate_household_number(household) == household
    with pytest.raises(IdentifierError, match="start with a valid"):
        ids.validate_atena_number("053032000000042")  # prefix fails the check digit
    with pytest.raises(IdentifierError, match="15 ASCII digits"):
        ids.validate_household_number("05303100000042")
    with pytest.raises(IdentifierError, match="serial"):
        ids.new_atena_number("053031", 0)


def test_error_is_a_value_error_with_field() -> None:
    err = IdentifierError("lgcode", "check digit mismatch")
    assert isinstance(err, ValueError)
    assert str(err) == "lgcode: check digit mismatch"
