"""`municloud layout`: export, import and validate intermediate standard layout files (中間標準レイアウト).

Exit codes: 0 done / valid; 1 the file breaks the layout (every issue listed); 2 usage error or
unreadable file; 3 the service refused (auth, not empty, other 4xx/5xx); 4 service unreachable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from municloud.layout import AREAS, load_layout, validate
from municloud.layout.codec import ENCODINGS
from municloud.layout.transfer import TransferError, export_file, import_file

app = typer.Typer(help="Intermediate standard layout (中間標準レイアウト) files: export, import, "
                       "validate.", no_args_is_help=True)

EXIT_INVALID, EXIT_USAGE, EXIT_REFUSED, EXIT_UNREACHABLE = 1, 2, 3, 4
_EXIT_BY_KIND = {"invalid": EXIT_INVALID, "refused": EXIT_REFUSED,
                 "unreachable": EXIT_UNREACHABLE}

AreaOpt = Annotated[str, typer.Option("--area", help=f"Business area: {', '.join(AREAS)}")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help=f"One of {', '.join(ENCODINGS)}")]
BaseUrlOpt = Annotated[str, typer.Option("--base-url", help="Service base URL, e.g. "
                                         "https://127.0.0.1:8443/053031/residents_registry")]
TokenOpt = Annotated[str | None, typer.Option(
    "--token", help="Bearer token (municloud token issue); prefer --token-file")]
TokenFileOpt = Annotated[Path | None, typer.Option(
    "--token-file", help="File holding the bearer token (keeps it out of the process list)")]
CaOpt = Annotated[Path | None, typer.Option("--ca-file", help="CA bundle for the gateway's TLS")]
FormatOpt = Annotated[str, typer.Option("--format", help="Report format: text or json")]


def _layout(area: str):
    try:
        return load_layout(area)
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _check_encoding(encoding: str) -> None:
    if encoding not in ENCODINGS:
        typer.echo(f"error: --encoding must be one of {', '.join(ENCODINGS)}", err=True)
        raise typer.Exit(EXIT_USAGE)


def resolve_token(token: str | None, token_file: Path | None) -> str:
    """Exactly one of --token / --token-file (also used by `municloud conformance`)."""
    if (token is None) == (token_file is None):
        typer.echo("error: give exactly one of --token, --token-file", err=True)
        raise typer.Exit(EXIT_USAGE)
    if token_file is None:
        return token or ""
    try:
        return token_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        typer.echo(f"error: cannot read {token_file}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _fail(exc: TransferError, fmt: str = "text") -> None:
    if exc.report is not None:
        typer.echo(exc.report.to_json() if fmt == "json" else exc.report.to_text())
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(_EXIT_BY_KIND[exc.kind])


@app.command("export")
def export_cmd(area: AreaOpt, base_url: BaseUrlOpt,
               output: Annotated[Path, typer.Option("-o", "--output", help="File to write")],
               token: TokenOpt = None, token_file: TokenFileOpt = None,
               encoding: EncodingOpt = "utf-8", ca_file: CaOpt = None) -> None:
    """Export a municipality's data of one business area as a layout file."""
    _check_encoding(encoding)
    try:
        result = export_file(_layout(area), base_url, resolve_token(token, token_file),
                             encoding=encoding,
                             verify=str(ca_file) if ca_file else True)
    except TransferError as exc:
        _fail(exc)
    output.write_bytes(result.data)
    typer.echo(f"{result.message} → {output}")


@app.command("import")
def import_cmd(area: AreaOpt, base_url: BaseUrlOpt,
               file: Annotated[Path, typer.Argument(help="Layout file to import")],
               token: TokenOpt = None, token_file: TokenFileOpt = None, encoding: EncodingOpt = "utf-8", ca_file: CaOpt = None,
               fmt: FormatOpt = "text") -> None:
    """Import a layout file into an empty municipality: all rows or none."""
    _check_encoding(encoding)
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    try:
        result = import_file(_layout(area), data, base_url, resolve_token(token, token_file),
                             encoding=encoding,
                             verify=str(ca_file) if ca_file else True)
    except TransferError as exc:
        _fail(exc, fmt)
    typer.echo(result.message)


@app.command("validate")
def validate_cmd(file: Annotated[Path, typer.Argument(help="Layout file to check")],
                 area: Annotated[str | None, typer.Option(
                     "--area", help="Business area; default: recognised from the header")] = None,
                 encoding: EncodingOpt = "utf-8",
                 fmt: FormatOpt = "text") -> None:
    """Check a layout file: exit 0 when valid, 1 with every issue (line, item, reason)."""
    _check_encoding(encoding)
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    candidates = [_layout(area)] if area else [load_layout(a) for a in AREAS]
    reports = [validate(layout, data, encoding=encoding)[0] for layout in candidates]
    # Without --area, the area whose header matches decides; otherwise report the first.
    report = next((r for r in reports if not any(i.line == 1 and i.item is None
                                                  for i in r.issues)), reports[0])
    typer.echo(report.to_json() if fmt == "json" else report.to_text())
    raise typer.Exit(0 if report.valid else EXIT_INVALID)
