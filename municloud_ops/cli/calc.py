"""`municloud calc`: 試算 of 個人住民税 and 国民健康保険税 from a JSON file (or `-` for stdin).

Input formats and examples: docs/calc.md, docs/examples/. Output: the full breakdown as JSON.
Exit codes: 0 computed; 2 bad input (unreadable file, invalid JSON, a field that fails
validation or is unsupported; the field is named on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from municloud.calc import nhi_premium, resident_tax
from municloud.calc.errors import UnsupportedInput
from municloud.params import (
    MunicipalityParams,
    NhiParams,
    ResidentTaxParams,
    default_nhi_params,
)

app = typer.Typer(help="Compute 個人住民税 / 国民健康保険税 breakdowns (試算) from JSON input.",
                  no_args_is_help=True)

EXIT_BAD_INPUT = 2
M = TypeVar("M", bound=BaseModel)

FileArg = Annotated[str, typer.Argument(help="JSON input file, or - for stdin")]
ParamsOpt = Annotated[Path | None, typer.Option(
    "--params", help="MunicipalityParams JSON (defaults: standard rates, illustrative NHI)")]
FiscalYearOpt = Annotated[int, typer.Option("--fiscal-year", help="Fiscal year (年度)")]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _read(source: str, what: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {what} {source}: {getattr(exc, 'strerror', None) or exc}")


def _load(model: type[M], source: str, what: str) -> M:
    text = _read(source, what)
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False))
        _fail(f"{what} is invalid: {problems}")


def _params(path: Path | None) -> MunicipalityParams | None:
    return None if path is None else _load(MunicipalityParams, str(path), "params")


def _emit(breakdown: BaseModel) -> None:
    typer.echo(json.dumps(breakdown.model_dump(mode="json"), ensure_ascii=False, indent=2))


@app.command("resident-tax")
def resident_tax_cmd(file: FileArg, params: ParamsOpt = None,
                     fiscal_year: FiscalYearOpt = 2025) -> None:
    """個人住民税 breakdown of one declaration (ResidentTaxDeclaration JSON)."""
    declaration = _load(resident_tax.ResidentTaxDeclaration, file, "declaration")
    municipality = _params(params)
    tax_params = municipality.resident_tax if municipality else ResidentTaxParams.standard()
    try:
        _emit(resident_tax.compute(declaration, tax_params, fiscal_year))
    except UnsupportedInput as exc:
        _fail(f"field {exc.field}: {exc.reason}")


@app.command("nhi-premium")
def nhi_premium_cmd(file: FileArg, params: ParamsOpt = None,
                    fiscal_year: FiscalYearOpt = 2025) -> None:
    """国民健康保険税 breakdown of one household (NhiHousehold JSON)."""
    household = _load(nhi_premium.NhiHousehold, file, "household")
    municipality = _params(params)
    try:
        nhi_params: NhiParams = (municipality.nhi_for(fiscal_year) if municipality
                                 else default_nhi_params(fiscal_year))
    except (KeyError, ValueError) as exc:
        _fail(f"field fiscal_year: {exc.args[0]}")
    try:
        _emit(nhi_premium.compute(household, nhi_params, fiscal_year))
    except UnsupportedInput as exc:
        _fail(f"field {exc.field}: {exc.reason}")
