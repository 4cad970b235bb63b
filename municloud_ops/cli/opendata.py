"""`municloud opendata`: a member's 自治体標準オープンデータセット (地域・年齢別人口, 世帯数) as of a
date, fetched through the frontdoor without a token, and validated (docs/opendata.md).

Exit codes: 0 done; 1 a file failed validation or the fetch failed (named); 2 bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from municloud_ops.cli._ops import EXIT_BAD_INPUT, StackOpt, fail, operation

app = typer.Typer(help="Open data from the registers (指針7): publish and validate.", no_args_is_help=True)

LgcodeOpt = Annotated[str, typer.Option("--lgcode", help="municipality code (全国地方公共団体コード)")]
AsOfOpt = Annotated[str, typer.Option("--as-of", help="調査年月日, YYYY-MM-DD")]
DirOpt = Annotated[Optional[Path], typer.Option("--dir", help="where the files go / are "
                                                "(default .state/opendata/<stack>/<lgcode>/<date>)")]
MinOpt = Annotated[int, typer.Option("--min-cell", help="smallest count that may be published")]


def _args(lgcode: str, as_of: str) -> tuple[str, dt.date]:
    from municloud.ids import IdentifierError, validate_lgcode

    try:
        code = validate_lgcode(lgcode)
    except IdentifierError as exc:
        fail(EXIT_BAD_INPUT, f"--lgcode: {exc.reason}")
    try:
        return code, dt.date.fromisoformat(as_of)
    except ValueError:
        fail(EXIT_BAD_INPUT, f"--as-of: {as_of!r} is not a date YYYY-MM-DD")


@app.command("publish")
def publish(lgcode: LgcodeOpt, as_of: AsOfOpt, stack: str = StackOpt, out_dir: DirOpt = None,
            min_cell: MinOpt = 3,
            frontdoor_url: Annotated[Optional[str], typer.Option(help="default: the stack's output")] = None,
            ca_file: Annotated[Optional[Path], typer.Option(help="default: the stack's consortium CA")] = None) -> None:
    """Fetch the member's open data through the frontdoor (no token) and validate it."""
    from municloud_ops.opendata import publish as pub

    code, day = _args(lgcode, as_of)
    target = out_dir or pub.default_dir(stack, code, day)
    with operation():
        if frontdoor_url is None or ca_file is None:
            from municloud_ops.loadtest.targets import stack_outputs

            outputs = stack_outputs(stack)
            frontdoor_url = frontdoor_url or outputs["frontdoor_url"]
            if ca_file is None:
                target.mkdir(parents=True, exist_ok=True)
                ca_file = target.parent / "ca.crt"
                ca_file.write_text(outputs["ca_cert_pem"], encoding="ascii")
        for sentence in pub.publish(pub.Frontdoor(frontdoor_url, ca_file), code, day, target,
                                    min_count=min_cell):
            typer.echo(sentence)
        typer.echo(f"wrote {target}")


@app.command("validate")
def validate(lgcode: LgcodeOpt, as_of: AsOfOpt, stack: str = StackOpt, out_dir: DirOpt = None,
             min_cell: MinOpt = 3) -> None:
    """Validate published files against the column definition and the small-cell rule."""
    from municloud_ops.opendata import publish as pub

    code, day = _args(lgcode, as_of)
    target = out_dir or pub.default_dir(stack, code, day)
    if not target.is_dir():
        fail(EXIT_BAD_INPUT, f"--dir: {target} does not exist (run `municloud opendata publish` first)")
    reports = pub.validate_dir(target, code, day, min_count=min_cell)
    for r in reports:
        typer.echo(r.sentence(), err=not r.ok)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)
