"""PostgreSQL and pgBackRest configuration from roles/postgres and roles/pgbackrest, live: the
running servers (primaries and DR standbys) show the rendered tuning, log no parameter values, and pg_hba.conf rejects a
service role on another service's database (its own database is the twin); the repository runs
on the rendered pgbackrest.conf and the SLA schedule."""

from __future__ import annotations

import re

import pytest

from infra_helpers import by_component, host

pytestmark = [pytest.mark.live, pytest.mark.infra]

ROLE_DIR = "/etc/municloud/postgres"
SIZES = ("shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem", "wal_buffers",
         "min_wal_size", "max_wal_size")
PLAIN = ("max_connections", "log_statement", "log_parameter_max_length", "log_parameter_max_length_on_error",
         "log_error_verbosity", "log_min_error_statement", "log_min_duration_statement")


def _psql(name: str, sql: str) -> str:
    return host(name, "postgres").check_output(f"psql -X -d postgres -tAc \"{sql}\"").strip()


def _rendered(name: str) -> dict[str, str]:
    text = host(name, "postgres").file(f"{ROLE_DIR}/postgresql.conf").content_string
    return {m[1]: m[2].strip("'") for m in re.finditer(r"^(\w+) = (.+)$", text, re.M)}


def test_running_servers_show_the_rendered_tuning(containers, lgcodes):
    clusters = [pg for code in lgcodes for pg in by_component(containers, "postgres", code)
                + by_component(containers, "standby", code)]  # each DR standby mirrors its primary
    assert len(clusters) == 2 * len(lgcodes)
    for pg in clusters:
        want = _rendered(pg)
        for key in SIZES:
            same = _psql(pg, f"select pg_size_bytes(current_setting('{key}')) = pg_size_bytes('{want[key]}')")
            assert same == "t", (pg, key, want[key], _psql(pg, f"show {key}"))
        for key in PLAIN:
            assert _psql(pg, f"select setting from pg_settings where name = '{key}'") == want[key], (pg, key)
        # it is the role's file that set them, not a default that happens to agree
        assert _psql(pg, "select sourcefile from pg_settings where name = 'shared_buffers'") == \
            f"{ROLE_DIR}/postgresql.conf"
        assert _psql(pg, "show hba_file") == f"{ROLE_DIR}/pg_hba.conf"
        assert want["log_statement"] == "none" and want["log_parameter_max_length"] == "0"


def _login(pg_container, role: str, database: str):
    """Log in from the cluster's own tenant address (inside the allowed network) with ``role``'s password."""
    ip = next(n["IPAddress"] for name, n in pg_container.attrs["NetworkSettings"]["Networks"].items()
              if not name.endswith("-wan"))
    conninfo = f"host={ip} dbname={database} user={role} sslmode=require connect_timeout=5"
    script = (f'PGPASSWORD="$(cat /run/secrets/postgres/{role}.password)" '
              f'psql -X -tAc "select current_user" "{conninfo}"')
    return host(pg_container.name, "postgres").run(f"bash -c '{script}'")


def test_pg_hba_rejects_a_service_role_on_another_services_database(containers, lgcodes):
    (pg,) = by_component(containers, "postgres", lgcodes[0])
    refused = _login(containers[pg], "tax", "residents_registry")
    assert refused.rc != 0 and "pg_hba.conf rejects connection" in refused.stderr, refused.stderr
    assert 'user "tax", database "residents_registry"' in refused.stderr


def test_twin_a_service_role_logs_in_to_its_own_database(containers, lgcodes):
    (pg,) = by_component(containers, "postgres", lgcodes[0])
    own = _login(containers[pg], "tax", "tax")
    assert (own.rc, own.stdout.strip()) == (0, "tax"), own.stderr


def test_repository_runs_on_the_rendered_configuration_and_sla_schedule(containers, lgcodes):
    (repo,) = by_component(containers, "backup_repo")
    conf = host(repo, "postgres").file("/etc/pgbackrest/pgbackrest.conf")
    assert conf.is_symlink and conf.linked_to == "/etc/municloud/pgbackrest/pgbackrest.conf"
    text = conf.content_string
    for code in lgcodes:
        assert f"[{code}]" in text
    assert "Ansible managed" in text and "cipher-pass" not in text
    schedule = host(repo, "postgres").file("/etc/municloud/pgbackrest/schedule.conf").content_string
    full = re.search(r"^full_every_min=(\d+)$", schedule, re.M)[1]
    logs = containers[repo].logs().decode(errors="replace")
    assert f"backup schedule: full every {full} min" in logs
