"""`municloud token issue`: sign a staff token (bearer JWT, EdDSA) for one service of one
municipality with that municipality's private key."""

from __future__ import annotations

from pathlib import Path

import typer

from municloud.auth import MAX_TTL_S, PURPOSES, SERVICES, generate_key_pair, issue_token

app = typer.Typer(help="Staff bearer tokens (EdDSA JWT) for the business services.",
                  no_args_is_help=True)


@app.command("issue")
def issue(
    lgcode: str = typer.Option(..., help="地方公共団体コード of the municipality (6 digits)."),
    staff: str = typer.Option(..., help="Staff id (sub claim)."),
    purpose: str = typer.Option(..., help=f"利用目的: one of {', '.join(sorted(PURPOSES))}."),
    audience: str = typer.Option(..., help=f"Service: one of {', '.join(sorted(SERVICES))}."),
    key_file: Path = typer.Option(..., exists=False, help="PEM file of the municipality's Ed25519 private key."),
    ttl: int = typer.Option(300, help=f"Lifetime in seconds (max {MAX_TTL_S})."),
) -> None:
    """Print a signed token on stdout (exit 0); exit 2 with the reason on bad input."""
    from municloud.ids import IdentifierError

    try:
        pem = key_file.read_text(encoding="utf-8")
    except OSError as exc:
        typer.echo(f"key-file: cannot read {key_file} ({type(exc).__name__})", err=True)
        raise typer.Exit(2) from None
    try:
        token = issue_token(pem, lgcode, staff, purpose, audience, ttl)
    except IdentifierError as exc:
        typer.echo(f"lgcode: {exc.reason}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(token)


@app.command("keygen")
def keygen(
    out: Path = typer.Option(..., help="Directory to write token-signing.key and token-signing.pub into."),
) -> None:
    """Create an Ed25519 token-signing key pair (private key mode 0400)."""
    out.mkdir(parents=True, exist_ok=True)
    private_pem, public_pem = generate_key_pair()
    private_path, public_path = out / "token-signing.key", out / "token-signing.pub"
    if private_path.exists():
        typer.echo(f"{private_path} exists; refusing to overwrite", err=True)
        raise typer.Exit(1)
    private_path.touch(mode=0o400)
    private_path.chmod(0o600)
    private_path.write_text(private_pem, encoding="utf-8")
    private_path.chmod(0o400)
    public_path.write_text(public_pem, encoding="utf-8")
    typer.echo(f"wrote token-signing key pair to {out}")
