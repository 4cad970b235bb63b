"""The security suite's tally: per category, how many attempts were made and refused and how
many twins were allowed (tests/security/conftest.py tags the tests). Its hooks are registered by
tests/conftest.py, the conftest every pytest process loads first — with pytest-xdist the
controller, which collects nothing, still sees every report and prints the table."""

from __future__ import annotations

from collections import Counter

import pytest

CATEGORIES = ("cross-tenant", "hostile input", "auth", "secrets", "audit")
KEY = "security_check"
#: (kind:category, outcome) -> count, for this run (one pytest process)
TALLY: Counter = Counter()


def _outcome(report: pytest.TestReport) -> str | None:
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfail" if report.skipped else "xpass"
        return report.outcome
    if report.outcome != "passed":  # setup/teardown error or skip
        return "skipped" if report.skipped else "error"
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    tag = dict(report.user_properties).get(KEY)
    outcome = _outcome(report)
    if tag is not None and outcome is not None:
        TALLY[(tag, outcome)] += 1


def summary_lines(tally: Counter) -> list[str]:
    lines = [f"{'category':<14} {'attempts':>8} {'refused':>8} {'vulnerable':>10} "
             f"{'not run':>8} {'twins':>6} {'allowed':>8}"]
    totals = Counter()
    for category in CATEGORIES:
        attack = {o: n for (t, o), n in tally.items() if t == f"attack:{category}"}
        twin = {o: n for (t, o), n in tally.items() if t == f"twin:{category}"}
        row = Counter(
            attempts=sum(attack.values()), refused=attack.get("passed", 0),
            vulnerable=attack.get("failed", 0) + attack.get("xfail", 0) + attack.get("xpass", 0),
            not_run=attack.get("skipped", 0) + attack.get("error", 0),
            twins=sum(twin.values()), allowed=twin.get("passed", 0))
        totals.update(row)
        lines.append(f"{category:<14} {row['attempts']:>8} {row['refused']:>8} {row['vulnerable']:>10} "
                     f"{row['not_run']:>8} {row['twins']:>6} {row['allowed']:>8}")
    lines.append(f"{'total':<14} {totals['attempts']:>8} {totals['refused']:>8} "
                 f"{totals['vulnerable']:>10} {totals['not_run']:>8} {totals['twins']:>6} "
                 f"{totals['allowed']:>8}")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not TALLY:
        return
    terminalreporter.section("security: attempts per category")
    for line in summary_lines(TALLY):
        terminalreporter.write_line(line)
