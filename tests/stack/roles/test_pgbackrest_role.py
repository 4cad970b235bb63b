"""roles/pgbackrest rendered through municloud_ops.ansible (ansible-runner, connection local)."""

from __future__ import annotations

import pytest

from role_helpers import assert_refused, render, render_twice  # same directory

pytestmark = [pytest.mark.integration, pytest.mark.stack]

STANZAS = [{"name": "053279", "hosts": ["mc-a-primary-053279-postgres", "mc-a-dr-053279-postgres"], "port": 5432},
           {"name": "053031", "hosts": ["mc-a-primary-053031-postgres", "mc-a-dr-053031-postgres"], "port": 5432}]
VARIABLES = {"pgbackrest_stanzas": STANZAS, "pgbackrest_retention_full": 3, "pgbackrest_retention_diff": 7,
             "pgbackrest_full_every_hours": 72, "pgbackrest_diff_every_hours": 12}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    first, second, out = render_twice(tmp_path_factory.mktemp("br"), "pgbackrest", VARIABLES)
    return first, second, (out / "pgbackrest.conf").read_text(), (out / "schedule.conf").read_text()


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_first_run_writes_both_files_and_the_second_changes_nothing(rendered):
    first, second, conf, schedule = rendered
    assert (first.status, first.rc) == ("successful", 0) and first.changed >= 2, first.sentence()
    assert (second.status, second.changed) == ("successful", 0), second.sentence()
    assert "Ansible managed" in conf and "Ansible managed" in schedule


def test_retention_and_encryption_but_never_the_passphrase(rendered):
    lines = _lines(rendered[2])
    assert {"repo1-retention-full=3", "repo1-retention-diff=7", "repo1-cipher-type=aes-256-cbc"} <= set(lines)
    assert not any(line.startswith("repo1-cipher-pass") for line in lines)  # stays in the secret include file


def test_one_stanza_per_cluster_sorted_each_host_authorised_for_its_own_stanza_only(rendered):
    lines = _lines(rendered[2])
    sections = [line for line in lines if line.startswith("[")]
    assert sections == ["[global]", "[053031]", "[053279]"]
    auth = sorted(line for line in lines if line.startswith("tls-server-auth="))
    assert auth == sorted(f"tls-server-auth={h}={s['name']}" for s in STANZAS for h in s["hosts"])
    body = rendered[2].split("[053031]")[1].split("[053279]")[0]
    assert "pg1-host=mc-a-primary-053031-postgres" in body and "pg2-host=mc-a-dr-053031-postgres" in body
    assert "pg1-host-type=tls" in body and "053279" not in body


def test_schedule_in_minutes_from_the_hours(rendered):
    assert _lines(rendered[3]) == ["full_every_min=4320", "diff_every_min=720"]


@pytest.mark.parametrize("bad,named", [
    ({"pgbackrest_retention_full": 0}, "pgbackrest_retention_full must be >= 1"),
    ({"pgbackrest_diff_every_hours": 72}, "pgbackrest_diff_every_hours must be >= 0 and below"),
    ({"pgbackrest_full_every_hours": "weekly"}, "argument 'pgbackrest_full_every_hours' is of type"),
    ({"pgbackrest_stanzas": [{"name": "Bad Name", "hosts": ["h"]}]}, "pgbackrest_stanzas: bad stanza Bad Name"),
    ({"pgbackrest_stanzas": [{"name": "053031", "hosts": []}]}, "pgbackrest_stanzas: bad stanza 053031"),
    ({"pgbackrest_stanzas": STANZAS + STANZAS[:1]}, "pgbackrest_stanzas: duplicate stanza name"),
])
def test_bad_variables_are_refused_naming_the_variable_and_nothing_is_written(tmp_path, bad, named):
    assert_refused(*render(tmp_path, "pgbackrest", {**VARIABLES, **bad}), named)


def test_twin_no_schedule_and_fulls_only_are_accepted(tmp_path):
    run, _ = render(tmp_path, "pgbackrest", {
        **VARIABLES, "pgbackrest_full_every_hours": 0,
        "pgbackrest_diff_every_hours": 0, "pgbackrest_retention_diff": 0})
    assert (run.status, run.failures) == ("successful", ())
    assert _lines((tmp_path / "o" / "schedule.conf").read_text()) == ["full_every_min=0", "diff_every_min=0"]
