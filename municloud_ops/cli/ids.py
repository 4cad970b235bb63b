"""`municloud ids`: check identifiers (個人番号, 地方公共団体コード).

Exit codes: 0 valid (prints "valid"); 1 invalid (prints why, never the 個人番号 itself).
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from municloud.ids import IdentifierError, validate_lgcode, validate_my_number

app = typer.Typer(help="Check identifiers: 個人番号 (My Number) and 地方公共団体コード.",
                  no_args_is_help=True)

EXIT_INVALID = 1


def _check(validator: Callable[[str], str], value: str) -> None:
    try:
        validator(value)
    except IdentifierError as exc:
        typer.echo(f"invalid: {exc.reason}")
        raise typer.Exit(EXIT_INVALID) from None
    typer.echo("valid")


@app.command("check-mynumber")
def check_mynumber(number: str = typer.Argument(..., help="12-digit 個人番号")) -> None:
    """Validate a 個人番号 (12 ASCII digits, check digit)."""
    _check(validate_my_number, number)


@app.command("check-lgcode")
def check_lgcode(code: str = typer.Argument(..., help="6-digit 地方公共団体コード")) -> None:
    """Validate a 地方公共団体コード (6 ASCII digits, check digit)."""
    _check(validate_lgcode, code)
