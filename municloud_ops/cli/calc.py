"""`municloud calc`: 試算 of 個人住民税 and 国民健康保険税 from a JSON file (or `-` for stdin).

Input formats and examples: docs/calc.md, docs/examples/. Output: the full breakdown as JSON,
with the parameters used (`parameters`: the municipality's, merged over the defaults).
Exit codes: 0 computed; 2 bad input (unreadable file, not UTF-8, invalid JSON, a duplicate key,
NaN/Infinity, a field that fails validation or is unsupported, an unsupported fiscal year; the
field is named on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from municloud.calc import nhi_premium, resident_tax
from municloud.calc.errors import UnsupportedInput
from municloud.rules import named_field
from municloud.params import (
    MunicipalityParams,
    apply_overrides,
    NhiParams,
    ResidentTaxParams,
    check_fiscal_year,
    default_nhi_params,
    params_json_schema,
)
from municloud.strictjson import json_problem

app = typer.Typer(help="Compute 個人住民税 / 国民健康保険税 breakdowns (試算) from JSON input.",
                  no_args_is_help=True)

EXIT_BAD_INPUT = 2
M = TypeVar("M", bound=BaseModel)

FileArg = Annotated[str, typer.Argument(help="JSON input file, or - for stdin")]
ParamsOpt = Annotated[Path | None, typer.Option(
    "--params", help="MunicipalityParams JSON, complete or partial (merged over --lgcode's "
                     "parameters or the defaults: standard rates, illustrative NHI)")]
LgcodeOpt = Annotated[str | None, typer.Option(
    "--lgcode", help="start from this municipality's parameters in the stack config "
                     "(Pulumi.<stack>.yaml); --params is merged over them")]
StackOpt = Annotated[str, typer.Option("--stack", help="stack whose config --lgcode reads")]
FiscalYearOpt = Annotated[int, typer.Option("--fiscal-year", help="Fiscal year (年度)")]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _read(source: str, what: str) -> str:
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        fail(f"cannot read {what} {source}: {exc.strerror or exc}")
    try:
        # UTF-8, with or without the BOM that Windows editors write (docs/calc.md).
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(f"{what} is not UTF-8 (byte {exc.start}); save it as UTF-8 (Shift_JIS is not "
             "accepted)")


def check_json(text: str, what: str) -> None:
    """Exit 2 for text that is not JSON, repeats a key or carries NaN/Infinity."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except ValueError as exc:  # an integer too long to read
        fail(f"{what} is not valid JSON: {exc}")
    if problem := json_problem(text):
        fail(f"{what} is invalid: field {problem[0]}: {problem[1]}")


def problems(exc: ValidationError) -> str:
    return "; ".join(_problem(err) for err in exc.errors(include_url=False, include_input=False))


def _problem(err: dict) -> str:
    """A model's cross-field rule names its own field ("widow: ... (rule <id>)", municloud/rules.py)."""
    field, message = ".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, ")
    named, rest = named_field(message) if err["type"] == "value_error" else (None, message)
    if named is not None:
        field, message = ".".join(filter(None, (field, named))), rest
    return f"field {field or '(root)'}: {message}"


def load_model(model: type[M], source: str, what: str) -> M:
    text = _read(source, what)
    check_json(text, what)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        fail(f"{what} is invalid: {problems(exc)}")


def _stack_municipality(lgcode: str | None, stack: str) -> MunicipalityParams | None:
    """The municipality's parameters from Pulumi.<stack>.yaml (read and validated by
    stacks.config, no engine)."""
    if lgcode is None:
        return None
    from municloud_ops.dr.sla import load_stack_config
    from stacks.config import ConfigError

    try:
        config = load_stack_config(stack, engines=False)
    except ConfigError as exc:
        fail(f"stack {stack} config is invalid: {exc}")
    if config is None:
        fail(f"field --stack: no Pulumi.{stack}.yaml")
    for m in config.municipalities:
        if m.lgcode == lgcode:
            return m.params
    fail(f"field --lgcode: {lgcode} is not a municipality of stack {stack}; have "
         f"{[m.lgcode for m in config.municipalities]}")


