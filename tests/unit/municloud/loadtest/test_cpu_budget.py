"""CPU budget per hop: the arithmetic (net of idle, per request) and the /proc reading."""

from __future__ import annotations

import os
import time

import pytest

from municloud_ops.loadtest.cpu_budget import CpuBudget, Snapshot, table

pytestmark = pytest.mark.unit


def _budget(idle: dict[str, float] | None = None) -> CpuBudget:
    budget = CpuBudget(None)
    budget.idle = idle or {}
    return budget


def test_per_request_divides_the_cpu_of_each_kind_net_of_its_idle_rate():
    before = Snapshot(at=100.0, ms={"gateway": 1_000.0, "service": 5_000.0})
    after = Snapshot(at=110.0, ms={"gateway": 1_600.0, "service": 9_000.0})
    budget = _budget({"service": 50.0})  # 50 ms/s of health checks and relays
    assert budget.per_request(before, after, 200) == {"gateway": 3.0, "service": 17.5}


def test_per_request_refuses_a_run_without_requests():
    with pytest.raises(ValueError, match="requests: must be > 0"):
        _budget().per_request(Snapshot(0, {}), Snapshot(1, {}), 0)


def test_the_snapshot_counts_the_generator_tree_from_proc():
    budget = CpuBudget(None).for_generator(os.getpid())
    first = budget.snapshot()
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    second = budget.snapshot()
    assert second.ms["Locust"] - first.ms["Locust"] >= 40  # clock ticks: 10 ms granularity


def test_without_a_generator_no_locust_row_is_invented():
    assert "Locust" not in CpuBudget(None).snapshot().ms


def test_table_sums_the_hops_but_not_the_machine_wide_rows():
    text = table({"before": {"gateway": 1.0, "service": 2.5, "kernel softirq (whole machine)": 9.0}})
    assert "| gateway | 1.00 |" in text
    assert "| **all hops** | **3.50** |" in text
