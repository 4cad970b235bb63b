"""Field types shared by the services' request models: identifiers validated by check digit
(municloud.ids) and dates accepted as ISO 西暦 or 和暦 strings (municloud.wareki)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from municloud import ids, wareki
from municloud.calc.errors import UnsupportedInput
from municloud.params import (SUPPORTED_NHI_FISCAL_YEARS, SUPPORTED_RESIDENT_TAX_FISCAL_YEARS,
                             check_fiscal_year)

# C0/C1 controls, DEL, line/paragraph separators, BOM, bidi embeddings/overrides/isolates.
_CONTROL_CHARS = r"\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
_INVISIBLE = re.compile(r"^[\u200b-\u200d\u2060\s\u3000]*$")
#: The same rule as a JSON Schema pattern, so the OpenAPI states it: no control character, and one
#: character that is neither control nor blank (Python's \s outside the controls, spelled out:
#: ECMA-262's \s is another set).
_BLANK_CHARS = r"\x20\xa0\u1680\u2000-\u200d\u202f\u205f\u2060\u3000"
FREE_TEXT_PATTERN = f"^[^{_CONTROL_CHARS}]*[^{_CONTROL_CHARS}{_BLANK_CHARS}][^{_CONTROL_CHARS}]*$"


def check_free_text(value: str) -> str:
    """Free text (names, addresses) must be printable: no control, bidi or BOM characters and
    not only invisible ones. Printed on certificates and read by staff, so refuse, don't strip."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control, line-separator or bidi-override characters")
    if _INVISIBLE.match(value):
        raise ValueError("must contain visible characters")
    return value


def _identifier(validator):
    def check(value: object) -> str:
        try:
            return validator(value)
        except ids.IdentifierError as exc:
            raise ValueError(exc.reason) from None

    return check


def parse_date(value: object) -> date:
    """ISO `2024-01-02` or 和暦 (`令和6年1月2日`, `R6.01.02`, `5060102`)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date string (ISO 2024-01-02 or 和暦 令和6年1月2日)")
    try:
        return wareki.parse_date_text(value)
    except wareki.WarekiError as exc:
        raise ValueError(str(exc)) from None


def wareki_text(value: date | None) -> str | None:
    return None if value is None else wareki.to_wareki(value).format()


#: The named string formats of the OpenAPI (docs/services.md, "The contract"): a check digit or a
#: municipality prefix is more than a JSON Schema pattern can state, so each identifier carries its
#: format name beside the digit pattern; a client (and the contract test) generates and checks
#: values of a format with municloud.ids, the one implementation of these rules.
IDENTIFIER_FORMATS = {
    "my-number": ids.validate_my_number,
    "lgcode": ids.validate_lgcode,
    "atena-number": ids.validate_atena_number,
    "household-number": ids.validate_household_number,
    "resident-record-code": ids.validate_resident_record_code,
}

#: A date (ISO ``YYYY-MM-DD``) not after today in JST, e.g. a 調査年月日: JSON Schema cannot bound a
#: date by the clock, so the upper bound is a named format too.
DATE_NOT_AFTER_TODAY = "date-not-after-today"


def _identifier_schema(fmt: str) -> WithJsonSchema:
    """The contract states the format by name and the shape by pattern (the check digit and the
    prefix are checked by municloud.ids)."""
    assert fmt in IDENTIFIER_FORMATS, fmt
    return WithJsonSchema(ids.json_schema(fmt))


def _identifier_path_schema(schema: WithJsonSchema):
    """The same schema for a path parameter a route validates by hand (``validate_path_atena``)."""
    return Path(json_schema_extra=dict(schema.json_schema))


MyNumber = Annotated[str, BeforeValidator(_identifier(ids.validate_my_number)), _identifier_schema("my-number")]
AtenaNumber = Annotated[str, BeforeValidator(_identifier(ids.validate_atena_number)),
                        _identifier_schema("atena-number")]
HouseholdNumber = Annotated[str, BeforeValidator(_identifier(ids.validate_household_number)),
                            _identifier_schema("household-number")]
#: 宛名番号 in a path a route checks itself (the benchmarked read path skips FastAPI's validation);
#: the OpenAPI states the same format as ``AtenaNumber``
AtenaNumberRawPath = Annotated[str, _identifier_path_schema(AtenaNumber.__metadata__[1])]
ResidentRecordCode = Annotated[str, BeforeValidator(_identifier(ids.validate_resident_record_code)),
                               _identifier_schema("resident-record-code")]
LgCode = Annotated[str, BeforeValidator(_identifier(ids.validate_lgcode)), _identifier_schema("lgcode")]
FreeText = Annotated[str, AfterValidator(check_free_text), Field(json_schema_extra={"pattern": FREE_TEXT_PATTERN})]
FlexibleDate = Annotated[date, BeforeValidator(parse_date), PlainSerializer(date.isoformat)]


def validate_path_atena(value: str, field: str = "atena_number") -> str:
    """宛名番号 from a path, checked by hand where a route avoids FastAPI's validation."""
    from municloud.service.errors import ApiError

    try:
        return ids.validate_atena_number(value, field=field)
    except ids.IdentifierError as exc:
        raise ApiError(422, "invalid", f"{field}: {exc.reason}", field) from None


# Fiscal years (年度): only those the rules are implemented for, so the OpenAPI states the range and a
# year outside it is a 422 naming ``fiscal_year`` before anything is computed or stored.
def _years_schema(years: tuple[int, ...], what: str) -> dict:
    contiguous = list(years) == list(range(min(years), max(years) + 1))
    bounds = ({"minimum": min(years), "maximum": max(years)} if contiguous else {"enum": list(years)})
    return {"type": "integer", **bounds, "description": what}


def _supported_year(calculation: str):
    def check(value: int) -> int:
        try:
            return check_fiscal_year(value, calculation).fiscal_year
        except UnsupportedInput as exc:
            raise ValueError(exc.reason) from None

    return check


_RESIDENT_TAX_YEARS = "fiscal year (年度) of the resident-tax rules"
_NHI_YEARS = "fiscal year (年度) of the NHI premium rules"
ResidentTaxYearPath = Annotated[int, Path(ge=min(SUPPORTED_RESIDENT_TAX_FISCAL_YEARS),
                                          le=max(SUPPORTED_RESIDENT_TAX_FISCAL_YEARS),
                                          description=_RESIDENT_TAX_YEARS)]
NhiYearPath = Annotated[int, Path(ge=min(SUPPORTED_NHI_FISCAL_YEARS), le=max(SUPPORTED_NHI_FISCAL_YEARS),
                                  description=_NHI_YEARS)]
#: the same years in a request body (the supported list is in the error)
ResidentTaxYear = Annotated[int, AfterValidator(_supported_year("resident_tax")),
                            WithJsonSchema(_years_schema(SUPPORTED_RESIDENT_TAX_FISCAL_YEARS, _RESIDENT_TAX_YEARS))]
NhiYear = Annotated[int, AfterValidator(_supported_year("nhi")),
                    WithJsonSchema(_years_schema(SUPPORTED_NHI_FISCAL_YEARS, _NHI_YEARS))]
