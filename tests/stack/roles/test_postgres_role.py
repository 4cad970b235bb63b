"""roles/postgres rendered through municloud_ops.ansible (ansible-runner, connection local)."""

from __future__ import annotations

import re

import pytest

from role_helpers import assert_refused, render, render_twice  # same directory

pytestmark = [pytest.mark.integration, pytest.mark.stack]

VARIABLES = {"postgres_databases": ["residents_registry", "tax", "nhi"],
             "postgres_allowed_networks": ["10.201.1.0/24"],
             "postgres_replication_networks": ["10.201.254.0/24"],
             "postgres_memory_mb": 1024, "postgres_max_connections": 100}


def _settings(text: str) -> dict[str, str]:
    return {m[1]: m[2].strip("'") for m in re.finditer(r"^(\w+) = (.+)$", text, re.M)}


def _hba(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    first, second, out = render_twice(tmp_path_factory.mktemp("pg"), "postgres", VARIABLES)
    return first, second, (out / "postgresql.conf").read_text(), (out / "pg_hba.conf").read_text()


def test_first_run_writes_both_files_and_the_second_changes_nothing(rendered):
    first, second, conf, hba = rendered
    assert (first.status, first.rc) == ("successful", 0) and first.changed >= 2, first.sentence()
    assert (second.status, second.changed) == ("successful", 0), second.sentence()
    assert conf.startswith("#\n# Ansible managed") and hba.startswith("#\n# Ansible managed")


def test_memory_settings_are_sized_from_the_budget(rendered):
    s = _settings(rendered[2])
    assert (s["max_connections"], s["shared_buffers"], s["effective_cache_size"]) == ("100", "256MB", "768MB")
    assert (s["work_mem"], s["maintenance_work_mem"]) == ("7MB", "64MB")  # (1024 - 256) // 100, 1024 // 16
    assert (s["min_wal_size"], s["max_wal_size"], s["wal_buffers"]) == ("80MB", "1024MB", "16MB")


def test_logging_never_carries_statement_parameters_or_error_details(rendered):
    s = _settings(rendered[2])
    assert s["log_statement"] == "none"
    assert s["log_parameter_max_length"] == s["log_parameter_max_length_on_error"] == "0"
    assert s["log_error_verbosity"] == "terse"  # no DETAIL: a unique violation's DETAIL names the key value
    assert s["log_min_error_statement"] == "panic"
    assert s["log_min_duration_statement"] == "1000"


def test_each_service_role_reaches_only_its_own_database_and_everything_else_is_rejected(rendered):
    rules = _hba(rendered[3])
    host_rules = [r for r in rules if r[0] == "hostssl"]
    assert host_rules == [["hostssl", db, db, "10.201.1.0/24", "scram-sha-256"]
                          for db in ("residents_registry", "tax", "nhi")] + [
        ["hostssl", "replication", "replicator", "10.201.254.0/24", "scram-sha-256"],
        # pg_rewind's source connection in failback (decision 0039): the replicator, database postgres only
        ["hostssl", "postgres", "replicator", "10.201.254.0/24", "scram-sha-256"]]
    assert rules[:2] == [["local", "all", "postgres", "peer"], ["local", "replication", "postgres", "peer"]]
    assert rules[-2:] == [["local", "all", "all", "reject"], ["host", "all", "all", "all", "reject"]]
    assert not any(r[-1] in ("trust", "md5", "password") for r in rules)


def test_explicit_sizes_override_the_derived_ones(tmp_path):
    run, _ = render(tmp_path, "postgres", {
        **VARIABLES, "postgres_shared_buffers_mb": 200,
        "postgres_work_mem_mb": 16})
    assert run.status == "successful", run.failures
    s = _settings((tmp_path / "o" / "postgresql.conf").read_text())
    assert (s["shared_buffers"], s["work_mem"]) == ("200MB", "16MB")


@pytest.mark.parametrize("bad,named", [
    ({"postgres_max_connections": 5}, "postgres_max_connections must be between 10 and 10000"),
    ({"postgres_memory_mb": "lots"}, "argument 'postgres_memory_mb' is of type"),
    ({"postgres_max_wal_size_mb": 100}, "postgres_max_wal_size_mb must be at least twice"),
    ({"postgres_databases": ["tax", "postgres"]}, "postgres_databases: invalid or reserved database name 'postgres'"),
    ({"postgres_databases": ["Tax; drop"]}, "postgres_databases: invalid or reserved database name"),
    ({"postgres_allowed_networks": ["10.1.300.0/24"]}, "postgres_allowed_networks: '10.1.300.0/24' is not a CIDR"),
    ({"postgres_replication_networks": ["all"]}, "postgres_replication_networks: 'all' is not a CIDR"),
])
def test_bad_variables_are_refused_naming_the_variable_and_nothing_is_written(tmp_path, bad, named):
    assert_refused(*render(tmp_path, "postgres", {**VARIABLES, **bad}), named)


def test_twin_boundary_values_are_accepted(tmp_path):
    run, _ = render(tmp_path, "postgres", {
        **VARIABLES, "postgres_max_connections": 10,
        "postgres_memory_mb": 128, "postgres_max_wal_size_mb": 160, "postgres_min_wal_size_mb": 80,
        "postgres_allowed_networks": ["10.255.255.0/24", "fd00:1::/64"]})
    assert (run.status, run.failures) == ("successful", ())
    assert "fd00:1::/64" in (tmp_path / "o" / "pg_hba.conf").read_text()
