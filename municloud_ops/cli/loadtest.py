"""`municloud loadtest`: prove the SLA's concurrency before go-live (同時接続利用者数).

    municloud loadtest run --stack dev --shape steady|step|spike|soak [--processes N]
    municloud loadtest capacity --stack dev
    municloud loadtest reset --stack dev

Exit codes: 0 the SLA held (run) / the capacity reaches the SLA's concurrent users (capacity) /
every member's services emptied (reset); 3 the SLA gate failed / capacity below the SLA; 2 bad
options or stack config, or reset on a stack not marked as a test stack; 1 the run itself failed
(Locust error, seeding or reset failed, target unreachable).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import typer

from municloud_ops.loadtest import stages
from municloud_ops.loadtest.sla import EXIT_SLA_BREACH

app = typer.Typer(help="Capacity tests: Locust scenarios through the SLA gate, capacity search, "
                       "reports under reports/.", no_args_is_help=True)

STACK = typer.Option("dev", "--stack", help="stack (consortium) whose config gives "
                                            "municipalities, populations and SLA targets")
PROCESSES = typer.Option(1, "--processes", min=1, max=64,
                         help="Locust generator processes (one per core: `nproc`)")
LOCAL = typer.Option(False, "--local", help="do not use the deployed stack: start PostgreSQL + "
                                            "the services per municipality on 127.0.0.1")
SEED_CAP = typer.Option(None, "--seed-population", min=1,
                        help="seed at most this many residents per municipality (default: the "
                             "municipality's population)")


def _say(message: str) -> None:
    typer.echo(message)


@contextlib.contextmanager
def _target(stack: str, local: bool):
    from municloud_ops.loadtest.targets import (TargetError, municipalities_and_sla,
                                            municipality_params, running_services, stack_target)

    try:
        if local:
            from municloud_ops.loadtest.local import local_target

            municipalities, sla, _ = municipalities_and_sla(stack)
            services = running_services(stack)
            _say(f"starting PostgreSQL + {', '.join(services)} for {len(municipalities)} "
                 "municipalities on 127.0.0.1 ...")
            with local_target(municipalities, sla, services=services,
                              params=municipality_params(stack)) as target:
                yield target
        else:
            with tempfile.TemporaryDirectory(prefix="mc-loadtest-keys-") as keys:
                yield stack_target(stack, Path(keys))
    except TargetError as exc:
        _say(f"error: {exc}")
        raise typer.Exit(2) from None


def _seed(target, out: Path, cap: int | None) -> Path:
    from municloud_ops.loadtest.data import DataLoadError, seed_target

    try:
        loaded = seed_target(target, out / "data.json", population_cap=cap, progress=_say)
    except DataLoadError as exc:
        _say(f"error: seeding failed: {exc}")
        raise typer.Exit(1) from None
    _say(loaded.sentence())
    return loaded.manifest


def _scaled(target, users: int):
    """Fewer (or more) users than the SLA's: the throughput floor scales with them; p95 and
    the failure ratio stay the SLA's."""
    import dataclasses

    sla = target.sla
    scaled = dataclasses.replace(
        sla, concurrent_users=users, min_rps=sla.min_rps * users / sla.concurrent_users,
        source=f"{sla.source}; throughput floor scaled to {users} of {sla.concurrent_users} users")
    return dataclasses.replace(target, sla=scaled)


