"""Data flows between the three services through their platform inboxes.

The hub's part (fan-out of a 住民異動通知 to tax and nhi; routing of 所得照会 and its answer) is
played by `HubStandIn`, which receives what each service's outbox relay publishes and POSTs it
to the subscribers' inboxes exactly as the hub would. The real hub is tested by its own suite.
"""

import asyncio
import json

import asyncpg
import pytest
import yaml

from municloud.calc.nhi_premium import HouseholdMember, NhiHousehold, compute
from municloud.params import default_municipality_params
from municloud.platform import Ack, KeyRegistry, SigningKey, build_message, parse_message, sign_message
from municloud.service.outbox import drain_once

pytestmark = pytest.mark.integration

LG = "053031"
UNITS = ("residents_registry", "tax", "nhi")
SUBSCRIBERS = {"ResidentMoveNotice": ("tax", "nhi"), "IncomeInquiry": ("tax",),
               "IncomeInquiryResponse": ("nhi",)}


@pytest.fixture
def platform(harness, tmp_path):
    """Signing keys for each unit and the public key registry every service loads."""
    registry = KeyRegistry()
    paths = {}
    for unit in UNITS:
        key = SigningKey.generate(f"{LG}-{unit}-1")
        registry.add_signing_key(key, lgcode=LG, unit=unit)
        paths[unit] = tmp_path / f"{key.key_id}.key"
        paths[unit].write_bytes(key.private_pem())
    registry_file = tmp_path / "platform-keys.yaml"
    registry_file.write_text(yaml.safe_dump(registry.to_mapping()))
    return {"keys": paths, "registry": registry_file}


class HubStandIn:
    """Delivers each published message to the inboxes of its subscribers (test clients)."""

    def __init__(self, clients: dict) -> None:
        self.clients = clients
        self.delivered: list[tuple[str, str, int]] = []

    async def publish(self, message, key):
        signed = sign_message(message, key)
        for unit in SUBSCRIBERS[message.header.message_type]:
            r = self.clients[unit].post("/api/v1/platform/inbox", content=signed,
                                        headers={"Content-Type": "application/xml"})
            assert r.status_code == 200, r.text
            assert isinstance(parse_message(r.content).body, Ack)
            self.delivered.append((message.header.message_type, unit, r.status_code))
        return None


def relay(harness, unit: str, hub: HubStandIn, platform) -> tuple[int, int]:
    async def run():
        pool = await asyncpg.create_pool(**harness.settings(unit).database().connect_kwargs(),
                                         min_size=1, max_size=2)
        try:
            return await drain_once(pool, unit, LG, hub, SigningKey.load(platform["keys"][unit]))
        finally:
            await pool.close()

    return asyncio.run(run())


@pytest.fixture
def services(harness, platform):
    extra = {"platform_keys_file": platform["registry"], "outbox_relay": False}
    with harness.client("residents_registry", platform_signing_key_file=platform["keys"]["residents_registry"], **extra) as r, \
            harness.client("tax", platform_signing_key_file=platform["keys"]["tax"], **extra) as t, \
            harness.client("nhi", platform_signing_key_file=platform["keys"]["nhi"], **extra) as n:
        yield {"residents_registry": r, "tax": t, "nhi": n}


def test_move_in_reaches_tax_and_nhi_exactly_once(harness, services, platform, move_in_body):
    c = services["residents_registry"]
    r = c.post("/api/v1/movements", json=move_in_body(),
               headers=harness.token("residents_registry", "resident_record"))
    assert r.status_code == 201
    hub = HubStandIn(services)
    assert relay(harness, "residents_registry", hub, platform) == (2, 0)
    # the two records travelled as one 住民異動通知 to both subscribers
    assert hub.delivered == [("ResidentMoveNotice", "tax", 200), ("ResidentMoveNotice", "nhi", 200)]
    assert harness.count("tax", "taxpayers") == 2
    enrolled = harness.query("nhi", "SELECT atena_number, acquired_on, reason FROM enrolments"
                                    " WHERE insured ORDER BY atena_number")
    assert [(e["acquired_on"].isoformat(), e["reason"]) for e in enrolled] == [
        ("2025-04-01", "move_in"), ("2025-04-01", "move_in")]
    # nothing left to send; a second relay pass sends nothing
    assert relay(harness, "residents_registry", hub, platform) == (0, 0)
    pending = c.get("/api/v1/outbox", headers=harness.token("residents_registry", "system_operation"))
    assert pending.json() == []


