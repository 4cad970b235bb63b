"""The postgres image's contract (docs/postgres-image.md): per-service databases and roles, TLS
and scram only, listed networks only, clear refusal of bad configuration."""

import psycopg
import pytest

from municloud_ops.scratch.postgres import ContainerStartError, postgres_container

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg():
    with postgres_container(("residents_registry", "tax", "nhi")) as handle:
        yield handle


def test_each_service_role_reaches_its_own_database_over_tls(pg):
    for service in ("residents_registry", "tax", "nhi"):
        with psycopg.connect(pg.dsn(service)) as conn:
            row = conn.execute("SELECT current_user, current_database(), ssl FROM pg_stat_ssl "
                               "WHERE pid = pg_backend_pid()").fetchone()
        assert row == (service, service, True)


def test_a_role_cannot_reach_another_service_database(pg):
    with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry"):
        psycopg.connect(pg.dsn("tax", database="nhi"))


def test_connect_privilege_is_granted_only_to_the_owning_role(pg):
    rows = pg.exec_sql("SELECT r, d, has_database_privilege(r, d, 'CONNECT') FROM "
                       "unnest(ARRAY['tax','nhi']) r, unnest(ARRAY['tax','nhi','postgres']) d ORDER BY 1, 2")
    assert rows.splitlines() == ["nhi|nhi|t", "nhi|postgres|f", "nhi|tax|f",
                                 "tax|nhi|f", "tax|postgres|f", "tax|tax|t"]


def test_plain_text_connection_is_refused_and_tls_twin_succeeds(pg):
    plain = pg.dsn("tax").replace("sslmode=verify-full", "sslmode=disable")
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain)
    with psycopg.connect(pg.dsn("tax")):
        pass


def test_wrong_password_is_refused(pg):
    bad = pg.dsn("tax").replace(f"password={pg.passwords['tax']}", "password=not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(bad)


def test_cluster_has_checksums_and_scram_and_runs_as_postgres(pg):
    assert pg.exec_sql("SHOW data_checksums") == "on"
    assert pg.exec_sql("SELECT count(*) FROM pg_authid WHERE rolpassword LIKE 'SCRAM-SHA-256$%'") == "5"
    assert pg.container.exec_run("id -u").output.decode().strip() == "999"
    assert pg.container.attrs["Config"]["User"] == "postgres"


def test_healthcheck_reports_healthy(pg):
    pg.container.reload()
    assert pg.container.attrs["State"]["Health"]["Status"] == "healthy"


def test_unlisted_network_cannot_connect():
    with postgres_container(("tax",), env={"MC_PG_ALLOWED_NETWORKS": "10.255.255.0/24"},
                            wait_login=False) as other:
        with pytest.raises(psycopg.OperationalError, match="no pg_hba.conf entry"):
            psycopg.connect(other.dsn("tax"), connect_timeout=5)


@pytest.mark.parametrize("env, named", [
    ({"MC_PG_ALLOWED_NETWORKS": "everyone"}, "MC_PG_ALLOWED_NETWORKS"),
    ({"MC_PG_DATABASES": "tax;drop"}, "MC_PG_DATABASES"),
    ({"MC_PG_MODE": "leader"}, "MC_PG_MODE"),
    ({"MC_PG_MODE": "standby"}, "MC_PG_PEER_HOST"),
])
def test_bad_configuration_stops_the_container_naming_the_setting(env, named):
    with pytest.raises(ContainerStartError, match=named):
        with postgres_container(("tax",), env=env, timeout=30):
            pass
