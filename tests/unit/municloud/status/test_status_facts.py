"""municloud/status/facts.py: what counts as up, down and standby; parsing psql and pgBackRest;
the Prometheus exposition."""

from __future__ import annotations

import json

import pytest

from municloud.status.facts import (Facts, Unit, classify, exposition, parse_backups, parse_replication,
                                    probe)

pytestmark = pytest.mark.unit


def entry(component: str, state: str, status: str, site: str = "primary", lgcode: str = "053031") -> dict:
    return {"Id": f"id-{component}-{site}", "Names": [f"/mc-t-{site}-{lgcode}-{component}"], "State": state,
            "Status": status, "Labels": {"municloud.stack": "t", "municloud.site": site,
                                         "municloud.lgcode": lgcode, "municloud.component": component}}


@pytest.mark.parametrize("state,status,want", [
    ("running", "Up 3 minutes (healthy)", "up"),
    ("running", "Up 3 minutes", "up"),  # no healthcheck (the site supervisor)
    ("running", "Up 3 minutes (unhealthy)", "down"),
    ("running", "Up 2 seconds (health: starting)", "down"),
    ("exited", "Exited (137) 4 seconds ago", "down"),
])
def test_a_unit_is_up_only_running_and_healthy(state, status, want):
    assert classify(entry("tax", state, status), {"dr"}).state == want


def test_pilot_light_services_at_the_standby_site_stand_by_and_the_same_stopped_at_the_primary_is_down():
    created = entry("tax", "created", "Created", site="dr")
    assert classify(created, {"dr"}).state == "standby"
    # twin: the same container at the primary site (not a standby site) is down
    assert classify(entry("tax", "created", "Created", site="primary"), {"dr"}).state == "down"
    # and a stopped standby PostgreSQL is down even at the DR site: only services and the hub wait stopped
    assert classify(entry("standby", "exited", "Exited (0)", site="dr"), {"dr"}).state == "down"


def test_replication_row_of_a_primary_is_read_and_a_standby_reports_none():
    row = parse_replication("053031", "primary", "f\t1\t0.004\t2048\n")
    assert (row.standbys, row.lag_bytes, row.lag_seconds) == (1, 2048, 0.004)
    assert parse_replication("053031", "dr", "t\t0\t0\t0\n") is None


def test_the_newest_backup_without_checksum_error_counts():
    info = [{"name": "053031", "backup": [
        {"label": "A", "type": "full", "error": False, "timestamp": {"start": 1, "stop": 100}},
        {"label": "B", "type": "diff", "error": True, "timestamp": {"start": 2, "stop": 200}}]},
        {"name": "hub", "backup": []}]
    [b] = parse_backups(json.dumps(info))
    assert (b.stanza, b.label, b.stop_epoch) == ("053031", "A", 100)
    # twin: once B is clean it is the newest
    info[0]["backup"][1]["error"] = False
    assert parse_backups(json.dumps(info))[0].label == "B"


def test_exposition_exports_up_for_running_units_and_standby_apart():
    facts = Facts("t", 1000.0, units=[
        Unit("primary", "053031", "tax", "a", "up", "running, healthy"),
        Unit("primary", "053031", "nhi", "b", "down", "exited (137)"),
        Unit("dr", "053031", "tax", "c", "standby", "created")])
    text = exposition(facts)
    assert 'municloud_unit_up{site="primary",lgcode="053031",component="tax"} 1' in text
    assert 'municloud_unit_up{site="primary",lgcode="053031",component="nhi"} 0' in text
    assert 'municloud_unit_up{site="dr"' not in text
    assert 'municloud_unit_standby{site="dr",lgcode="053031",component="tax"} 1' in text


class FakeEngine:
    """The engine's answers for probe(): a container list and exec results (no engine needed)."""

    def __init__(self, entries, outputs, stats=None):
        self.entries, self.outputs, self.calls = entries, outputs, []
        self.stats_of = stats or {}

    def stats(self, cid):
        self.calls.append((cid, "stats", ""))
        return self.stats_of.get(cid)

    def containers(self, labels):
        return self.entries

    def exec(self, cid, cmd, user=""):
        self.calls.append((cid, cmd[0], user))
        out = self.outputs[cmd[0]]
        return out(cid) if callable(out) else out


def test_probe_reads_replication_on_running_postgres_and_backups_in_the_repository():
    entries = [entry("postgres", "running", "Up (healthy)"), entry("standby", "running", "Up (healthy)", site="dr"),
               entry("backup_repo", "running", "Up (healthy)", site="dr", lgcode="shared"),
               entry("nhi", "exited", "Exited (137)")]
    info = json.dumps([{"name": "053031", "backup": [{"label": "L", "type": "full", "error": False,
                                                      "timestamp": {"stop": 5}}]}])
    def psql(cid):  # the standby is in recovery: only the primary reports replication
        return (0, "t\t0\t0\t0\n") if "standby" in cid else (0, "f\t1\t0\t0\n")

    engine = FakeEngine(entries, {"psql": psql, "pgbackrest": (0, info)})
    facts = probe(engine, "t", {"dr"})
    assert [u.name for u in facts.down()] == ["mc-t-primary-053031-nhi"]
    assert [(r.site, r.standbys) for r in facts.replication] == [("primary", 1)] and facts.backups[0].label == "L"
    assert {(c[1], c[2]) for c in engine.calls if c[1] != "stats"} == {("psql", "postgres"), ("pgbackrest", "postgres")}
    # a failing query is a sentence, not a guess
    engine = FakeEngine(entries, {"psql": (2, ""), "pgbackrest": (0, "[]")})
    facts = probe(engine, "t", {"dr"})
    assert facts.replication == [] and any("could not be read (psql exit 2)" in e for e in facts.errors)


