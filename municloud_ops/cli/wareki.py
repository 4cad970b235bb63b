"""`municloud wareki`: convert dates between ISO 西暦 and 和暦 with municloud.wareki.

`to-iso TEXT` reads any 和暦 form (令和元年5月1日, R1.05.01, 5010501) and prints the ISO date;
`from-iso DATE` prints the long form (year 1 as 元年), then the short and numeric forms.
Exit codes: 0 converted; 2 the input is not a date of that kind (the reason on stderr).
"""

from __future__ import annotations

from datetime import date

import typer

from municloud.wareki import WarekiError, parse_wareki, to_wareki

app = typer.Typer(help="Convert dates between ISO 西暦 and 和暦 (明治 to 令和).",
                  no_args_is_help=True)

EXIT_BAD_INPUT = 2


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@app.command("to-iso")
def to_iso(text: str = typer.Argument(..., help="和暦, e.g. 令和元年5月1日, R1.05.01, 5010501")
           ) -> None:
    """Print the ISO date of a 和暦 date."""
    try:
        typer.echo(parse_wareki(text).isoformat())
    except WarekiError as exc:
        _fail(str(exc))


@app.command("from-iso")
def from_iso(text: str = typer.Argument(..., help="ISO date, e.g. 2019-05-01")) -> None:
    """Print the 和暦 of an ISO date: long form, short form, numeric form (tab-separated)."""
    try:
        day = date.fromisoformat(text) if text.isascii() and len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        _fail(f"{text!r} is not an ISO date (YYYY-MM-DD, ASCII digits)")
        return
    try:
        w = to_wareki(day)
    except WarekiError as exc:
        _fail(str(exc))
        return
    typer.echo(f"{w.format()}\t{w.short()}\t{w.code()}")