@app.command()
def run(
    stack: str = STACK,
    shape: str = typer.Option("steady", "--shape", help="steady | step | spike | soak"),
    processes: int = PROCESSES,
    duration: float = typer.Option(None, "--duration", min=5,
                                   help="seconds (steady 60, spike 90, soak 1800 by default)"),
    users: int = typer.Option(None, "--users", min=1,
                              help="override the SLA's concurrent users"),
    local: bool = LOCAL,
    seed_population: int = SEED_CAP,
) -> None:
    """Run one load shape headless through the SLA gate; Locust HTML/CSV + plots in reports/."""
    from municloud_ops.loadtest import report, runner

    if shape not in stages.SHAPES:
        _say(f"error: --shape must be one of {', '.join(stages.SHAPES)}, got {shape!r}")
        raise typer.Exit(2)
    with _target(stack, local) as target:
        if users and users != target.sla.concurrent_users:
            target = _scaled(target, users)
        out = report.run_dir(stack, shape)
        manifest = _seed(target, out, seed_population)
        overrides = {"users": users} if users else {}
        try:
            params = runner.build_plan(shape, target.sla.concurrent_users, duration, **overrides)
            result = runner.run(target, shape, params, out, data_manifest=manifest,
                                processes=processes, progress=_say)
        except ValueError as exc:
            _say(f"error: {exc}")
            raise typer.Exit(2) from None
        except runner.RunError as exc:
            _say(f"error: {exc}")
            raise typer.Exit(1) from None
        _say(f"report: {report.write(result, target)}")
    raise typer.Exit(0 if result.passed else (EXIT_SLA_BREACH if result.gate else 1))


@app.command()
def capacity(
    stack: str = STACK,
    processes: int = PROCESSES,
    start: int = typer.Option(None, "--start", min=1, help="users of the first step"),
    step: int = typer.Option(None, "--step", min=1, help="users added per step"),
    step_seconds: float = typer.Option(30.0, "--step-seconds", min=10),
    max_users: int = typer.Option(None, "--max-users", min=1,
                                  help="stop here even if the SLA holds (default 4 x SLA users)"),
    local: bool = LOCAL,
    seed_population: int = SEED_CAP,
    stop_on_breach: bool = typer.Option(True, "--stop-on-breach/--no-stop-on-breach",
                                        help="end the search at the first step that misses the "
                                             "SLA (default) or run every step for the full curve"),
    publish: bool = typer.Option(False, "--publish",
                                 help="copy the plots to reports/capacity-<stack>-*.png for docs"),
) -> None:
    """Step the users up until the SLA breaks; report the highest users and req/s that held."""
    from municloud_ops.loadtest import report, runner
    from municloud_ops.loadtest.capacity import find_capacity

    with _target(stack, local) as target:
        out = report.run_dir(stack, "capacity")
        manifest = _seed(target, out, seed_population)
        overrides = {k: v for k, v in (("start_users", start), ("step_users", step),
                                       ("max_users", max_users)) if v}
        overrides["step_s"] = step_seconds
        overrides["stop_on_breach"] = stop_on_breach
        try:
            params = runner.build_plan("step", target.sla.concurrent_users, None, **overrides)
            result = runner.run(target, "step", params, out, data_manifest=manifest,
                                processes=processes, progress=_say)
        except ValueError as exc:
            _say(f"error: {exc}")
            raise typer.Exit(2) from None
        except runner.RunError as exc:
            _say(f"error: {exc}")
            raise typer.Exit(1) from None
        found = find_capacity(result.steps, target.sla)
        _say(found.sentence())
        _say(f"report: {report.write(result, target, found, f'capacity-{stack}' if publish else None)}")
    raise typer.Exit(0 if found.meets_sla_users else EXIT_SLA_BREACH)


@app.command()
def reset(stack: str = typer.Option(..., "--stack", help="deployed stack marked as a test stack "
                                                          "(municloud:test_stack: true)")) -> None:
    """Empty the load-test data of every member's services on a test stack (each service's
    in-container `seed --reset`; the access log is kept), so seeding starts afresh. Refuses
    (exit 2) a stack not marked as a test stack."""
    from municloud_ops.loadtest.data import DataLoadError, NotATestStack, reset_stack
    from municloud_ops.loadtest.targets import TargetError

    try:
        sentences = reset_stack(stack, progress=_say)
    except (NotATestStack, TargetError) as exc:
        _say(f"error: {exc}")
        raise typer.Exit(2) from None
    except DataLoadError as exc:
        _say(f"error: reset failed: {exc}")
        raise typer.Exit(1) from None
    _say(f"reset {len(sentences)} members of stack {stack}")
