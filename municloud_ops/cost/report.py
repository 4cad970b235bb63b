"""`municloud cost report`: each member's share with the arithmetic shown (Markdown), the same
figures as CSV, and a chart (matplotlib)."""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

from municloud_ops.cost.allocation import Allocation, fiscal_year_days
from municloud_ops.cost.usage import SHARED


def _yen(x: Fraction | int, places: int = 4) -> str:
    """A yen amount with enough decimals to redo the arithmetic (exact values are fractions)."""
    if isinstance(x, int) or x.denominator == 1:
        return f"{int(x):,}"
    return f"{float(x):,.{places}f}"


def _w(x: Fraction) -> str:
    return f"{float(x):g}"


def markdown(a: Allocation, stack: str) -> str:
    we, wp, wu = a.weights
    n = len(a.shares)
    pop = sum(s.member.population for s in a.shares)
    used = sum((s.usage_yen for s in a.shares), Fraction(0))
    lines = [f"# Cost sharing, stack {stack}, fiscal year {a.fiscal_year} "
             f"({a.fiscal_year}-04-01 to {a.fiscal_year + 1}-03-31, {fiscal_year_days(a.fiscal_year)} days)", ""]
    if a.usage is None:
        lines.append("- metered cost: none metered (利用量割 weight 0) → 0 yen")
    else:
        shared = a.usage.priced(SHARED, a.prices)
        lines += [
            f"- metered period: {a.usage.start.isoformat()} to {a.usage.end.isoformat()} "
            f"({a.usage.days:.6f} days, {a.usage.samples} samples)",
            f"- metered cost in the period: members {_yen(used, 6)} + shared {_yen(shared, 6)} = "
            f"{_yen(a.metered_period_yen, 6)} yen",
            f"- annualised: {_yen(a.metered_period_yen, 6)} × {fiscal_year_days(a.fiscal_year)} days / "
            f"{a.usage.days:.6f} days = {_yen(a.metered_period_yen * a.scale, 4)} → rounded down "
            f"**{a.metered_yen:,}** yen",
        ]
    lines += [
        f"- fixed annual cost of the shared environment: {a.fixed_yen:,} yen",
        f"- **total T = {a.fixed_yen:,} + {a.metered_yen:,} = {a.total_yen:,} yen**",
        f"- formula: 均等割 {_w(we)} + 人口割 {_w(wp)} + 利用量割 {_w(wu)} (sum 1); "
        f"{n} members, population Σ {pop:,}, members' metered usage Σ {_yen(used, 6)} yen",
        "- rounding: each share rounded down to whole yen; the yen left over go one each to the "
        "largest fractional parts (ties: lower code), so the shares sum exactly to T", "",
        "| member | code | population | usage (yen, period) | 均等割 | 人口割 | 利用量割 | exact | rounded down | + remainder | **share (yen)** |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in a.shares:
        lines.append(f"| {s.member.name} | {s.member.lgcode} | {s.member.population:,} | {_yen(s.usage_yen, 6)} | "
                     f"{_yen(s.equal)} | {_yen(s.population)} | {_yen(s.usage)} | {_yen(s.exact)} | "
                     f"{s.floor_yen:,} | {s.remainder_yen} | **{s.yen:,}** |")
    lines.append(f"| **total** | | {pop:,} | {_yen(used, 6)} | | | | {_yen(sum((s.exact for s in a.shares), Fraction(0)))} | "
                 f"{sum(s.floor_yen for s in a.shares):,} | {sum(s.remainder_yen for s in a.shares)} | "
                 f"**{sum(s.yen for s in a.shares):,}** |")
    lines += ["", "## Arithmetic per member", ""]
    for s in a.shares:
        m = s.member
        use = (f"{a.total_yen:,} × {_w(wu)} × {_yen(s.usage_yen, 6)} / {_yen(used, 6)} = {_yen(s.usage)}"
               if wu else "0 (weight 0)")
        lines.append(
            f"- {m.name} ({m.lgcode}): 均等割 {a.total_yen:,} × {_w(we)} / {n} = {_yen(s.equal)}; "
            f"人口割 {a.total_yen:,} × {_w(wp)} × {m.population:,} / {pop:,} = {_yen(s.population)}; "
            f"利用量割 {use}; sum {_yen(s.exact)} → {s.floor_yen:,} + {s.remainder_yen} = **{s.yen:,} yen**")
    return "\n".join(lines) + "\n"


def to_csv(a: Allocation) -> str:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["fiscal_year", "lgcode", "name", "population", "usage_yen_period", "equal_yen",
                "population_yen", "usage_yen", "exact_yen", "floor_yen", "remainder_yen", "share_yen"])
    for s in a.shares:
        w.writerow([a.fiscal_year, s.member.lgcode, s.member.name, s.member.population,
                    f"{float(s.usage_yen):.6f}", f"{float(s.equal):.4f}", f"{float(s.population):.4f}",
                    f"{float(s.usage):.4f}", f"{float(s.exact):.4f}", s.floor_yen, s.remainder_yen, s.yen])
    w.writerow([a.fiscal_year, "total", "", sum(s.member.population for s in a.shares), "", "", "", "",
                "", sum(s.floor_yen for s in a.shares), sum(s.remainder_yen for s in a.shares), a.total_yen])
    return out.getvalue()


def chart(a: Allocation, out: Path, stack: str) -> Path:
    """Stacked bars per member: equal / population / usage parts (labels by code: no CJK font)."""
    from municloud_ops.loadtest.plots import _pyplot

    plt = _pyplot()
    codes = [s.member.lgcode for s in a.shares]
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(codes) + 3), 4.2))
    left = [0.0] * len(codes)
    for attr, label in (("equal", "equal (kintou-wari)"), ("population", "population (jinkou-wari)"),
                        ("usage", "usage (riyouryou-wari)")):
        values = [float(getattr(s, attr)) / 1e6 for s in a.shares]
        ax.bar(codes, values, bottom=left, label=label)
        left = [x + v for x, v in zip(left, values)]
    ax.set_ylabel("million yen")
    ax.set_title(f"{stack}: shares of FY{a.fiscal_year} total {a.total_yen / 1e6:,.1f} million yen")
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def write(a: Allocation, stack: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / f"cost-{stack}-FY{a.fiscal_year}.md"
    md.write_text(markdown(a, stack), encoding="utf-8")
    table = out_dir / f"cost-{stack}-FY{a.fiscal_year}.csv"
    table.write_text(to_csv(a), encoding="utf-8-sig")
    return [md, table, chart(a, out_dir / f"cost-{stack}-FY{a.fiscal_year}.png", stack)]
