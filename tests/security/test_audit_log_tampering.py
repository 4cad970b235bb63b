"""Access log (アクセスログ): every read of a resident's record is logged with staff, purpose and
time; the application's own role cannot rewrite it; and the hash chain (municloud.audit
.verify_chain) detects a row modified or deleted by a superuser. Each tamper is undone in the
same test, so the shared tenant's chain is intact for every other test."""

from __future__ import annotations

import datetime as dt

import asyncpg
import psycopg
import pytest

from municloud.audit import verify_chain
from municloud.db import DatabaseTarget

pytestmark = [pytest.mark.security, pytest.mark.integration]


def _target(tenant) -> DatabaseTarget:
    return DatabaseTarget(host=tenant.pg.host, port=tenant.pg.port, name="residents_registry",
                          user="residents_registry", password=tenant.pg.passwords["residents_registry"],
                          sslmode="verify-full", sslrootcert=tenant.pg.ca_file)


async def _verify(tenant):
    conn = await asyncpg.connect(**_target(tenant).connect_kwargs(), timeout=5)
    try:
        return await verify_chain(conn)
    finally:
        await conn.close()


def _reads(tenant):
    atena, household = tenant.atena_number, tenant.household_number
    return {
        "resident": f"/api/v1/residents/{atena}",
        "history": f"/api/v1/residents/{atena}/movements",
        "certificate": f"/api/v1/residents/{atena}/certificate",
        "certificate-html": f"/api/v1/residents/{atena}/certificate.html",
        "search": "/api/v1/residents?family_name_kana=アキタ",
        "household": f"/api/v1/households/{household}",
    }


@pytest.mark.attack("audit")
@pytest.mark.parametrize("read", ["resident", "history", "certificate", "certificate-html", "search",
                                  "household"])
def test_every_read_of_a_resident_is_logged_with_staff_purpose_and_time(tenants, read):
    """The attempt: read a resident's record without leaving a trace."""
    a, _, client = tenants
    staff = f"audit-{read}"
    last = int(a.sql("SELECT seq FROM access_log_head"))
    t0 = dt.datetime.now(dt.UTC)
    response = client.get(f"{a.url}{_reads(a)[read]}",
                          headers=a.headers(staff=staff, purpose="certificate_issuance"))
    t1 = dt.datetime.now(dt.UTC)
    assert response.status_code == 200, response.text[:300]
    rows = a.sql(f"SELECT staff_id || '|' || purpose || '|' || coalesce(resident_id, '') || '|' || "
                 f"extract(epoch FROM at) FROM access_log WHERE seq > {last} AND resident_id = '{a.atena_number}'")
    assert rows, f"reading {read} left no access-log entry"
    staff_id, purpose, resident, epoch = rows.splitlines()[0].split("|")
    assert (staff_id, purpose, resident) == (staff, "certificate_issuance", a.atena_number)
    assert t0.timestamp() - 1 <= float(epoch) <= t1.timestamp() + 1


@pytest.mark.attack("audit")
@pytest.mark.parametrize("statement", [
    "UPDATE access_log SET staff_id = 'someone-else' WHERE seq = 1",
    "DELETE FROM access_log WHERE seq = 1",
    "TRUNCATE access_log",
    "UPDATE access_log_head SET seq = 0",
    "DELETE FROM access_log_head",
])
def test_application_role_cannot_rewrite_the_log(tenants, statement):
    a, _, _ = tenants
    before = a.sql("SELECT count(*) || ':' || max(seq) FROM access_log")
    with psycopg.connect(**_psycopg_kwargs(a)) as conn:
        with pytest.raises(psycopg.Error):
            conn.execute(statement)
    assert a.sql("SELECT count(*) || ':' || max(seq) FROM access_log") == before


def _psycopg_kwargs(tenant) -> dict:
    return dict(host=tenant.pg.host, port=tenant.pg.port, user="residents_registry", dbname="residents_registry",
                password=tenant.pg.passwords["residents_registry"], sslmode="verify-full",
                sslrootcert=str(tenant.pg.ca_file), connect_timeout=5)