def test_a_unit_that_restarted_since_the_last_probe_was_down_meanwhile():
    restarted = entry("nhi", "running", "Up 3 seconds (healthy)")
    assert classify(restarted, {"dr"}, since_s=5.0).state == "down"
    assert "restarted 3 s ago" in classify(restarted, {"dr"}, since_s=5.0).detail
    # twins: up longer than the gap, or no previous probe (the CLI), or up for minutes
    assert classify(restarted, {"dr"}, since_s=2.0).state == "up"
    assert classify(restarted, {"dr"}).state == "up"
    assert classify(entry("nhi", "running", "Up 4 minutes (healthy)"), {"dr"}, since_s=5.0).state == "up"
    assert classify(entry("nhi", "running", "Up Less than a second"), {"dr"}, since_s=5.0).state == "down"


def test_the_prober_serves_units_every_probe_and_the_last_deep_facts_beside_them():
    from municloud.status.prober import Prober

    entries = [entry("postgres", "running", "Up 2 minutes (healthy)")]
    engine = FakeEngine(entries, {"psql": (0, "f\t1\t0.5\t4096\n")})
    prober = Prober(engine, "t", "primary", {"dr"})
    assert prober.once().replication == [] and engine.calls == []  # units only: no exec, no stats
    prober.deep_once()
    facts = prober.once()
    assert [(r.lag_bytes, r.lag_seconds) for r in facts.replication] == [(4096, 0.5)]
    assert "municloud_replication_lag_bytes" in exposition(prober.latest)


def test_a_container_an_operation_runs_once_is_not_a_unit():
    """A failback's rewind, a verify's restore, a rehearsal's probe: exited or gone, none of them is a
    unit down (they carry ONE_OFF_LABEL, or no component at all); the twin, the same exited
    container without the label, is a unit down."""
    from municloud.naming import ONE_OFF_LABEL

    one_off = entry("verify", "exited", "Exited (0)", site="dr")
    one_off["Labels"][ONE_OFF_LABEL] = "restore of 053031 (verify)"
    probe_box = {"Names": ["/mc-t-dr-rto-probe"], "State": "exited", "Status": "Exited (0)",
                 "Labels": {"municloud.stack": "t"}}
    twin = entry("nhi", "exited", "Exited (137)")
    facts = probe(FakeEngine([one_off, probe_box, twin], {}), "t", {"dr"}, deep=False)
    assert [u.name for u in facts.units] == ["mc-t-primary-053031-nhi"]
    assert [u.name for u in facts.down()] == ["mc-t-primary-053031-nhi"]


def _stats(cpu_ns: int, usage: int, inactive: int, v2: bool = False) -> dict:
    key = "inactive_file" if v2 else "total_inactive_file"
    return {"cpu_stats": {"cpu_usage": {"total_usage": cpu_ns}},
            "memory_stats": {"usage": usage, "stats": {key: inactive}}}


def test_usage_of_every_running_unit_is_the_engines_cpu_time_and_memory_less_inactive_file_cache():
    """The deep probe reads each running unit's stats (one shot) and exports them per unit: CPU time as
    a counter, memory in use less the inactive file cache (the cost meter's definition); a stopped
    unit has none (twin), nor does a stats answer without CPU figures."""
    entries = [entry("tax", "running", "Up 2 minutes (healthy)"),
               entry("nhi", "running", "Up 2 minutes (unhealthy)"),  # down but running: it still uses
               entry("residents_registry", "exited", "Exited (137)"),
               entry("backup_repo", "running", "Up (healthy)", site="dr", lgcode="shared")]
    stats = {"id-tax-primary": _stats(2_500_000_000, 300 << 20, 100 << 20),
             "id-nhi-primary": _stats(1_000_000_000, 200 << 20, 50 << 20, v2=True),
             "id-backup_repo-dr": {"cpu_stats": {}, "memory_stats": {}}}
    engine = FakeEngine(entries, {"pgbackrest": (0, "[]")}, stats)
    facts = probe(engine, "t", {"dr"})
    assert {(u.component, u.cpu_seconds, u.memory_bytes) for u in facts.usage} == {
        ("tax", 2.5, 200 << 20), ("nhi", 1.0, 150 << 20)}
    assert "id-residents_registry-primary" not in {c[0] for c in engine.calls if c[1] == "stats"}
    text = exposition(facts)
    assert 'municloud_unit_cpu_seconds_total{site="primary",lgcode="053031",component="tax"} 2.500' in text
    assert f'municloud_unit_memory_bytes{{site="primary",lgcode="053031",component="nhi"}} {150 << 20}' in text
    assert "# TYPE municloud_unit_cpu_seconds_total counter" in text
    assert 'component="residents_registry"} ' not in text.split("municloud_unit_cpu_seconds_total", 2)[2]