def _validate(model: type[M], document: Any, prefix: str) -> M:
    try:
        return model.model_validate_json(json.dumps(document, ensure_ascii=False))
    except ValidationError as exc:
        fail("params are invalid: " + "; ".join(
            f"field {'.'.join([prefix, *map(str, err['loc'])]).strip('.')}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)))


def resolved_params(params: Path | None, lgcode: str | None, stack: str
                    ) -> dict[str, Any] | None:
    """The parameter document in force: the stack municipality's (--lgcode) or the defaults,
    with the --params file merged over it (partial files allowed); None = built-in defaults."""
    base = _stack_municipality(lgcode, stack)
    if params is None:
        return None if base is None else base.model_dump(mode="json")
    text = _read(str(params), "params")
    check_json(text, "params")
    try:
        document = apply_overrides(base, json.loads(text))
    except UnsupportedInput as exc:
        fail(f"params are invalid: field {exc.field}: {exc.reason}")
    if all(key in document for key in ("lgcode", "name", "population")):
        _validate(MunicipalityParams, document, "")
    return document


def _emit(breakdown: BaseModel, parameters: BaseModel) -> None:
    out = breakdown.model_dump(mode="json") | {"parameters": parameters.model_dump(mode="json")}
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def _unsupported(exc: UnsupportedInput) -> NoReturn:
    fail(f"field {exc.field}: {exc.reason}")


@app.command("resident-tax")
def resident_tax_cmd(file: FileArg, params: ParamsOpt = None, lgcode: LgcodeOpt = None,
                     stack: StackOpt = "dev", fiscal_year: FiscalYearOpt = 2025) -> None:
    """個人住民税 breakdown of one declaration (ResidentTaxDeclaration JSON)."""
    try:
        check_fiscal_year(fiscal_year, "resident_tax")
    except UnsupportedInput as exc:
        _unsupported(exc)
    declaration = load_model(resident_tax.ResidentTaxDeclaration, file, "declaration")
    document = resolved_params(params, lgcode, stack)
    tax_params = (ResidentTaxParams.standard() if document is None
                  else _validate(ResidentTaxParams, document["resident_tax"], "resident_tax"))
    try:
        _emit(resident_tax.compute(declaration, tax_params, fiscal_year), tax_params)
    except UnsupportedInput as exc:
        _unsupported(exc)


def _nhi_params(document: dict[str, Any] | None, fiscal_year: int) -> NhiParams:
    try:
        check_fiscal_year(fiscal_year, "nhi")
    except UnsupportedInput as exc:
        _unsupported(exc)
    entry = None if document is None else document["nhi"].get(str(fiscal_year))
    if entry is None:
        if document is not None and "lgcode" in document:
            fail(f"field fiscal_year: no NHI parameters for fiscal year {fiscal_year} in "
                 f"{document['lgcode']}; have {sorted(document['nhi'])} (give them with --params)")
        return default_nhi_params(fiscal_year)
    return _validate(NhiParams, entry, f"nhi.{fiscal_year}")


@app.command("nhi-premium")
def nhi_premium_cmd(file: FileArg, params: ParamsOpt = None, lgcode: LgcodeOpt = None,
                    stack: StackOpt = "dev", fiscal_year: FiscalYearOpt = 2025) -> None:
    """国民健康保険税 breakdown of one household (NhiHousehold JSON)."""
    household = load_model(nhi_premium.NhiHousehold, file, "household")
    nhi_params = _nhi_params(resolved_params(params, lgcode, stack), fiscal_year)
    try:
        _emit(nhi_premium.compute(household, nhi_params, fiscal_year), nhi_params)
    except UnsupportedInput as exc:
        _unsupported(exc)


@app.command("params")
def params_cmd(params: ParamsOpt = None, lgcode: LgcodeOpt = None, stack: StackOpt = "dev",
               schema: Annotated[bool, typer.Option(
                   "--schema", help="print the JSON Schema of the parameter file")] = False
               ) -> None:
    """Print a municipality's parameters as used (partial NHI entries merged over the
    defaults), or with --schema the parameter file's JSON Schema."""
    if schema:
        typer.echo(json.dumps(params_json_schema(), ensure_ascii=False, indent=2))
        return
    document = resolved_params(params, lgcode, stack)
    if document is None:
        fail("give --params FILE and/or --lgcode CODE (or --schema)")
    resident = _validate(ResidentTaxParams, document["resident_tax"], "resident_tax")
    nhi = {year: _validate(NhiParams, entry, f"nhi.{year}").model_dump(mode="json")
           for year, entry in document["nhi"].items()}
    echoed = document | {"resident_tax": resident.model_dump(mode="json"), "nhi": nhi}
    typer.echo(json.dumps(echoed, ensure_ascii=False, indent=2))
