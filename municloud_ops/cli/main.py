"""Entry point of the `municloud` CLI.

Each command group lives in its own module of this package and exposes a `typer.Typer`
named `app`; add its module name to COMMAND_GROUPS to register it.
"""

from __future__ import annotations

import importlib

import typer

# (sub-command name, module under municloud_ops.cli)
COMMAND_GROUPS: tuple[tuple[str, str], ...] = (
    ("layout", "layout"),
    ("conformance", "conformance"),
    ("token", "token"),
    ("platform", "platform"),
    ("ids", "ids"),
    ("calc", "calc"),
    ("wareki", "wareki"),
    ("loadtest", "loadtest"),
    ("stack", "stack"),
    ("backup", "backup"),
    ("dr", "dr"),
    ("member", "member"),
    ("opendata", "opendata"),
    ("cost", "cost"),
)

app = typer.Typer(
    name="municloud",
    help="Operate a shared municipal cloud (自治体クラウド): stacks, services, DR, load tests.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

for _name, _module in COMMAND_GROUPS:
    app.add_typer(importlib.import_module(f"municloud_ops.cli.{_module}").app, name=_name)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