def test_duplicate_and_forged_deliveries(harness, services, platform, move_in_body):
    services["residents_registry"].post("/api/v1/movements", json=move_in_body(),
                                        headers=harness.token("residents_registry", "resident_record"))
    rows = harness.query("residents_registry", "SELECT payload FROM outbox ORDER BY id LIMIT 1")
    from municloud.platform import ResidentMoveNotice

    notice = ResidentMoveNotice.model_validate(json.loads(rows[0]["payload"]))
    message = build_message(notice, sender_unit="residents_registry", sender_lgcode=LG,
                            receiver_unit="platform_hub", receiver_lgcode=LG)
    signed = sign_message(message, SigningKey.load(platform["keys"]["residents_registry"]))
    tax = services["tax"]
    for _ in range(2):  # at-least-once delivery: the second is acknowledged, not re-applied
        assert tax.post("/api/v1/platform/inbox", content=signed,
                        headers={"Content-Type": "application/xml"}).status_code == 200
    assert harness.count("tax", "platform_inbox") == 1 and harness.count("tax", "taxpayers") == 1
    forged = sign_message(build_message(notice, sender_unit="residents_registry", sender_lgcode=LG,
                                        receiver_unit="platform_hub", receiver_lgcode=LG),
                          SigningKey.generate(f"{LG}-residents_registry-1"))
    r = services["nhi"].post("/api/v1/platform/inbox", content=forged,
                             headers={"Content-Type": "application/xml"})
    assert r.status_code == 403 and harness.count("nhi", "persons") == 0
    # twin: the genuine message is applied by nhi
    assert services["nhi"].post("/api/v1/platform/inbox", content=signed,
                                headers={"Content-Type": "application/xml"}).status_code == 200
    assert harness.count("nhi", "persons") == 1


def test_death_and_move_out_withdraw_from_nhi(harness, services, platform, move_in_body):
    c = services["residents_registry"]
    h = harness.token("residents_registry", "resident_record")
    moved = c.post("/api/v1/movements", json=move_in_body(), headers=h).json()["movements"]
    head, wife = moved[0]["atena_number"], moved[1]["atena_number"]
    c.post("/api/v1/movements", headers=h, json={"kind": "death", "event_date": "2025-05-10",
                                                 "notification_date": "2025-05-11", "atena_number": head})
    c.post("/api/v1/movements", headers=h, json={
        "kind": "move_out", "event_date": "2025-06-01", "notification_date": "2025-05-20",
        "atena_numbers": [wife], "next_address": "青森県弘前市1番地"})
    relay(harness, "residents_registry", HubStandIn(services), platform)
    rows = {r["atena_number"]: r for r in harness.query(
        "nhi", "SELECT atena_number, insured, lost_on FROM enrolments")}
    assert (rows[head]["insured"], rows[head]["lost_on"].isoformat()) == (False, "2025-05-11")
    assert (rows[wife]["insured"], rows[wife]["lost_on"].isoformat()) == (False, "2025-06-01")
    events = harness.query("nhi", "SELECT event, count(*) AS n FROM enrolment_events GROUP BY 1 ORDER BY 1")
    assert [(e["event"], e["n"]) for e in events] == [("acquire", 2), ("lose", 2)]
    status = {r["atena_number"]: r["status"] for r in harness.query("tax", "SELECT * FROM taxpayers")}
    assert status == {head: "deceased", wife: "moved_out"}


def _expected_premium(harness, household_number: str, fiscal_year: int) -> int:
    members = harness.query("nhi", """
        SELECT p.birth_date, p.relationship_to_head, coalesce(e.insured, false) AS insured,
               i.total_income, i.is_earner
        FROM persons p LEFT JOIN enrolments e USING (atena_number)
        JOIN member_incomes i ON i.atena_number = p.atena_number AND i.fiscal_year = $2
        WHERE p.household_number = $1 AND (e.insured OR p.relationship_to_head = '世帯主')""",
        household_number, fiscal_year)
    household = NhiHousehold(members=[HouseholdMember(
        birth_date=m["birth_date"], insured=m["insured"], is_head=m["relationship_to_head"] == "世帯主",
        total_income=m["total_income"] or 0, salary_or_pension_earner=bool(m["is_earner"]))
        for m in members])
    return compute(household, default_municipality_params(LG).nhi_for(fiscal_year), fiscal_year).total


