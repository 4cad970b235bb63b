"""municloud/status/availability.py and page.py and the view the page builds from Prometheus."""

from __future__ import annotations

import re

import pytest

from municloud.status.availability import availability, observed_fraction, percent
from municloud.status.page import Section, StatusView, UnitRow, duration, render
from municloud.status.web import QUERIES, build_view

pytestmark = pytest.mark.unit


def test_availability_is_the_fraction_of_up_samples():
    assert availability([1, 1, 1, 0]) == 0.75
    assert availability([]) is None
    with pytest.raises(ValueError, match="0 or 1"):
        availability([1, 2])


def test_percent_truncates_never_rounds_up():
    assert percent(0.99999) == "99.99 %"
    assert percent(1.0) == "100.00 %"
    assert percent(None) == "no data"


def test_observed_fraction_is_capped_at_the_window():
    assert observed_fraction(720, 5, 86400) == pytest.approx(1 / 24)
    assert observed_fraction(10**6, 5, 86400) == 1.0
    with pytest.raises(ValueError):
        observed_fraction(1, 0, 86400)


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (5, 300, 4000, 8000, 200000, None)] == ["5 s", "5 min", "66 min", "2 h 13 min", "2 d 7 h", "no data"]


def view(state: str = "up") -> StatusView:
    shared = Section("shared", "consortium (shared units)", [UnitRow("primary", "gateway", "up", 1.0, 1.0, 86400, 30 * 86400)])
    member = Section("053031", "小坂町 <b>", [UnitRow("primary", "tax", state, 0.5, 0.9, 86400, 600),
                                               UnitRow("dr", "tax", "standby")],
                     lag_bytes=2048, lag_seconds=0.2, standbys=1, backup_age_s=7200)
    return StatusView("dev", 0.0, [shared, member])


def test_page_has_a_section_per_member_and_no_script_or_external_resource():
    html = render(view())
    assert 'id="m-053031"' in html and 'id="m-shared"' in html
    assert "All units up." in html and "2.0 KiB behind" in html and "2 h 0 min ago" in html
    assert "standby (pilot light)" in html and "50.00 %" in html and "(over the 10 min observed)" in html
    assert html.count("observed)") == 1  # full windows say nothing more
    assert "<script" not in html.lower() and not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "小坂町 &lt;b&gt;" in html  # escaped


def test_page_names_the_unit_that_is_down():
    html = render(view("down"))
    assert "1 unit(s) down: 053031 tax at primary." in html and 'class="down">DOWN<' in html
    # twin: all up
    assert "down:" not in render(view("up"))


def sample(metric: dict, value: float) -> dict:
    return {"metric": metric, "value": [0, str(value)]}


def test_view_from_prometheus_results():
    unit = {"site": "primary", "lgcode": "053031", "component": "tax"}
    results = {name: [] for name in QUERIES}
    results.update({
        "up": [sample(unit, 0)], "avail_24h": [sample(unit, 0.75)], "count_24h": [sample(unit, 17280)],
        "standby": [sample({"site": "dr", "lgcode": "053031", "component": "tax"}, 1)],
        "standbys": [sample({"site": "primary", "lgcode": "053031"}, 1)],
        "lag_bytes": [sample({"site": "primary", "lgcode": "053031"}, 10)],
        "backup_age": [sample({"stanza": "hub"}, 60), sample({"stanza": "053031"}, 120)],
        "probe_age": [sample({"prober_site": "primary"}, 2), sample({"prober_site": "dr"}, 2)]})
    v = build_view(results, "dev", [("053031", "小坂町")], 0.0)
    shared, member = v.sections
    assert [(u.site, u.state, u.avail_24h) for u in member.units] == [("dr", "standby", None),
                                                                       ("primary", "down", 0.75)]
    assert member.units[1].observed_24h == 86400 and member.standbys == 1 and member.lag_bytes == 10
    assert (shared.backup_age_s, member.backup_age_s) == (60, 120) and v.notes == []
    # a prober that stopped reporting makes its site's units unknown, said in a note
    results["probe_age"] = [sample({"prober_site": "primary"}, 90), sample({"prober_site": "dr"}, 2)]
    v = build_view(results, "dev", [("053031", "小坂町")], 0.0)
    assert v.sections[1].units[1].state == "unknown" and "last reported 90 s ago" in v.notes[0]


def test_units_not_measured_lately_are_not_called_down_nor_up():
    v = view("unknown")
    v.notes.append("the prober of site primary last reported 90 s ago: its units show as unknown")
    html = render(v)
    assert "1 unit(s) not measured lately" in html and "down:" not in html and "All units up." not in html


def test_a_unit_with_history_but_no_current_sample_is_down_and_said_to_be_gone():
    unit = {"site": "primary", "lgcode": "053031", "component": "nhi"}
    results = {name: [] for name in QUERIES}
    results.update({"avail_30d": [sample(unit, 0.99)], "count_30d": [sample(unit, 100)],
                    "probe_age": [sample({"prober_site": "primary"}, 2)]})
    v = build_view(results, "dev", [("053031", "小坂町")], 0.0)
    assert [(u.component, u.state) for u in v.sections[1].units] == [("nhi", "down")]
    assert v.notes == ["nhi of 053031 at primary is no longer reported by its prober (its container is gone)"]
    # twin: with a current sample it is what the sample says
    results["up"] = [sample(unit, 1)]
    v = build_view(results, "dev", [("053031", "小坂町")], 0.0)
    assert v.sections[1].units[0].state == "up" and v.notes == []


def test_the_members_file_is_read_as_lgcode_name_pairs_and_a_malformed_one_is_refused(tmp_path):
    from municloud.status.web import read_members

    good = tmp_path / "members.json"
    good.write_text('[["053031", "小坂町"], ["053279", "上小阿仁村"]]', encoding="utf-8")
    assert read_members(str(good)) == [("053031", "小坂町"), ("053279", "上小阿仁村")]
    bad = tmp_path / "bad.json"
    bad.write_text('{"053031": "小坂町"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a list of \\[lgcode, name\\] pairs"):
        read_members(str(bad))


def test_usage_per_member_and_for_the_shared_units_is_on_the_page():
    """CPU over the last 5 minutes and the last 24 h, memory now: summed per lgcode by Prometheus (the
    queries' `sum by (lgcode)`), shown in each section; a section without figures says "no data"."""
    results = {name: [] for name in QUERIES}
    results.update({"cpu_5m": [sample({"lgcode": "053031"}, 0.0312), sample({"lgcode": "shared"}, 0.12)],
                    "cpu_24h": [sample({"lgcode": "053031"}, 0.74)],
                    "memory": [sample({"lgcode": "053031"}, 412 * (1 << 20))]})
    v = build_view(results, "dev", [("053031", "小坂町"), ("053279", "上小阿仁村")], 0.0)
    shared, member, other = v.sections
    assert (member.cpu_cores_5m, member.cpu_core_hours_24h, member.memory_bytes) == (0.0312, 0.74, 412 << 20)
    html = render(v)
    assert ("<dt>Usage (running units, the engine's figures)</dt><dd>CPU 0.031 cores over the last 5 minutes, "
            "0.74 core-hours in the last 24 h; memory 412.0 MiB now</dd>") in html
    assert "<dd>CPU 0.120 cores over the last 5 minutes</dd>" in html  # the shared units: no 24 h figure yet
    assert other.cpu_cores_5m is None and html.count("<dd>no data</dd>") >= 1
    assert all(q.startswith("sum by (lgcode)") for k, q in QUERIES.items() if k in ("cpu_5m", "cpu_24h", "memory"))
