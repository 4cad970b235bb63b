"""Shared plumbing of the operations command groups (`backup`, `dr`): exit codes, step output."""

from __future__ import annotations

import contextlib
from typing import Iterator, NoReturn

import typer

from municloud_ops.dr.steps import StepFailed, StepResult

EXIT_FAILED = 1      # the operation ran and did not reach its goal (message says which step)
EXIT_BAD_INPUT = 2   # an option is invalid (named on stderr)
EXIT_NOT_FOUND = 3   # the stack's containers (or the backup repository) are not there

StackOpt = typer.Option("dev", "--stack", help="stack (consortium) name, e.g. dev or akita")
SitesOpt = typer.Option(None, "--sites", help="YAML file with the stack's municloud:sites value (each site's "
                        "engine, e.g. .state/sites/sites.yaml); default: Pulumi.<stack>.yaml's, else the local engine")


def show(result: StepResult) -> None:
    typer.echo(f"[{result.seconds:6.1f}s] {result.sentence}", err=not result.ok)


def fail(code: int, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def operation() -> Iterator[None]:
    """Turn the operations' exceptions into the documented exit codes."""
    try:
        yield
    except StepFailed as e:
        fail(EXIT_FAILED, str(e))
    except LookupError as e:
        fail(EXIT_NOT_FOUND, str(e.args[0] if e.args else e))
    except ValueError as e:
        fail(EXIT_BAD_INPUT, str(e))
    except RuntimeError as e:
        fail(EXIT_FAILED, str(e))
