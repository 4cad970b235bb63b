"""`municloud platform`: validate, sign and key tooling for platform messages (地域情報プラットフォーム).

Exit codes of `validate`: 0 valid, 1 invalid against the schema or a message rule (path and
reason printed), 2 unsafe or not well-formed, 3 signature refused (only with --keys).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from municloud.platform.envelope import parse_message, sign_message
from municloud.platform.errors import (
    InvalidMessageError, MalformedMessageError, SignatureError, UnsafeMessageError,
)
from municloud.platform.safe_xml import DEFAULT_MAX_BYTES
from municloud.platform.signing import KeyRegistry, SigningKey

app = typer.Typer(help="Platform messages: validate, keygen, sign.", no_args_is_help=True)


def _read(path: Path, limit: int) -> bytes:
    # Read one byte past the limit so an oversized file is refused without reading it whole.
    with path.open("rb") as handle:
        return handle.read(limit + 1)


@app.command()
def validate(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="message XML file"),
    keys: Path | None = typer.Option(None, "--keys", exists=True, dir_okay=False, help="key registry YAML: also verify the signature"),
    max_bytes: int = typer.Option(DEFAULT_MAX_BYTES, "--max-bytes", help="size limit"),
) -> None:
    """Check FILE: safe, well-formed, valid against the v1 XSD and message rules (and signed, with --keys)."""
    try:
        registry = KeyRegistry.load(keys) if keys else None
        message = parse_message(_read(file, max_bytes), registry=registry, max_bytes=max_bytes)
    except (UnsafeMessageError, MalformedMessageError) as exc:
        typer.echo(f"{file}: refused ({exc.code}): {exc.reason}", err=True)
        raise typer.Exit(2)
    except InvalidMessageError as exc:
        typer.echo(f"{file}: invalid at {exc.path or '/'}: {exc.reason}", err=True)
        raise typer.Exit(1)
    except SignatureError as exc:
        typer.echo(f"{file}: signature refused at {exc.path or '/'}: {exc.reason}", err=True)
        raise typer.Exit(3)
    h = message.header
    signed = f", signed by {message.key_id}" + (" (verified)" if registry else " (not verified)") if message.key_id else ", unsigned"
    typer.echo(f"{file}: valid {h.message_type} {h.message_id} from {h.sender_unit.value}@{h.sender_lgcode} "
               f"to {h.receiver_unit.value}@{h.receiver_lgcode}, {h.record_count} record(s){signed}")


@app.command()
def keygen(
    key_id: str = typer.Option(..., "--key-id", help="e.g. 053031-residents_registry-1"),
    unit: str = typer.Option(..., "--unit"),
    lgcode: str = typer.Option(..., "--lgcode", help='6-digit code, or "*" for platform_hub'),
    out: Path = typer.Option(..., "--out", file_okay=False, help="directory for <key-id>.key"),
) -> None:
    """Create an Ed25519 key: private PEM file (mode 0400) and the registry entry on stdout."""
    registry = KeyRegistry()
    key = SigningKey.generate(key_id)
    try:
        registry.add_signing_key(key, lgcode=lgcode, unit=unit)
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{key_id}.key"
    if path.exists():
        typer.echo(f"refused: {path} exists", err=True)
        raise typer.Exit(1)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_pem())
    typer.echo(registry.to_yaml(), nl=False)
    typer.echo(f"wrote private key {path} (mode 0400)", err=True)


@app.command()
def sign(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    key: Path = typer.Option(..., "--key", exists=True, dir_okay=False, help="private key PEM (<key-id>.key)"),
    out: Path = typer.Option(..., "--out", dir_okay=False),
) -> None:
    """Re-encode an unsigned (or signed) message and sign it with KEY."""
    try:
        message = parse_message(_read(file, DEFAULT_MAX_BYTES))
    except (UnsafeMessageError, MalformedMessageError) as exc:
        typer.echo(f"{file}: refused ({exc.code}): {exc.reason}", err=True)
        raise typer.Exit(2)
    except InvalidMessageError as exc:
        typer.echo(f"{file}: invalid at {exc.path or '/'}: {exc.reason}", err=True)
        raise typer.Exit(1)
    signing_key = SigningKey.load(key)
    out.write_bytes(sign_message(message.model_copy(update={"key_id": None, "signature": None}), signing_key))
    typer.echo(f"signed {message.header.message_id} with {signing_key.key_id} into {out}")