def test_nhi_premium_with_income_inquiry_through_the_platform(harness, services, platform):
    ops = {u: harness.token(u, "system_operation") for u in UNITS}
    for unit in ("tax", "nhi"):
        assert services[unit].post("/api/v1/admin/seed", json={"population": 200, "seed": 5},
                                   headers=ops[unit]).status_code == 201
    household = harness.query("nhi", "SELECT p.household_number, count(*) AS n FROM persons p"
                                      " JOIN enrolments e USING (atena_number) WHERE e.insured"
                                      " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")[0]["household_number"]
    nhi, h = services["nhi"], harness.token("nhi", "nhi_administration")
    # HUB_URL unset on this nhi: it says which path to take, and stores nothing
    r = nhi.post(f"/api/v1/premiums/{household}/2025", headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "income_missing"
    assert harness.count("nhi", "premiums") == 0
    # the platform path: enqueue 所得照会 as nhi does with HUB_URL set, let the hub stand-in carry it
    from services.nhi.premium import household_members, missing_incomes, request_incomes

    async def ask():
        conn = await asyncpg.connect(**harness.settings("nhi").database().connect_kwargs())
        try:
            async with conn.transaction():
                members = await household_members(conn, household)
                await request_incomes(conn, LG, 2025, await missing_incomes(conn, members, 2025))
        finally:
            await conn.close()

    asyncio.run(ask())
    hub = HubStandIn(services)
    assert relay(harness, "nhi", hub, platform)[0] == 1  # 所得照会 → tax inbox
    assert relay(harness, "tax", hub, platform)[0] == 1  # answer → nhi inbox
    assert [d[:2] for d in hub.delivered] == [("IncomeInquiry", "tax"), ("IncomeInquiryResponse", "nhi")]
    r = nhi.post(f"/api/v1/premiums/{household}/2025", headers=h)
    assert r.status_code == 201, r.text
    premium = r.json()
    assert premium["total"] == _expected_premium(harness, household, 2025) > 0
    assert premium["total"] % 100 == 0
    assert {p["part"] for p in premium["breakdown"]["parts"]} == {"medical", "support", "care"}
    again = nhi.get(f"/api/v1/premiums/{household}/2025", headers=h).json()
    assert again["total"] == premium["total"] and again["revision"] == 1


def test_nhi_premium_with_income_records_when_no_hub(harness, services):
    ops = {u: harness.token(u, "system_operation") for u in UNITS}
    for unit in ("tax", "nhi"):
        services[unit].post("/api/v1/admin/seed", json={"population": 200, "seed": 5},
                            headers=ops[unit])
    household = harness.query("nhi", "SELECT household_number FROM persons p JOIN enrolments e"
                                      " USING (atena_number) WHERE e.insured ORDER BY 1 LIMIT 1")[0][0]
    atenas = [r["atena_number"] for r in harness.query(
        "nhi", "SELECT atena_number FROM persons WHERE household_number = $1", household)]
    answer = services["tax"].post("/api/v1/income-inquiries",
                                  headers=harness.token("tax", "nhi_administration"),
                                  json={"fiscal_year": 2025,
                                        "subjects": [{"atena_number": a} for a in atenas]}).json()
    h = harness.token("nhi", "nhi_administration")
    assert services["nhi"].post("/api/v1/income-records", json=answer, headers=h).status_code == 201
    r = services["nhi"].post(f"/api/v1/premiums/{household}/2025", headers=h)
    assert r.status_code == 201 and r.json()["total"] == _expected_premium(harness, household, 2025)
    cert_atena = harness.query("nhi", "SELECT atena_number FROM enrolments WHERE insured"
                                      " ORDER BY 1 LIMIT 1")[0][0]
    cert = services["nhi"].get(f"/api/v1/insured/{cert_atena}/certificate",
                               headers=harness.token("nhi", "certificate_issuance"))
    assert cert.status_code == 200 and cert.json()["valid"] is True
    html = services["nhi"].get(f"/api/v1/insured/{cert_atena}/certificate.html",
                               headers=harness.token("nhi", "certificate_issuance")).text
    assert "国民健康保険 資格確認書" in html and "資格取得年月日" in html


def test_move_out_certificate_reaches_the_destination_registry(harness, services, platform,
                                                               move_in_body, tmp_path):
    """転出 at A (053031) with next_lgcode B (053279) → 転出証明書情報 to B's residents_registry,
    the one cross-municipality route. B's registry is run here on the same test database."""
    c = services["residents_registry"]
    h = harness.token("residents_registry", "resident_record")
    moved = c.post("/api/v1/movements", json=move_in_body(), headers=h).json()["movements"]
    r = c.post("/api/v1/movements", headers=h, json={
        "kind": "move_out", "event_date": "2025-10-01", "notification_date": "2025-09-25",
        "atena_numbers": [m["atena_number"] for m in moved],
        "next_address": "秋田県北秋田郡上小阿仁村小沢田1番地", "next_lgcode": "053279"})
    assert r.status_code == 201
    row = harness.query("residents_registry", "SELECT payload FROM outbox"
                                              " WHERE message_type = 'MoveOutCertificate'")[0]
    from municloud.platform import MoveOutCertificate

    certificate = MoveOutCertificate.model_validate(json.loads(row["payload"]))
    assert [p.family_name + p.given_name for p in certificate.members] == ["佐藤太郎", "佐藤花子"]
    message = build_message(certificate, sender_unit="residents_registry", sender_lgcode=LG,
                            receiver_unit="residents_registry", receiver_lgcode="053279")
    signed = sign_message(message, SigningKey.load(platform["keys"]["residents_registry"]))
    b_key = SigningKey.generate("053279-residents_registry-1")
    key_file = tmp_path / "b.key"
    key_file.write_bytes(b_key.private_pem())
    with harness.client("residents_registry", lgcode="053279", platform_keys_file=platform["registry"],
                        platform_signing_key_file=key_file, outbox_relay=False) as b:
        r = b.post("/api/v1/platform/inbox", content=signed, headers={"Content-Type": "application/xml"})
        assert r.status_code == 200, r.text
        # A's service refuses a message addressed to B (twin of the accepted delivery above)
        wrong = c.post("/api/v1/platform/inbox", content=signed,
                       headers={"Content-Type": "application/xml"})
        assert wrong.status_code == 400
        stored = harness.query("residents_registry", "SELECT sender_lgcode, certificate_number"
                                                     " FROM incoming_move_out_certificates")
        assert [(s["sender_lgcode"], s["certificate_number"]) for s in stored] == [
            ("053031", certificate.certificate_number)]
        # 転入 at B on that certificate (B's own numbers; the test database is shared)
        hb = harness.token("residents_registry", "resident_record", lgcode="053279")
        listed = b.get("/api/v1/move-out-certificates/incoming", headers=hb).json()
        assert [(i["sender_lgcode"], i["used"], len(i["certificate"]["members"])) for i in listed] == [
            ("053031", False, 2)]
        body = move_in_body(address="秋田県北秋田郡上小阿仁村小沢田1番地", previous_lgcode="053031",
                            move_out_certificate_number=certificate.certificate_number)
        for member in body["members"]:
            member["resident_record_code"] = member["resident_record_code"][:-1] + "9"
            member.pop("individual_number", None)
        refused = b.post("/api/v1/movements", json=body, headers=hb)
        assert refused.status_code == 422
        assert refused.json()["error"]["field"] == "members.0.resident_record_code"
        body = move_in_body(address="秋田県北秋田郡上小阿仁村小沢田1番地", previous_lgcode="053031",
                            move_out_certificate_number=certificate.certificate_number)
        for member in body["members"]:
            member.pop("individual_number", None)
        # the test database already holds A's rows with these 住民票コード: free them first
        harness.pg.exec_sql("SET session_replication_role = replica; DELETE FROM movements;"
                            " DELETE FROM residents; DELETE FROM households;",
                            database="residents_registry")
        admitted = b.post("/api/v1/movements", json=body, headers=hb)
        assert admitted.status_code == 201, admitted.text
        assert all(m["atena_number"].startswith("053279") for m in admitted.json()["movements"])
        assert b.get("/api/v1/move-out-certificates/incoming", headers=hb).json() == []
        one = b.get(f"/api/v1/move-out-certificates/{certificate.certificate_number}", headers=hb)
        assert one.status_code == 200 and one.json()["used"] is True
        assert b.get("/api/v1/move-out-certificates/053031-99999999", headers=hb).status_code == 404
        again = b.post("/api/v1/movements", json=body, headers=hb)
        assert again.status_code == 409
        assert again.json()["error"] == {"code": "certificate_used", "field": "move_out_certificate_number",
                                         "message": "this 転出証明書情報 has already been used"}


class RefusingHub:
    """A hub that answers every publish with the given exception."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def publish(self, message, key):
        raise self.exc


def test_hub_fault_sets_rows_aside_while_outage_defers_them(harness, services, platform,
                                                            move_in_body):
    from municloud.platform import Fault, FaultError

    services["residents_registry"].post("/api/v1/movements", json=move_in_body(),
                                        headers=harness.token("residents_registry", "resident_record"))
    # an outage (connection refused) is retried later: deferred, not dead
    assert relay(harness, "residents_registry", RefusingHub(OSError("refused")), platform) == (0, 2)
    rows = harness.query("residents_registry", "SELECT dead_at, next_attempt_at > now() AS later,"
                                               " attempts FROM outbox")
    assert all(r["dead_at"] is None and r["later"] and r["attempts"] == 1 for r in rows)
    harness.query("residents_registry", "UPDATE outbox SET next_attempt_at = now()")
    # a Fault with 4xx will never succeed: set aside for an operator
    fault = FaultError(Fault(code="route-not-allowed", reason="no such route"), 403)
    assert relay(harness, "residents_registry", RefusingHub(fault), platform) == (0, 2)
    rows = harness.query("residents_registry", "SELECT dead_at, last_error FROM outbox")
    assert all(r["dead_at"] is not None and "route-not-allowed" in r["last_error"] for r in rows)
    # nothing is retried any more
    hub = HubStandIn(services)
    assert relay(harness, "residents_registry", hub, platform) == (0, 0) and hub.delivered == []


def test_a_refusal_the_hubs_next_reload_lifts_is_retried_for_a_while_then_set_aside(harness, services, platform,
                                                                                   move_in_body):
    """A member that has just joined: the hub has not loaded its municipality, route or key yet
    (docs/operator-guide.md "Members joining and leaving") and refuses its first messages. Those
    rows are retried with backoff for CONFIG_LAG_S, then set aside like any final refusal; a
    signature that does not match (the twin) is final at once."""
    from municloud.platform import Fault, FaultError
    from municloud.service.outbox import CONFIG_LAG_S

    services["residents_registry"].post("/api/v1/movements", json=move_in_body(),
                                        headers=harness.token("residents_registry", "resident_record"))
    not_yet = [FaultError(Fault(code="wrong-municipality", reason="municipality 052019 is not in this consortium",
                                path="/Envelope/Header/SenderLgcode"), 403),
               FaultError(Fault(code="signature-invalid", reason="unknown signing key '052019-residents_registry-1'",
                                path="/Envelope/Signature/@keyId"), 403)]
    for fault in not_yet:
        assert relay(harness, "residents_registry", RefusingHub(fault), platform) == (0, 2)
        rows = harness.query("residents_registry", "SELECT dead_at, next_attempt_at > now() AS later, last_error"
                                                   " FROM outbox")
        assert all(r["dead_at"] is None and r["later"] for r in rows), rows
        assert all(fault.fault.code in r["last_error"] and "catches up" in r["last_error"] for r in rows), rows
        harness.query("residents_registry", "UPDATE outbox SET next_attempt_at = now()")
    # older than the window: the same "not yet" refusal sets the rows aside
    harness.query("residents_registry", f"UPDATE outbox SET next_attempt_at = now(),"
                                        f" created_at = now() - interval '{CONFIG_LAG_S + 60} seconds'")
    assert relay(harness, "residents_registry", RefusingHub(not_yet[0]), platform) == (0, 2)
    rows = harness.query("residents_registry", "SELECT dead_at, last_error FROM outbox")
    assert all(r["dead_at"] is not None and "catches up" not in r["last_error"] for r in rows), rows
    # the twin: a signature that does not match is final at once, however young the rows
    harness.query("residents_registry", "UPDATE outbox SET dead_at = NULL, created_at = now(), next_attempt_at = now()")
    mismatch = FaultError(Fault(code="signature-invalid", reason="signature does not match the message",
                                path="/Envelope/Signature"), 403)
    assert relay(harness, "residents_registry", RefusingHub(mismatch), platform) == (0, 2)
    rows = harness.query("residents_registry", "SELECT dead_at, last_error FROM outbox")
    assert all(r["dead_at"] is not None and "does not match" in r["last_error"] for r in rows), rows
