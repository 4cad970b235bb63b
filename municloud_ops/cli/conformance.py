"""`municloud conformance run`: check a vendor's unit endpoint against the platform format,
the intermediate standard layout and its OpenAPI contract (適合性検査). `municloud conformance
receive`: the kit as receiving units behind a hub, checking what the hub delivers.

Exit codes: 0 every required check passed; 2 usage error (bad option, unreadable key);
3 not conforming (at least one check failed); 4 endpoint unreachable (no check ran).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from municloud_ops.conformance import (
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    KitOptions,
    Unreachable,
    run_suite,
)
from municloud_ops.cli.layout import resolve_token
from municloud_ops.conformance.profiles import PROFILES

app = typer.Typer(help="Vendor conformance kit (適合性検査).", no_args_is_help=True)

# Options both commands take.
CaFile = Annotated[Path | None, typer.Option("--ca-file", help="CA bundle for TLS")]
Out = Annotated[Path, typer.Option("--out", help="Report directory")]
Timeout = Annotated[float, typer.Option("--timeout", help="Per request, seconds")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v")]
KeyId = Annotated[str | None, typer.Option("--key-id", help="Default: key file name")]
UnitKeys = Annotated[Path | None, typer.Option(
    "--unit-keys", help="Key registry with the endpoint's public key (verifies replies)")]


@app.command("run")
def run_cmd(
    unit: Annotated[str, typer.Option("--unit", help=f"One of {', '.join(PROFILES)}")],
    base_url: Annotated[str, typer.Option("--base-url", help="The unit's base URL")],
    signing_key: Annotated[Path, typer.Option(
        "--signing-key", help="Kit sender key (PKCS#8 PEM) registered at the endpoint")],
    token: Annotated[str | None, typer.Option(
        "--token", help="Bearer token for the unit; prefer --token-file")] = None,
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="File holding the bearer token")] = None,
    key_id: KeyId = None,
    lgcode: Annotated[str | None, typer.Option(
        "--lgcode", help="Endpoint municipality; default: the token's lgcode claim")] = None,
    peer_lgcode: Annotated[str | None, typer.Option(
        "--peer-lgcode", help="Sender municipality of cross-municipality messages; default "
                              "053279 (053031 when --lgcode is 053279), printed at the start")
    ] = None,
    unit_keys: UnitKeys = None,
    import_base_url: Annotated[str | None, typer.Option(
        "--import-base-url", help="Base URL of an EMPTY municipality (layout round trip)")
    ] = None,
    import_token: Annotated[str | None, typer.Option(
        "--import-token", help="Token of the import municipality; prefer --import-token-file")
    ] = None,
    import_token_file: Annotated[Path | None, typer.Option(
        "--import-token-file", help="File holding the import municipality's token")] = None,
    import_reset_command: Annotated[str | None, typer.Option(
        "--import-reset-command", help="Your command that empties the import municipality; run "
                                       "before the round trip so reruns pass")] = None,
    responder_key: Annotated[Path | None, typer.Option(
        "--responder-key", help="nhi: a key registered at the endpoint as (lgcode, tax); "
                                "MSG-017 sends a 所得照会 answer carrying a 個人番号 with it")
    ] = None,
    ca_file: CaFile = None,
    out: Out = Path("conformance-report"),
    timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Run every check for one unit; reports in --out (junit.xml, report.json, report.html)."""
    if unit not in PROFILES:
        typer.echo(f"error: --unit must be one of {', '.join(PROFILES)}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if unit == "platform_hub" and token is None and token_file is None:
        token = ""  # the hub's POST /api/v1/messages is authenticated by the signature alone
    else:
        token = resolve_token(token, token_file)
    if import_token is not None or import_token_file is not None:
        import_token = resolve_token(import_token, import_token_file)
    if peer_lgcode is None and PROFILES[unit].cross_municipality:
        from municloud_ops.conformance.context import default_peer, token_lgcode

        peer_lgcode = default_peer(lgcode or token_lgcode(token) or "")
        typer.echo(f"--peer-lgcode not given: the kit sends as municipality {peer_lgcode}")
    options = KitOptions(unit=unit, base_url=base_url, token=token, signing_key=signing_key,
                         key_id=key_id, lgcode=lgcode, peer_lgcode=peer_lgcode,
                         unit_keys=unit_keys, import_base_url=import_base_url,
                         import_token=import_token, import_reset_command=import_reset_command,
                         responder_key=responder_key,
                         verify=str(ca_file) if ca_file else True,
                         timeout=timeout, out_dir=out)
    _run_and_print(options, verbose)


def _run_and_print(options: KitOptions, verbose: bool, announce=None) -> None:
    """Run, print one line per check and the verdict; exit with the kit's code."""
    out = options.out_dir
    try:
        code, report = run_suite(options, quiet=not verbose, announce=announce)
    except Unreachable as exc:
        typer.echo(f"error: {exc}; no check was run", err=True)
        raise typer.Exit(EXIT_UNREACHABLE) from None
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    for check in report.checks:
        line = f"{check.id:12} {check.outcome:8} {check.title}"
        typer.echo(line + (f"\n{'':22}{check.detail}" if check.detail else ""))
    typer.echo(f"{report.verdict} in {report.duration_s:.1f} s; reports in {out}/ "
               f"(junit.xml, report.json, report.html)")
    raise typer.Exit(code)


@app.command("receive")
def receive_cmd(
    hub_url: Annotated[str, typer.Option("--hub-url", help="The hub's base URL")],
    lgcode: Annotated[str, typer.Option(
        "--lgcode", help="Municipality whose tax and nhi the kit plays")],
    signing_key: Annotated[Path | None, typer.Option(
        "--signing-key", help="Kit sender key registered at the hub as (lgcode, "
                              "residents_registry)")] = None,
    responder_key: Annotated[Path | None, typer.Option(
        "--responder-key", help="A key registered at the hub as (lgcode, tax): RCV-008 sends "
                                "tax's 所得照会 answer with and without a 個人番号")] = None,
    key_id: KeyId = None,
    unit_keys: UnitKeys = None,
    listen: Annotated[str, typer.Option(
        "--listen", help="host:port the kit's inboxes listen on")] = "127.0.0.1:8790",
    advertise_url: Annotated[str | None, typer.Option(
        "--advertise-url", help="How the hub reaches that listener; default http://<listen>")
    ] = None,
    print_registration: Annotated[bool, typer.Option(
        "--print-registration", help="Print the hub's INBOX_URLS_FILE lines for the kit's "
                                     "inboxes and exit")] = False,
    wait: Annotated[float, typer.Option(
        "--wait", help="Longest wait, seconds, for a delivery the hub owes (retries included)")
    ] = 60.0,
    quiet: Annotated[float, typer.Option(
        "--quiet", help="Seconds to watch for a delivery that must not come")] = 5.0,
    ca_file: CaFile = None,
    out: Out = Path("conformance-report"),
    timeout: Timeout = 30.0,
    verbose: Verbose = False,
) -> None:
    """Play tax and nhi of --lgcode behind the hub: publish through it, check what it delivers
    (HB-RCV-xxx); reports in --out as for `run`. Ends by itself: every wait is bounded."""
    from municloud_ops.conformance.receiver import registration_yaml

    from municloud.ids import IdentifierError, validate_lgcode

    try:
        validate_lgcode(lgcode)
    except IdentifierError as exc:
        typer.echo(f"error: --lgcode: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        typer.echo(f"error: --listen must be host:port, got {listen!r}", err=True)
        raise typer.Exit(EXIT_USAGE)
    advertise = advertise_url or f"http://{listen}"
    if print_registration:
        typer.echo(registration_yaml(advertise, lgcode), nl=False)
        raise typer.Exit(0)
    if signing_key is None:
        typer.echo("error: --signing-key is needed (a key the hub registered as "
                   f"({lgcode}, residents_registry))", err=True)
        raise typer.Exit(EXIT_USAGE)
    if port == "0" and advertise_url is None:
        typer.echo("error: --listen needs a fixed port: the hub must know the address", err=True)
        raise typer.Exit(EXIT_USAGE)
    options = KitOptions(unit="platform_hub", base_url=hub_url, token="",
                         signing_key=signing_key, key_id=key_id, lgcode=lgcode,
                         unit_keys=unit_keys, responder_key=responder_key,
                         verify=str(ca_file) if ca_file else True, timeout=timeout, out_dir=out,
                         kit_role="receiver", listen=listen, advertise_url=advertise,
                         wait_s=wait, quiet_s=quiet)
    _run_and_print(options, verbose, announce=typer.echo)