@pytest.mark.attack("audit")
@pytest.mark.xfail(strict=True, reason=(
    "VULN H-4 (owner C, /work/briefs/vulns.md): the service role owns access_log and can disable its "
    "append-only triggers (the hash chain still detects the rewrite)"))
def test_application_role_cannot_disable_the_append_only_trigger(tenants):
    a, _, _ = tenants
    with psycopg.connect(**_psycopg_kwargs(a)) as conn:
        try:
            with pytest.raises(psycopg.Error):
                with conn.transaction():
                    conn.execute("ALTER TABLE access_log DISABLE TRIGGER access_log_no_update")
                    raise_if_disabled = conn.execute(
                        "SELECT tgenabled FROM pg_trigger WHERE tgname = 'access_log_no_update'").fetchone()[0]
                    # Still inside the transaction: undo before the test reports.
                    conn.execute("ALTER TABLE access_log ENABLE TRIGGER access_log_no_update")
                    assert raise_if_disabled != "D"
        finally:
            conn.rollback()


TAMPERS = {
    # name: (tamper SQL, undo SQL); run as superuser with the triggers off.
    "modify-staff": ("UPDATE access_log SET staff_id = 'nobody' WHERE seq = {seq}",
                     "UPDATE access_log SET staff_id = '{staff_id}' WHERE seq = {seq}"),
    "modify-purpose": ("UPDATE access_log SET purpose = 'system_operation' WHERE seq = {seq}",
                       "UPDATE access_log SET purpose = '{purpose}' WHERE seq = {seq}"),
    "modify-time": ("UPDATE access_log SET at = at - interval '1 day' WHERE seq = {seq}",
                    "UPDATE access_log SET at = at + interval '1 day' WHERE seq = {seq}"),
    "modify-resident": ("UPDATE access_log SET resident_id = NULL WHERE seq = {seq}",
                        "UPDATE access_log SET resident_id = '{resident_id}' WHERE seq = {seq}"),
    "delete-middle-row": ("CREATE TABLE _kept AS SELECT * FROM access_log WHERE seq = {seq}; "
                          "DELETE FROM access_log WHERE seq = {seq}",
                          "INSERT INTO access_log SELECT * FROM _kept; DROP TABLE _kept"),
    "delete-newest-row": ("CREATE TABLE _kept AS SELECT * FROM access_log WHERE seq = {last}; "
                          "DELETE FROM access_log WHERE seq = {last}",
                          "INSERT INTO access_log SELECT * FROM _kept; DROP TABLE _kept"),
}


def _as_superuser(tenant, sql: str) -> None:
    tenant.sql("SET session_replication_role = replica; " + sql)  # replica: user triggers off


@pytest.mark.attack("audit")
@pytest.mark.parametrize("tamper", list(TAMPERS))
async def test_hash_chain_detects_tampering_by_a_superuser(tenants, tamper):
    a, _, _ = tenants
    assert (await _verify(a)).ok
    last = int(a.sql("SELECT max(seq) FROM access_log"))
    seq = max(1, last // 2)
    staff_id, purpose, resident_id = a.sql(
        f"SELECT staff_id || '|' || purpose || '|' || coalesce(resident_id, '') FROM access_log WHERE seq = {seq}"
    ).split("|")
    values = dict(seq=seq, last=last, staff_id=staff_id, purpose=purpose, resident_id=resident_id)
    do, undo = (sql.format(**values) for sql in TAMPERS[tamper])
    _as_superuser(a, do)
    try:
        report = await _verify(a)
        assert not report.ok, f"tampering ({tamper}) went unnoticed"
        assert report.bad_seq in (seq, last, seq + 1, last + 1)
    finally:
        _as_superuser(a, undo)
    assert (await _verify(a)).ok, "undoing the tamper did not restore the chain"


@pytest.mark.twin("audit")
async def test_twin_intact_chain_verifies(tenants):
    a, _, client = tenants
    client.get(f"{a.url}/api/v1/residents/{a.atena_number}", headers=a.headers())
    report = await _verify(a)
    assert report.ok and report.rows >= 2, report.sentence()
    assert report.sentence().startswith("access log chain intact")
