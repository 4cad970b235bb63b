"""SLA gate: when Locust quits, judge the run against the stack's SLA and set the exit code.

The arithmetic is municloud_ops.loadtest.sla (unit-tested); this hook only reads Locust's totals,
prints the verdict (which target was missed and by how much) and writes it to the plan's
summary file for the report. Exit code 0 when the SLA holds, sla.EXIT_SLA_BREACH otherwise —
failures within the SLA's ratio do not fail the run — and 1 when the scenario code itself
raised (then the run proves nothing either way).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

from locust import events
from locust.runners import WorkerRunner

from common import plan_of
from municloud_ops.loadtest import sla

log = logging.getLogger("municloud_ops.loadtest.gate")


def observed_of(stats) -> sla.Observed:
    total = stats.total
    return sla.Observed(requests=total.num_requests, failures=total.num_failures,
                        p95_ms=float(total.get_response_time_percentile(0.95) or 0),
                        rps=float(total.total_rps))


@events.quitting.add_listener
def sla_gate(environment, **_kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return  # the master judges the aggregated statistics
    plan = plan_of(environment)
    result = sla.evaluate(observed_of(environment.runner.stats), plan.target.sla,
                          check_throughput=plan.check_throughput)
    sentence = result.sentence()
    exit_code = result.exit_code
    errors = sum(e["count"] for e in environment.runner.exceptions.values())
    if errors:
        # Scenario code that raises is our bug, not the system's: the run proves nothing.
        sentence += f"; the scenario code raised {errors} exception(s) (see the report)"
        exit_code = 1
    (log.info if exit_code == 0 else log.error)(sentence)
    print(sentence, flush=True)
    environment.process_exit_code = exit_code
    if plan.summary_path:
        with open(plan.summary_path, "w", encoding="utf-8") as fh:
            json.dump({"passed": exit_code == 0, "sentence": sentence, "scenario_errors": errors,
                       "observed": asdict(result.observed), "targets": asdict(result.targets),
                       "breaches": [asdict(b) for b in result.breaches],
                       "exit_code": exit_code}, fh, ensure_ascii=False, indent=2)
