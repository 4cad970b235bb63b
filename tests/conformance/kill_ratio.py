"""The kill ratio of a mutation proof (docs/conformance.md "Mutation proof"): a mutant counts as
caught when the kit exits 3 with exactly its own check id failed. Both proofs (mutant vendors,
test_mutants.py; mutants of our hub, test_receive_mutants.py) judge, record and compare their
figure here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "conformance.md"


def prove(mutants: Iterable[tuple[str, str]], run: Callable[[str], tuple[int, object]], *,
          checks: int, figure: Path, stated_as: str) -> None:
    """Run every (mutant, full check id); write {mutants, caught, kill_ratio, checks,
    not_caught} to `figure`; fail naming each mutant not caught by exactly its own check, and
    when docs/conformance.md's line `<stated_as>: **n/m**` states another ratio."""
    caught, wrong = [], {}
    mutants = list(mutants)
    for name, full_id in mutants:
        code, report = run(name)
        if code == 3 and report.failed_ids == [full_id]:
            caught.append(name)
        else:
            wrong[name] = f"expected only {full_id} to fail; {report.verdict}: " + "; ".join(
                f"{c.id}: {c.detail[:200]}" for c in report.checks if c.outcome != "passed")
    ratio = f"{len(caught)}/{len(mutants)}"
    figure.parent.mkdir(exist_ok=True)
    figure.write_text(json.dumps({"mutants": len(mutants), "caught": len(caught),
                                  "kill_ratio": ratio, "checks": checks,
                                  "not_caught": sorted(wrong)}, indent=2) + "\n",
                      encoding="utf-8")
    assert not wrong, json.dumps(wrong, ensure_ascii=False, indent=1)
    stated = re.search(rf"^{re.escape(stated_as)}: \*\*(\d+/\d+)\*\*",
                       DOC.read_text(encoding="utf-8"), re.M)
    assert stated and stated.group(1) == ratio, (
        f"docs/conformance.md states {stated.group(1) if stated else 'no'} as '{stated_as}'; "
        f"this run measured {ratio}")
