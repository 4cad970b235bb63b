"""The meter on the live stack: usage per member (and shared) sums to what the kernel's cgroup
files say the stack's containers used (within 5 %), and the requests sent to each member through
the frontdoor are counted for that member."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from e2e_support import SUMMARY, B, C

from municloud_ops.cost.cgroup import cpu_ns as cgroup_cpu_ns
from municloud_ops.cost.meter import Meter, usage

pytestmark = [pytest.mark.live, pytest.mark.e2e]

SAMPLES, INTERVAL_S = 5, 20.0


def stack_cpu_ns(stack: str) -> int:
    """CPU of every running container named for the stack (mc-<stack>-…), from the kernel: an
    attribution independent of the labels the meter uses."""
    import docker

    total = 0
    for c in docker.from_env().containers.list(filters={"name": f"mc-{stack}-"}):
        if not c.name.startswith(f"mc-{stack}-"):
            continue
        ns = cgroup_cpu_ns(c.id)
        if ns is None:
            pytest.skip("no cgroup CPU accounting file for the containers on this engine")
        total += ns
    return total


def test_usage_per_member_sums_to_the_engines_totals(frontdoor, tmp_path):
    import docker

    stack = frontdoor.stack
    meter = Meter.open(stack.name, path=tmp_path / "meter.sqlite", engines=[docker.from_env()])
    sent = {B: 0, C: 0}  # members no other test of the session writes to (A gets 転入 deliveries)
    kernel: list[int] = []  # the kernel's view, read right after the meter read its counters
    first = datetime.now(UTC)
    meter.sample(after_counters=lambda: kernel.append(stack_cpu_ns(stack.name)))
    for _ in range(1, SAMPLES):
        deadline = time.monotonic() + INTERVAL_S
        for lg, n in ((B, 8), (C, 4)):  # bounded: 12 requests per interval, loopback frontdoor
            for _ in range(n):
                assert frontdoor.client.get(f"/{lg}/residents_registry/healthz").status_code == 200
                sent[lg] += 1
        time.sleep(max(0.0, deadline - time.monotonic()))
        print(meter.sample(after_counters=lambda: kernel.append(stack_cpu_ns(stack.name))))
    summary = usage(stack.name, first, datetime.now(UTC), path=tmp_path / "meter.sqlite")
    metered_s = sum(q["cpu_core_hour"] for q in summary.owners.values()) * 3600
    kernel_s = (kernel[-1] - kernel[0]) / 1e9
    ratio = metered_s / kernel_s
    requests = {o: round(q["million_requests"] * 1e6) for o, q in summary.owners.items()}
    SUMMARY.append(f"meter: {metered_s:.1f} CPU-s metered vs {kernel_s:.1f} CPU-s in the cgroup files "
                   f"(ratio {ratio:.3f}) over {summary.days * 86400:.0f} s, {summary.samples} samples; "
                   f"requests {requests} for {sent} sent")
    assert 0.95 <= ratio <= 1.05, (metered_s, kernel_s)
    members = {m for m in stack.municipalities}
    assert members <= set(summary.owners) and "shared" in summary.owners
    for lg, n in sent.items():
        # plus the stack's own traffic for that member (platform deliveries, health probes)
        assert n <= requests.get(lg, 0) <= n + 10, (lg, n, requests)
    for lg in members:
        assert summary.owners[lg]["memory_gib_hour"] > 0
        assert summary.owners[lg]["storage_gib_month"] > 0
        assert summary.owners[lg]["detail_wal_gib_month"] > 0


def test_twin_one_sample_is_not_a_period(frontdoor, tmp_path):
    import docker

    name = frontdoor.stack.name
    meter = Meter.open(name, path=tmp_path / "m.sqlite", engines=[docker.from_env()])
    start = datetime.now(UTC)
    meter.sample()
    with pytest.raises(LookupError, match="1 samples"):
        usage(name, start, datetime.now(UTC), path=tmp_path / "m.sqlite")
