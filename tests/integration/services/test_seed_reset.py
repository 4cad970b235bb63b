"""Load-test data is reusable: `python -m services.<svc>.seed --reset` (what `municloud loadtest
reset` runs in each container of a test stack) empties a seeded tenant, so seeding succeeds again;
the access log is kept; the list of tables a reset empties covers every data table of the
service (a table added later without joining the list fails here)."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from municloud.service.seeding import KIT_DATA_TABLES

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
#: Tables that are not a tenant's data: migration bookkeeping and the DR probe's heartbeat.
NOT_DATA = {"schema_migrations", "dr_probe"}


def _run_seed_module(harness, service: str, *args: str) -> subprocess.CompletedProcess:
    """The service's seed command with the service's own settings from the environment, as in
    its container."""
    settings = harness.settings(service)
    env = {**os.environ, "PYTHONPATH": str(REPO), "ENVIRONMENT": "test", "SERVICE_NAME": service,
           "LGCODE": settings.lgcode, "DATABASE_HOST": settings.database_host,
           "DATABASE_PORT": str(settings.database_port), "DATABASE_SSLMODE": "verify-full",
           "DATABASE_SSLROOTCERT": str(settings.database_sslrootcert),
           "DB_PASSWORD_FILE": str(settings.db_password_file),
           "TOKEN_PUBLIC_KEY": settings.token_public_key}
    return subprocess.run([sys.executable, "-m", f"services.{service}.seed", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=180)


def test_a_seeded_tenant_is_reset_and_then_seeds_again(harness):
    service = "residents_registry"
    with harness.client(service) as c:
        ops = harness.token(service, "system_operation")
        assert c.post("/api/v1/admin/seed", json={"population": 200, "seed": 0},
                      headers=ops).status_code == 201
        # the allowed twin of the refusal below: a populated tenant refuses a second seed
        assert c.post("/api/v1/admin/seed", json={"population": 200, "seed": 0},
                      headers=ops).status_code == 409
        logged = harness.query(service, "SELECT count(*) AS n FROM audit.access_log")[0]["n"]
        done = _run_seed_module(harness, service, "--reset")
        assert done.returncode == 0, done.stderr
        sentence = done.stdout.strip()
        assert sentence.startswith("emptied ") and " tables of 053031 (" in sentence, sentence
        assert "residents 200" in sentence and sentence.endswith("; the access log is kept")
        assert harness.count(service, "residents") == 0 and harness.count(service, "households") == 0
        assert harness.query(service, "SELECT count(*) AS n FROM audit.access_log")[0]["n"] == logged
        again = c.post("/api/v1/admin/seed", json={"population": 200, "seed": 0}, headers=ops)
        assert again.status_code == 201, again.text
        assert harness.count(service, "residents") == 200


def test_reset_and_population_are_one_or_the_other(harness):
    done = _run_seed_module(harness, "tax", "--reset", "--population", "10")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


@pytest.mark.parametrize("service", ["residents_registry", "tax", "nhi"])
def test_the_reset_list_covers_every_data_table_of_the_service(harness, service):
    data_tables = importlib.import_module(f"services.{service}.seed").DATA_TABLES
    with harness.client(service):  # migrations and the platform inbox, as the service starts
        pass
    tables = {r["tablename"] for r in harness.query(
        service, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables - NOT_DATA == set(data_tables) | (set(KIT_DATA_TABLES) & tables), tables
    assert set(data_tables) <= tables


def test_a_bulk_load_leaves_statistics_for_the_planner(harness):
    """Seeding ends with ANALYZE of the service's own tables (PostgreSQL, "Populating a Database"),
    said in its sentence; `--analyze` does it alone, after the load test's other bulk work. The
    twin: before, a fresh tenant's residents table has never been analyzed."""
    service = "tax"
    never = ("SELECT last_analyze IS NULL AS never FROM pg_stat_user_tables WHERE relname = 'taxpayers'")
    with harness.client(service) as c:  # the service applies its migrations as it starts
        assert harness.query(service, never)[0]["never"] is True
        seeded = c.post("/api/v1/admin/seed", json={"population": 50, "seed": 3},
                        headers=harness.token(service, "system_operation"))
        assert seeded.status_code == 201, seeded.text
        assert " analyzed " in seeded.json()["message"] and " tables in " in seeded.json()["message"]
    assert harness.query(service, never)[0]["never"] is False
    done = _run_seed_module(harness, service, "--analyze")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(f"{service} of 053031: analyzed "), done.stdout
    owned = harness.query(service, "SELECT count(*) AS n FROM pg_tables WHERE tableowner = current_user")[0]["n"]
    assert f"analyzed {owned} tables in " in done.stdout
