"""Usage from persisted samples: CPU from cumulative counters (a restart resets them), memory and
storage integrated over time, DR network from what DR-site containers receive, requests per member;
periods parsed or refused naming the option."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from municloud_ops.cost.meter import GIB, MONTH_S, _connect, parse_period, usage

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, tzinfo=UTC).timestamp()


def store(tmp_path):
    db = _connect(tmp_path / "m.sqlite")
    rows = []
    # 053031 service: 2 s CPU per 60 s, then a restart (counter back to 1 s), 1 GiB memory
    for i, cpu_s in enumerate((10, 12, 14, 1)):
        rows.append((T0 + 60 * i, "c1", "svc", "primary", "053031", "tax", int(cpu_s * 1e9), GIB, 0, 0))
    # its DR standby: receives 1 GiB per minute, no CPU to speak of
    for i in range(4):
        rows.append((T0 + 60 * i, "c2", "sb", "dr", "053031", "standby", 0, 0, i * GIB, 0))
    # shared hub: 6 s CPU per minute
    for i in range(4):
        rows.append((T0 + 60 * i, "c3", "hub", "primary", "shared", "hub", int(6 * i * 1e9), 2 * GIB, 0, 0))
    with db:
        db.executemany("INSERT INTO containers VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO storage VALUES (?,?,?,?,?)", [
            (T0 + 60 * i, "053031", "primary", kind, size) for i in range(4)
            for kind, size in (("database", 3 * GIB), ("wal", GIB))])
        db.executemany("INSERT INTO requests VALUES (?,?,?,?)", [
            (T0, T0 + 60, "053031", 100), (T0 + 60, T0 + 120, "053031", 50), (T0 + 60, T0 + 120, "shared", 7)])
    db.close()
    return tmp_path / "m.sqlite"


def test_usage_by_hand(tmp_path):
    u = usage("t", datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + 180, UTC), path=store(tmp_path))
    a, shared = u.owners["053031"], u.owners["shared"]
    assert u.samples == 4 and u.days == pytest.approx(180 / 86400)
    assert a["cpu_core_hour"] * 3600 == pytest.approx(2 + 2 + 1)  # the restart counts the new 1 s
    assert shared["cpu_core_hour"] * 3600 == pytest.approx(18)
    assert a["memory_gib_hour"] == pytest.approx(180 / 3600)       # 1 GiB for 3 minutes
    assert a["dr_network_gib"] == pytest.approx(3)
    assert a["storage_gib_month"] == pytest.approx(3 * 180 / MONTH_S)  # the database; WAL is inside it
    assert a["detail_wal_gib_month"] == pytest.approx(180 / MONTH_S)
    assert a["million_requests"] * 1e6 == pytest.approx(150) and shared["detail_requests"] == 7


def test_twin_a_period_with_one_sample_is_refused(tmp_path):
    with pytest.raises(LookupError, match="1 samples"):
        usage("t", datetime.fromtimestamp(T0 + 170, UTC), datetime.fromtimestamp(T0 + 200, UTC), path=store(tmp_path))
    with pytest.raises(LookupError, match="does not exist"):
        usage("t", datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + 200, UTC), path=tmp_path / "none")


def test_periods():
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert parse_period("last:2h", now) == (datetime(2026, 12, 3, 10, tzinfo=UTC), now)
    start, end = parse_period("2026-04-01/2026-05-01")
    assert start.isoformat() == "2026-04-01T00:00:00+09:00" and end.month == 5
    for bad in ("yesterday", "2026-05-01/2026-04-01", "2026-13-01/2026-12-01"):
        with pytest.raises(ValueError, match="--period"):
            parse_period(bad)
