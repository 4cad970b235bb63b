"""An operational step's result: one sentence that is logged, shown and asserted in tests."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("municloud.dr")


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
