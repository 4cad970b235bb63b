"""アクセスログ: every read of personal data is logged, the chain verifies, tampering by a
superuser (update, delete in the middle, delete the newest) is detected."""

import asyncio

import asyncpg
import pytest

from municloud.audit import verify_chain

pytestmark = pytest.mark.integration

SERVICE = "residents_registry"


def verify(harness):
    async def run():
        conn = await asyncpg.connect(**harness.settings(SERVICE).database().connect_kwargs())
        try:
            return await verify_chain(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.fixture
def logged(harness, move_in_body):
    with harness.client(SERVICE) as c:
        h = harness.token(SERVICE, "certificate_issuance", staff="clerk07")
        head = c.post("/api/v1/movements", json=move_in_body(),
                      headers=harness.token(SERVICE, "resident_record")).json()["movements"][0]["atena_number"]
        for _ in range(5):
            assert c.get(f"/api/v1/residents/{head}/certificate", headers=h).status_code == 200
    return head


def test_reads_are_logged_with_who_what_and_why(harness, logged):
    rows = harness.query(SERVICE, "SELECT staff_id, lgcode, purpose, resident_id, action"
                                  " FROM audit.access_log WHERE action = 'certificate'")
    assert len(rows) == 5
    assert {(r["staff_id"], r["lgcode"], r["purpose"], r["resident_id"]) for r in rows} == {
        ("clerk07", "053031", "certificate_issuance", logged)}
    result = verify(harness)
    assert result.ok and result.rows == 7, result.sentence()  # 2 move-in + 5 reads


def test_service_role_cannot_rewrite_the_log(harness, logged):
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        harness.query(SERVICE, "UPDATE audit.access_log SET staff_id = 'nobody'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        harness.query(SERVICE, "DELETE FROM audit.access_log")
    assert verify(harness).ok


@pytest.mark.parametrize("tamper,reason", [
    ("UPDATE audit.access_log SET staff_id = 'nobody' WHERE seq = 4", "row content does not match its hash"),
    ("DELETE FROM audit.access_log WHERE seq = 3", "row(s) missing before this one"),
    ("DELETE FROM audit.access_log WHERE seq = (SELECT max(seq) FROM audit.access_log)", "head mismatch"),
])
def test_superuser_tampering_is_detected(harness, logged, tamper, reason):
    assert verify(harness).ok  # twin: intact before
    harness.pg.exec_sql(f"SET session_replication_role = replica; {tamper};",
                        database=SERVICE)
    result = verify(harness)
    assert not result.ok and reason in result.reason, result.sentence()


def test_a_disabled_append_only_trigger_is_reported(harness, logged):
    """A superuser can still switch the trigger off (the service role cannot: tests/security);
    verification says so."""
    harness.pg.exec_sql("ALTER TABLE audit.access_log DISABLE TRIGGER access_log_no_update;",
                        database=SERVICE)
    result = verify(harness)
    assert not result.ok and "access_log_no_update" in result.reason
    harness.pg.exec_sql("ALTER TABLE audit.access_log ENABLE TRIGGER access_log_no_update;",
                        database=SERVICE)
    assert verify(harness).ok  # twin: re-enabled, intact


def test_verify_endpoint_reports_chain_and_head(harness, logged):
    with harness.client(SERVICE) as c:
        refused = c.get("/api/v1/access-log/verify", headers=harness.token(SERVICE, "resident_record"))
        assert refused.status_code == 403
        ok = c.get("/api/v1/access-log/verify", headers=harness.token(SERVICE, "system_operation"))
        assert ok.status_code == 200 and ok.json()["ok"] is True
        assert ok.json()["head_seq"] == ok.json()["rows"] and len(ok.json()["head_hash"]) == 64
        harness.pg.exec_sql("SET session_replication_role = replica;"
                            " UPDATE audit.access_log SET action = 'x' WHERE seq = 2;", database=SERVICE)
        broken = c.get("/api/v1/access-log/verify", headers=harness.token(SERVICE, "system_operation"))
        assert broken.json()["ok"] is False and "seq 2" in broken.json()["message"]


def test_two_writers_with_stale_heads_keep_one_chain_in_one_statement_each(harness, logged, monkeypatch):
    """append_chained: a writer whose head another writer moved inserts nothing, reads the head
    again and appends after it; when the races last, it takes the head's lock as before. The chain
    verifies throughout and no seq is written twice."""
    import municloud.audit as audit

    entry = audit.AccessEntry("clerk09", "053031", "certificate_issuance", logged, "certificate")

    async def run():
        kwargs = harness.settings(SERVICE).database().connect_kwargs()
        a, b = await asyncpg.connect(**kwargs), await asyncpg.connect(**kwargs)
        try:
            head_a = await audit.append_chained(a, [entry])           # A knows the head it wrote
            head_b = await audit.append_chained(b, [entry, entry])    # B moves it on
            assert head_b[0] == head_a[0] + 2
            again = await audit.append_chained(a, [entry], head_a)    # A's head is stale now
            assert again[0] == head_b[0] + 1
            monkeypatch.setattr(audit, "_OPTIMISTIC_TRIES", 0)        # races that last: the lock
            locked = await audit.append_chained(b, [entry], head_b)
            assert locked[0] == again[0] + 1
            return await verify_chain(a)
        finally:
            await a.close()
            await b.close()

    result = asyncio.run(run())
    assert result.ok and result.rows == 7 + 5, result.sentence()
    seqs = [r["seq"] for r in harness.query(SERVICE, "SELECT seq FROM audit.access_log ORDER BY seq")]
    assert seqs == list(range(1, 13))
