"""`municloud cost`: metered usage per member and each member's share of the consortium's cost
(均等割 + 人口割 + 利用量割), with the arithmetic shown (docs/cost.md).

Exit codes: 0 done; 1 the operation failed (named); 2 bad input (the option is named); 3 nothing
metered / stack not found."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from municloud_ops.cli._ops import EXIT_BAD_INPUT, StackOpt, fail, operation

app = typer.Typer(help="Cost sharing: metered usage per member, shares by the consortium's formula.",
                  no_args_is_help=True)


def _members(stack: str):
    from municloud_ops.dr.sla import load_stack_config

    cfg = load_stack_config(stack, engines=False)
    if cfg is None:
        fail(EXIT_BAD_INPUT, f"--stack: no Pulumi.{stack}.yaml")
    return cfg, list(cfg.municipalities)


@app.command("report")
def report(fiscal_year: Annotated[int, typer.Option("--fiscal-year", help="年度 (April to March), e.g. 2026")],
           stack: str = StackOpt,
           usage_file: Annotated[Optional[Path], typer.Option("--usage", help="usage JSON (from `municloud "
                                 "cost usage --format json`); default: the meter's samples of the fiscal year")] = None,
           out_dir: Annotated[Path, typer.Option("--out", help="where the .md, .csv and .png go")] = Path("reports/cost"),
           ) -> None:
    """Each member's share of the fiscal year's cost: Markdown with the arithmetic, CSV, chart."""
    from municloud_ops.cost import allocation
    from municloud_ops.cost import report as rep
    from municloud_ops.cost.usage import UsageSummary

    if not 2000 <= fiscal_year <= 2100:
        fail(EXIT_BAD_INPUT, f"--fiscal-year: {fiscal_year} is not a 年度 between 2000 and 2100")
    cfg, members = _members(stack)
    with operation():
        if usage_file is not None:
            usage = UsageSummary.from_json(usage_file.read_text(encoding="utf-8"))
        else:
            from municloud_ops.cost.meter import fiscal_year_usage

            usage = fiscal_year_usage(stack, fiscal_year)
        result = allocation.allocate(cfg.cost, members, fiscal_year, usage)
        paths = rep.write(result, stack, out_dir)
    typer.echo(rep.markdown(result, stack))
    typer.echo(f"shared {result.total_yen:,} yen among {len(members)} members of {stack} for FY{fiscal_year}; "
               f"wrote {', '.join(str(p) for p in paths)}")


@app.command("meter")
def meter(stack: str = StackOpt,
          interval: Annotated[float, typer.Option("--interval", help="seconds between samples (>= 5)")] = 60.0,
          duration: Annotated[float, typer.Option("--duration", help="seconds to run (bounded; <= 31 days)")] = 3600.0,
          ) -> None:
    """Sample the engine's statistics of every container of the stack and persist them
    (.state/meter/<stack>.sqlite); run it beside the stack (e.g. under systemd or cron)."""
    from municloud_ops.cost.meter import Meter

    if interval < 5:
        fail(EXIT_BAD_INPUT, f"--interval: {interval} s is below 5 s")
    if not 0 < duration <= 31 * 86400:
        fail(EXIT_BAD_INPUT, f"--duration: {duration} s is not in (0, 31 days]")
    with operation():
        m = Meter.open(stack)
        n = m.run(interval, duration, echo=typer.echo)
    typer.echo(f"took {n} samples of {stack} into {m.path}")


@app.command("usage")
def usage(period: Annotated[str, typer.Option("--period", help="last:<n>m|h|d or START/END (ISO 8601)")],
          stack: str = StackOpt,
          fmt: Annotated[str, typer.Option("--format", help="json or csv")] = "json") -> None:
    """Metered usage per member (and shared) over the period, from the meter's samples."""
    from municloud_ops.cost.meter import parse_period
    from municloud_ops.cost.meter import usage as metered

    if fmt not in ("json", "csv"):
        fail(EXIT_BAD_INPUT, f"--format: must be json or csv (got {fmt!r})")
    try:
        start, end = parse_period(period)
    except ValueError as exc:
        fail(EXIT_BAD_INPUT, str(exc))
    with operation():
        summary = metered(stack, start, end)
    if fmt == "json":
        typer.echo(summary.to_json())
    else:
        typer.echo("\n".join(",".join(row) for row in summary.csv_rows()))
