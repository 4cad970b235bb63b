"""Access log (アクセスログ): every read of a resident's record is logged with staff, purpose and
time; the application's own role cannot rewrite it, nor disable, drop or take over what guards it
(the log belongs to a NOLOGIN role); and the hash chain (municloud.audit.verify_chain) detects a
row modified or deleted by a superuser. Each tamper is undone in the
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
    last = int(a.sql("SELECT seq FROM audit.access_log_head"))
    t0 = dt.datetime.now(dt.UTC)
    response = client.get(f"{a.url}{_reads(a)[read]}",
                          headers=a.headers(staff=staff, purpose="certificate_issuance"))
    t1 = dt.datetime.now(dt.UTC)
    assert response.status_code == 200, response.text[:300]
    rows = a.sql(f"SELECT staff_id || '|' || purpose || '|' || coalesce(resident_id, '') || '|' || "
                 f"extract(epoch FROM at) FROM audit.access_log WHERE seq > {last} AND resident_id = '{a.atena_number}'")
    assert rows, f"reading {read} left no access-log entry"
    staff_id, purpose, resident, epoch = rows.splitlines()[0].split("|")
    assert (staff_id, purpose, resident) == (staff, "certificate_issuance", a.atena_number)
    assert t0.timestamp() - 1 <= float(epoch) <= t1.timestamp() + 1


@pytest.mark.attack("audit")
@pytest.mark.parametrize("statement", [
    "UPDATE audit.access_log SET staff_id = 'someone-else' WHERE seq = 1",
    "DELETE FROM audit.access_log WHERE seq = 1",
    "TRUNCATE audit.access_log",
    "UPDATE audit.access_log_head SET seq = 0",
    "DELETE FROM audit.access_log_head",
])
def test_application_role_cannot_rewrite_the_log(tenants, statement):
    a, _, _ = tenants
    before = a.sql("SELECT count(*) || ':' || max(seq) FROM audit.access_log")
    with psycopg.connect(**_psycopg_kwargs(a)) as conn:
        with pytest.raises(psycopg.Error):
            conn.execute(statement)
    assert a.sql("SELECT count(*) || ':' || max(seq) FROM audit.access_log") == before


def _psycopg_kwargs(tenant) -> dict:
    return dict(host=tenant.pg.host, port=tenant.pg.port, user="residents_registry", dbname="residents_registry",
                password=tenant.pg.passwords["residents_registry"], sslmode="verify-full",
                sslrootcert=str(tenant.pg.ca_file), connect_timeout=5)


# What an application role could try to make the log rewritable; each must be refused because the
# log belongs to the NOLOGIN role residents_registry_audit (images/postgres/audit_schema.sql).
OWNER_ATTACKS = {
    "disable-trigger": "ALTER TABLE audit.access_log DISABLE TRIGGER access_log_no_update",
    "disable-all-triggers": "ALTER TABLE audit.access_log DISABLE TRIGGER ALL",
    "drop-trigger": "DROP TRIGGER access_log_no_update ON audit.access_log",
    "replace-trigger-function": ("CREATE OR REPLACE FUNCTION audit.access_log_append_only() RETURNS trigger "
                                 "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$"),
    "drop-table": "DROP TABLE audit.access_log",
    "drop-schema": "DROP SCHEMA audit CASCADE",
    "rename-table": "ALTER TABLE audit.access_log RENAME TO access_log_old",
    "take-ownership": "ALTER TABLE audit.access_log OWNER TO residents_registry",
    "become-owner": "SET ROLE residents_registry_audit",
    "grant-owner-role": "GRANT residents_registry_audit TO residents_registry",
    "replica-mode": "SET session_replication_role = replica",
    "truncate-head": "TRUNCATE audit.access_log_head",
    "shadow-table": "CREATE TABLE audit.access_log_shadow (seq bigint)",
}


@pytest.mark.attack("audit")
@pytest.mark.parametrize("attack", list(OWNER_ATTACKS))
async def test_application_role_cannot_make_the_log_rewritable(tenants, attack):
    a, _, _ = tenants
    with psycopg.connect(**_psycopg_kwargs(a)) as conn:
        try:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(OWNER_ATTACKS[attack])
        finally:
            conn.rollback()
    assert a.sql("SELECT string_agg(tgenabled::text, '' ORDER BY tgname) FROM pg_trigger "
                 "WHERE tgrelid = 'audit.access_log'::regclass AND NOT tgisinternal") == "OO"
    assert a.sql("SELECT relowner::regrole FROM pg_class WHERE oid = 'audit.access_log'::regclass") \
        == "residents_registry_audit"
    assert (await _verify(a)).ok


@pytest.mark.twin("audit")
def test_twin_application_role_appends_and_reads_the_log(tenants):
    """The same connection may do what the service needs: read the log and the head."""
    a, _, _ = tenants
    with psycopg.connect(**_psycopg_kwargs(a)) as conn:
        seq = conn.execute("SELECT seq FROM audit.access_log_head").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM audit.access_log").fetchone()[0] == seq
        assert conn.execute("SELECT has_table_privilege('audit.access_log', 'INSERT')").fetchone()[0] is True


TAMPERS = {
    # name: (tamper SQL, undo SQL); run as superuser with the triggers off.
    "modify-staff": ("UPDATE audit.access_log SET staff_id = 'nobody' WHERE seq = {seq}",
                     "UPDATE audit.access_log SET staff_id = '{staff_id}' WHERE seq = {seq}"),
    "modify-purpose": ("UPDATE audit.access_log SET purpose = 'system_operation' WHERE seq = {seq}",
                       "UPDATE audit.access_log SET purpose = '{purpose}' WHERE seq = {seq}"),
    "modify-time": ("UPDATE audit.access_log SET at = at - interval '1 day' WHERE seq = {seq}",
                    "UPDATE audit.access_log SET at = at + interval '1 day' WHERE seq = {seq}"),
    "modify-resident": ("UPDATE audit.access_log SET resident_id = NULL WHERE seq = {seq}",
                        "UPDATE audit.access_log SET resident_id = '{resident_id}' WHERE seq = {seq}"),
    "delete-middle-row": ("CREATE TABLE _kept AS SELECT * FROM audit.access_log WHERE seq = {seq}; "
                          "DELETE FROM audit.access_log WHERE seq = {seq}",
                          "INSERT INTO audit.access_log SELECT * FROM _kept; DROP TABLE _kept"),
    "delete-newest-row": ("CREATE TABLE _kept AS SELECT * FROM audit.access_log WHERE seq = {last}; "
                          "DELETE FROM audit.access_log WHERE seq = {last}",
                          "INSERT INTO audit.access_log SELECT * FROM _kept; DROP TABLE _kept"),
}


def _as_superuser(tenant, sql: str) -> None:
    tenant.sql("SET session_replication_role = replica; " + sql)  # replica: user triggers off


@pytest.mark.attack("audit")
@pytest.mark.parametrize("tamper", list(TAMPERS))
async def test_hash_chain_detects_tampering_by_a_superuser(tenants, tamper):
    a, _, _ = tenants
    assert (await _verify(a)).ok
    last = int(a.sql("SELECT max(seq) FROM audit.access_log"))
    seq = max(1, last // 2)
    staff_id, purpose, resident_id = a.sql(
        f"SELECT staff_id || '|' || purpose || '|' || coalesce(resident_id, '') FROM audit.access_log WHERE seq = {seq}"
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
