"""Field types shared by the services' request models: identifiers validated by check digit
(municloud.ids) and dates accepted as ISO 西暦 or 和暦 strings (municloud.wareki)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from municloud import ids, wareki
from municloud.params import SUPPORTED_NHI_FISCAL_YEARS, SUPPORTED_RESIDENT_TAX_FISCAL_YEARS

# C0/C1 controls, DEL, line/paragraph separators, BOM, bidi embeddings/overrides/isolates.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069]")
_INVISIBLE = re.compile(r"^[\u200b-\u200d\u2060\s\u3000]*$")


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


def _digits(n: int, what: str) -> WithJsonSchema:
    """The contract states the shape (the check digit and prefix are checked by municloud.ids)."""
    return WithJsonSchema({"type": "string", "pattern": f"^[0-9]{{{n}}}$", "description": what})


MyNumber = Annotated[str, BeforeValidator(_identifier(ids.validate_my_number)),
                     _digits(12, "個人番号: 12 digits, the last a check digit")]
AtenaNumber = Annotated[str, BeforeValidator(_identifier(ids.validate_atena_number)),
                        _digits(ids.ATENA_NUMBER_LENGTH, "宛名番号: lgcode (6) + serial (9)")]
HouseholdNumber = Annotated[str, BeforeValidator(_identifier(ids.validate_household_number)),
                            _digits(ids.HOUSEHOLD_NUMBER_LENGTH, "世帯番号: lgcode (6) + serial (9)")]
ResidentRecordCode = Annotated[str, BeforeValidator(_identifier(ids.validate_resident_record_code)),
                               _digits(11, "住民票コード: 11 digits")]
LgCode = Annotated[str, BeforeValidator(_identifier(ids.validate_lgcode)),
                   _digits(6, "地方公共団体コード: 6 digits, the last a check digit")]
FreeText = Annotated[str, AfterValidator(check_free_text)]
FlexibleDate = Annotated[date, BeforeValidator(parse_date), PlainSerializer(date.isoformat)]


def validate_path_atena(value: str, field: str = "atena_number") -> str:
    """宛名番号 from a path, checked by hand where a route avoids FastAPI's validation."""
    from municloud.service.errors import ApiError

    try:
        return ids.validate_atena_number(value, field=field)
    except ids.IdentifierError as exc:
        raise ApiError(422, "invalid", f"{field}: {exc.reason}", field) from None


# Fiscal years (年度) in paths: only those the rules are implemented for, so the OpenAPI states the
# range and a year outside it is a 422 naming ``fiscal_year`` before anything is computed or stored.
ResidentTaxYearPath = Annotated[int, Path(ge=min(SUPPORTED_RESIDENT_TAX_FISCAL_YEARS),
                                          le=max(SUPPORTED_RESIDENT_TAX_FISCAL_YEARS),
                                          description="fiscal year (年度) of the resident-tax rules")]
NhiYearPath = Annotated[int, Path(ge=min(SUPPORTED_NHI_FISCAL_YEARS), le=max(SUPPORTED_NHI_FISCAL_YEARS),
                                  description="fiscal year (年度) of the NHI premium rules")]
