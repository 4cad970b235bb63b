"""A short steady run of the SLA's concurrent users through the SLA gate, and its twin: the same
traffic against an SLA no system can meet must fail the gate with its message."""

from __future__ import annotations

import dataclasses
import os

import pytest

from municloud_ops.loadtest import runner
from municloud_ops.loadtest.sla import EXIT_SLA_BREACH

LOAD_SECONDS = float(os.environ.get("MC_LOAD_SECONDS", "60"))

pytestmark = [pytest.mark.live, pytest.mark.load]


def _neighbours(target) -> str:
    """What else ran on the engine (a stack left up by another run loads the same cores)."""
    if os.environ.get("MC_LOAD_LOCAL"):
        return "local target"
    from support.stack import engine_neighbours

    return engine_neighbours(target.stack)


def test_steady_run_passes_the_sla_gate(load_target, load_data, tmp_path):
    sla = load_target.sla
    params = runner.build_plan("steady", sla.concurrent_users, LOAD_SECONDS)
    result = runner.run(load_target, "steady", params, tmp_path, data_manifest=load_data)
    assert result.exit_code == 0, f"{result.sentence()}; {_neighbours(load_target)}"
    assert result.gate["passed"] is True
    assert result.gate["observed"]["requests"] > 0
    assert (tmp_path / "report.html").is_file() and (tmp_path / "locust_stats.csv").is_file()
    assert result.cpu.samples > 0


def test_unreachable_sla_fails_the_gate_naming_the_misses(load_target, load_data, tmp_path):
    impossible = dataclasses.replace(load_target.sla, p95_ms=0.001, min_rps=1_000_000,
                                     source="set by the test: unreachable")
    target = dataclasses.replace(load_target, sla=impossible)
    params = runner.build_plan("steady", 10, 15.0)
    result = runner.run(target, "steady", params, tmp_path, data_manifest=load_data)
    assert result.exit_code == EXIT_SLA_BREACH
    assert result.gate["passed"] is False
    sentence = result.gate["sentence"]
    assert "SLA gate FAILED" in sentence
    assert "exceeds the target 0.001 ms" in sentence
    assert "is below the target 1e+06 req/s" in sentence
    assert {b["metric"] for b in result.gate["breaches"]} == {"p95_ms", "rps"}
