"""The WAN delay line's link model (tools/wan/delayline.py), on synthetic packets and clock."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

_spec = importlib.util.spec_from_file_location(
    "delayline", Path(__file__).resolve().parents[2] / "tools" / "wan" / "delayline.py")
delayline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(delayline)


def _packet(dst: str, size: int = 100, tag: int = 0) -> bytes:
    header = bytes([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 10, 252, 1, 10]) + bytes(int(o) for o in dst.split("."))
    return header + tag.to_bytes(4, "big") + bytes(size - 24)


def _drain(link, until: float) -> list[tuple[float, bytes]]:
    out: list[tuple[float, bytes]] = []
    t = 0.0
    while t <= until:
        link.release(t, lambda p, t=t: out.append((t, p)))
        t = round(t + 0.0005, 6)
    return out


def test_each_packet_arrives_after_the_one_way_delay():
    link = delayline.Link(delayline.Settings(delay_ms=5))
    link.accept(_packet("10.252.2.10"), 0.0)
    assert link.release(0.0049, lambda p: pytest.fail("released early")) == pytest.approx(0.0001)
    out = []
    link.release(0.005, out.append)
    assert len(out) == 1 and link.passed == 1


def test_no_delay_gives_the_packet_back_at_once():
    link = delayline.Link(delayline.Settings(delay_ms=0))
    link.accept(_packet("10.252.2.10"), 1.0)
    out = []
    assert link.release(1.0, out.append) is None and len(out) == 1


def test_jitter_never_reorders_one_direction():
    link = delayline.Link(delayline.Settings(delay_ms=10, jitter_ms=9))
    for i in range(200):
        link.accept(_packet("10.252.2.10", tag=i), i * 0.0001)
    out = _drain(link, 0.05)
    tags = [int.from_bytes(p[20:24], "big") for _t, p in out]
    assert tags == list(range(200))
    assert min(t for t, _p in out) >= 0.001 and max(t for t, _p in out) <= 0.04


def test_the_rate_limit_spaces_packets_by_their_size():
    link = delayline.Link(delayline.Settings(delay_ms=0, rate_mbit=8))  # 1 byte per microsecond
    for _ in range(10):
        link.accept(_packet("10.252.2.10", size=1000), 0.0)
    out = _drain(link, 0.02)
    assert out[-1][0] == pytest.approx(0.010, abs=0.0006)  # 10 x 1000 B at 1 MB/s
    # the other direction has a link of its own
    link.accept(_packet("10.252.1.10", size=1000), 0.0)
    assert link.due[0][0] == pytest.approx(0.001)


def test_a_partition_drops_everything_and_healing_passes_again():
    settings = delayline.Settings(delay_ms=1, partition=True)
    link = delayline.Link(settings)
    link.accept(_packet("10.252.2.10"), 0.0)
    assert not _drain(link, 0.01) and link.dropped == 1
    link.settings = delayline.Settings(delay_ms=1)
    link.accept(_packet("10.252.2.10"), 0.02)
    assert len(_drain(link, 0.03)) == 1


def test_the_queue_is_bounded_per_direction(monkeypatch):
    monkeypatch.setattr(delayline, "QUEUE_LIMIT", 3)
    link = delayline.Link(delayline.Settings(delay_ms=1))
    for _ in range(5):
        link.accept(_packet("10.252.2.10"), 0.0)
    link.accept(_packet("10.252.1.10"), 0.0)
    assert len(link.due) == 4 and link.dropped == 2


@pytest.mark.parametrize("raw, reason", [
    ({"delay_ms": 5, "jitter_ms": 6}, "jitter_ms <= delay_ms"),
    ({"delay_ms": -1}, ">= 0"),
    ({"delay_ms": 5, "loss": 1}, "unknown settings"),
])
def test_bad_settings_are_refused_with_the_reason(tmp_path, raw, reason):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match=reason):
        delayline.Settings.load(str(path))


def test_good_settings_are_read_and_described(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"delay_ms": 10, "jitter_ms": 2, "rate_mbit": 100, "partition": False}))
    assert delayline.Settings.load(str(path)).sentence() == "one-way delay 10 ms ± 2 ms, rate 100 Mbit/s"
