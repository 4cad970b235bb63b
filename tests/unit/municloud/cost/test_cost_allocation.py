"""The consortium's formula: shares computed by hand for two sets of weights, whole yen summing
exactly to the total, deterministic remainders, refusals that name the key."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

import pytest

from municloud_ops.cost.allocation import allocate, fiscal_year_days
from municloud_ops.cost.report import markdown, to_csv
from municloud_ops.cost.usage import UsageSummary
from stacks.config import DEFAULTS, ConfigError, CostConfig, MunicipalityConfig, load

pytestmark = pytest.mark.unit



def member(lgcode: str, name: str, population: int) -> MunicipalityConfig:
    slot = int(lgcode[2:5]) % 99 + 1
    return MunicipalityConfig(lgcode=lgcode, address_slot=slot, name=name, population=population, params=None)


MEMBERS = [member("053031", "小坂町", 5864), member("053279", "上小阿仁村", 2697), member("053465", "藤里町", 3807)]
START = datetime(2026, 4, 1)


def cost(fixed=1_000_000, equal=0.2, population=0.5, usage=0.3, **prices) -> CostConfig:
    unit = {**DEFAULTS["cost"]["unit_prices"], **prices}
    return CostConfig(fixed_annual_yen=fixed, unit_prices=unit,
                      weights={"equal": equal, "population": population, "usage": usage})


def usage(days=1.0, cpu=(6.0, 2.0, 2.0), shared_cpu=10.0) -> UsageSummary:
    owners = {code: {"cpu_core_hour": c} for code, c in zip(("053031", "053279", "053465"), cpu)}
    owners["shared"] = {"cpu_core_hour": shared_cpu}
    return UsageSummary("t", START, START + timedelta(days=days), owners, samples=10)


def test_shares_match_the_hand_computation_and_change_with_the_weights():
    # metered: (6+2+2+10) core-hours × 10 yen = 200 yen in one day → ×365 = 73,000; T = 1,073,000.
    # usage ratio 6:2:2 (members only, shared excluded); population 5864:2697:3807 (Σ 12,368).
    a = allocate(cost(), MEMBERS, 2026, usage())
    assert a.metered_yen == 73_000 and a.total_yen == 1_073_000
    t = Fraction(1_073_000)
    by_hand = [t * Fraction(2, 10) / 3 + t * Fraction(5, 10) * p / 12368 + t * Fraction(3, 10) * u / 10
               for p, u in ((5864, 6), (2697, 2), (3807, 2))]
    assert [s.exact for s in a.shares] == by_hand
    # 小坂町 71,533.3333 + 254,369.0168 + 193,140 = 519,042.3502; 上小阿仁村 71,533.3333 + 116,990.6614
    # + 64,380 = 252,903.9947; 藤里町 71,533.3333 + 165,140.3218 + 64,380 = 301,053.6551. Floors sum to
    # 1,072,998: the 2 yen left go to the largest fractions (.9947, .6551).
    assert [s.yen for s in a.shares] == [519_042, 252_904, 301_054]
    assert sum(s.yen for s in a.shares) == a.total_yen

    b = allocate(cost(equal=0.5, population=0.5, usage=0.0), MEMBERS, 2026, usage())
    by_hand_b = [t / 2 / 3 + t / 2 * p / 12368 for p in (5864, 2697, 3807)]
    assert [s.exact for s in b.shares] == by_hand_b
    # 433,202.3502 / 295,823.9947 / 343,973.6551: again 2 yen left, to the two largest fractions
    assert [s.yen for s in b.shares] == [433_202, 295_824, 343_974]
    assert sum(s.yen for s in b.shares) == b.total_yen
    assert [s.yen for s in a.shares] != [s.yen for s in b.shares]


def test_remainder_goes_to_the_largest_fractions_ties_to_the_lower_code():
    tie = [member("053279", "上小阿仁村", 1), member("053031", "小坂町", 1), member("053465", "藤里町", 1)]
    a = allocate(cost(fixed=100, equal=1.0, population=0.0, usage=0.0), tie, 2026, None)
    assert {s.member.lgcode: s.yen for s in a.shares} == {"053031": 34, "053279": 33, "053465": 33}
    assert allocate(cost(fixed=100, equal=1.0, population=0.0, usage=0.0), tie, 2026, None) == a


def test_report_shows_the_arithmetic_that_reproduces_each_share():
    a = allocate(cost(), MEMBERS, 2026, usage())
    md = markdown(a, "t")
    assert "total T = 1,000,000 + 73,000 = 1,073,000 yen" in md
    assert "均等割 1,073,000 × 0.2 / 3 = 71,533.3333" in md
    assert "人口割 1,073,000 × 0.5 × 5,864 / 12,368 = 254,369.0168" in md
    assert "sum 519,042.3502 → 519,042 + 0 = **519,042 yen**" in md
    rows = to_csv(a).splitlines()
    assert rows[-1].endswith(",1073000") and len(rows) == 5


@pytest.mark.parametrize("weights,words", [
    ({"equal": 0.2, "population": 0.5, "usage": 0.2}, "exactly 1"),
    ({"equal": -0.1, "population": 0.8, "usage": 0.3}, "greater than or equal"),
])
def test_weights_that_do_not_sum_to_one_are_refused_naming_the_key(weights, words):
    from stacks.automation import stack_config

    raw = {k.split(":", 1)[1]: v for k, v in stack_config("dev").items() if k.startswith("municloud:")}
    raw["cost"] = {**raw["cost"], "weights": weights}
    with pytest.raises(ConfigError) as exc:
        load("dev", raw)
    assert exc.value.key.startswith("municloud:cost") and words in str(exc.value)


def test_twin_the_committed_stacks_have_a_valid_cost_section():
    from stacks.automation import stack_config

    for stack in ("dev", "akita"):
        raw = {k.split(":", 1)[1]: v for k, v in stack_config(stack).items() if k.startswith("municloud:")}
        assert load(stack, raw).cost.fixed_annual_yen > 0


def test_usage_weight_without_usage_is_refused():
    with pytest.raises(ValueError, match="no usage was metered"):
        allocate(cost(), MEMBERS, 2026, None)
    with pytest.raises(ValueError, match="not members"):
        u = usage()
        u.owners["999999"] = {"cpu_core_hour": 1.0}
        allocate(cost(), MEMBERS, 2026, u)


def test_fiscal_year_days():
    assert fiscal_year_days(2026) == 365 and fiscal_year_days(2027) == 366  # 2028-02-29


def test_cli_report_writes_markdown_csv_and_chart(tmp_path):
    from typer.testing import CliRunner

    from municloud_ops.cli.main import app

    u = usage()
    u.stack = "dev"
    (tmp_path / "usage.json").write_text(u.to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["cost", "report", "--stack", "dev", "--fiscal-year", "2026",
                                      "--usage", str(tmp_path / "usage.json"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "shared 30,073,000 yen among 3 members of dev for FY2026" in result.output
    png = tmp_path / "out" / "cost-dev-FY2026.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    csv_text = (tmp_path / "out" / "cost-dev-FY2026.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[-1].endswith(",30073000")
    bad = CliRunner().invoke(app, ["cost", "report", "--stack", "dev", "--fiscal-year", "1999"])
    assert bad.exit_code == 2 and "--fiscal-year" in bad.output
