"""An operational step's result: one sentence that is logged, shown and asserted in tests."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger("municloud_ops.dr")


@dataclass(frozen=True)
class StepResult:
    """``sentence`` says what happened ("promoted standby 053031 in 2.1 s"); ``changed`` is False
    when the step found its goal already reached (re-runs are safe)."""

    sentence: str
    seconds: float
    changed: bool = True
    ok: bool = True


class StepFailed(RuntimeError):
    """A step could not reach its goal; the message is the sentence to show the operator."""


Reporter = Callable[[StepResult], None]


def report(result: StepResult, reporter: Reporter | None = None) -> StepResult:
    (log.info if result.ok else log.error)("%s", result.sentence)
    if reporter:
        reporter(result)
    return result


class Stopwatch:
    """``with Stopwatch() as t: ...; t.seconds``"""

    def __enter__(self) -> "Stopwatch":
        self._t0 = time.monotonic()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.monotonic() - self._t0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0


def run_lanes(lanes: Sequence[tuple[str, Callable[[], list[StepResult]]]], max_parallel: int = 4) -> list[StepResult]:
    """Run independent chains of steps (one per database cluster) side by side, at most
    ``max_parallel`` at a time; each reports its steps as they finish. Returns every result in lane
    order. If lanes fail, the others still finish (a re-run only redoes what is missing) and the
    first failure is raised with every failed lane named."""
    if not lanes:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_parallel, len(lanes))),
                            thread_name_prefix="dr-lane") as pool:
        futures = [(name, pool.submit(lane)) for name, lane in lanes]
    results: list[StepResult] = []
    failed: list[tuple[str, BaseException]] = []
    for name, future in futures:
        error = future.exception()
        if error is None:
            results.extend(future.result())
        else:
            failed.append((name, error))
    if failed:
        detail = "; ".join(f"{name}: {error}" for name, error in failed)
        raise StepFailed(f"{len(failed)} of {len(lanes)} clusters failed ({detail})") from failed[0][1]
    return results
