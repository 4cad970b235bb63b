"""residents_registry against a real PostgreSQL: 異動 with history and outbox, refusals that
store nothing, tenant isolation of tokens, 住民票の写し."""

import pytest

pytestmark = pytest.mark.integration

SERVICE = "residents_registry"
TABLES = ("residents", "households", "movements", "outbox")


def counts(harness):
    return {t: harness.count(SERVICE, t) for t in TABLES}


def test_move_in_writes_state_history_and_outbox_in_one_go(harness, move_in_body):
    with harness.client(SERVICE) as c:
        r = c.post("/api/v1/movements", json=move_in_body(),
                   headers=harness.token(SERVICE, "resident_record"))
    assert r.status_code == 201, r.text
    result = r.json()
    assert [m["kind_label"] for m in result["movements"]] == ["転入", "転入"]
    assert result["movements"][0]["event_date"] == "2025-04-01"
    assert result["movements"][0]["event_date_wareki"] == "令和7年4月1日"
    assert counts(harness) == {"residents": 2, "households": 1, "movements": 2, "outbox": 2}
    outbox = harness.query(SERVICE, "SELECT message_type, receiver_unit, receiver_lgcode, payload"
                                    " FROM outbox ORDER BY id")
    assert {(o["message_type"], o["receiver_unit"], o["receiver_lgcode"]) for o in outbox} == {
        ("ResidentMoveNotice", "platform_hub", "053031")}
    import json

    move = json.loads(outbox[0]["payload"])["moves"][0]
    assert move["kind"] == "move_in" and move["previous_address"] == "東京都千代田区千代田1番1号"
    history = harness.query(SERVICE, "SELECT kind, before, after FROM movements ORDER BY movement_id")
    assert history[0]["before"] is None and json.loads(history[0]["after"])["family_name"] == "佐藤"


@pytest.mark.parametrize("patch,field", [
    ({"members": [{"resident_record_code": "12345678901", "individual_number": "123456789019",
                   "family_name": "佐藤", "given_name": "太郎", "family_name_kana": "サトウ",
                   "given_name_kana": "タロウ", "birth_date": "1975-05-05", "sex": "1",
                   "relationship_to_head": "世帯主"}]}, "members.0.individual_number"),
    ({"event_date": "平成31年5月1日"}, "event_date"),
    ({"previous_lgcode": "053032"}, "previous_lgcode"),
    ({"new_household": None}, "household_number"),
    ({"members": [{"resident_record_code": "12345678901", "family_name": "佐藤", "given_name": "太郎",
                   "family_name_kana": "さとう", "given_name_kana": "タロウ",
                   "birth_date": "1975-05-05", "sex": "1", "relationship_to_head": "世帯主"}]},
     "members.0.family_name_kana"),
    ({"members": [{"atena_number": "053279000000077", "resident_record_code": "12345678901",
                   "family_name": "佐藤", "given_name": "太郎", "family_name_kana": "サトウ",
                   "given_name_kana": "タロウ", "birth_date": "1975-05-05", "sex": "1",
                   "relationship_to_head": "世帯主"}]}, "members.0.atena_number"),
    ({"new_household": {"household_number": "053279000000077"}}, "new_household.household_number"),
] + [
    ({"members": [{"resident_record_code": "12345678901", "family_name": text, "given_name": "太郎",
                   "family_name_kana": "サトウ", "given_name_kana": "タロウ",
                   "birth_date": "1975-05-05", "sex": "1", "relationship_to_head": "世帯主"}]},
     "members.0.family_name")
    for text in ("秋\x1b[31m田", "秋\x00田", "秋\n田", "秋\u202e田", "秋\x07田", "\u200d")
] + [({"address": "秋田県\u2028小坂町"}, "address")])
def test_bad_move_in_names_field_and_stores_nothing(harness, move_in_body, patch, field):
    with harness.client(SERVICE) as c:
        before = counts(harness)
        r = c.post("/api/v1/movements", json=move_in_body(**patch),
                   headers=harness.token(SERVICE, "resident_record"))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == field
        assert "123456789019" not in r.text
        assert counts(harness) == before
        # twin: the valid body is accepted
        assert c.post("/api/v1/movements", json=move_in_body(),
                      headers=harness.token(SERVICE, "resident_record")).status_code == 201


def test_duplicate_person_rolls_back_the_whole_move_in(harness, move_in_body):
    with harness.client(SERVICE) as c:
        h = harness.token(SERVICE, "resident_record")
        assert c.post("/api/v1/movements", json=move_in_body(), headers=h).status_code == 201
        before = counts(harness)
        body = move_in_body()
        body["members"][0]["resident_record_code"] = "99999999999"
        body["members"][0]["individual_number"] = None
        # member 1 repeats an existing 住民票コード: nothing of member 0 may stay either
        r = c.post("/api/v1/movements", json=body, headers=h)
    assert r.status_code == 409 and r.json()["error"]["field"] == "members.1.resident_record_code"
    assert counts(harness) == before


def test_token_of_another_municipality_is_refused(harness):
    with harness.client(SERVICE, lgcode="053031") as c:
        forged = harness.token(SERVICE, "resident_record", lgcode="053031", signing_lgcode="053279")
        r = c.get("/api/v1/residents", params={"family_name_kana": "サ"}, headers=forged)
        assert r.status_code == 401 and r.json()["error"]["code"] == "bad_signature"
        b_token = harness.token(SERVICE, "resident_record", lgcode="053279")
        assert c.get("/api/v1/residents", params={"family_name_kana": "サ"},
                     headers=b_token).status_code == 401
        wrong_service = harness.token("tax", "resident_record")
        r = c.get("/api/v1/residents", params={"family_name_kana": "サ"}, headers=wrong_service)
        assert r.status_code == 401 and r.json()["error"]["code"] == "wrong_audience"
        assert c.get("/api/v1/residents", params={"family_name_kana": "サ"}).status_code == 401
        # twin: A's own token is accepted by A's service
        ok = c.get("/api/v1/residents", params={"family_name_kana": "サ"},
                   headers=harness.token(SERVICE, "resident_record"))
        assert ok.status_code == 200 and ok.json() == []


def test_every_kind_of_movement_keeps_history(harness, move_in_body):
    with harness.client(SERVICE) as c:
        h = harness.token(SERVICE, "resident_record")
        moved = c.post("/api/v1/movements", json=move_in_body(), headers=h).json()["movements"]
        head, wife = moved[0]["atena_number"], moved[1]["atena_number"]
        household = c.get(f"/api/v1/residents/{head}", headers=h).json()["household_number"]
        steps = [
            {"kind": "birth", "event_date": "2025-06-10", "notification_date": "2025-06-12",
             "household_number": household, "resident_record_code": "12345678903",
             "family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ",
             "given_name_kana": "イチロウ", "sex": "1", "relationship_to_head": "子"},
            {"kind": "move_within", "event_date": "2025-07-01", "notification_date": "2025-07-01",
             "household_number": household, "address": "秋田県鹿角郡小坂町小坂字砂森2番地"},
            {"kind": "household_change", "event_date": "2025-08-01",
             "notification_date": "2025-08-01", "atena_number": wife, "new_household": {},
             "relationship_to_head": "世帯主"},
            {"kind": "death", "event_date": "2025-09-01", "notification_date": "2025-09-02",
             "atena_number": head},
        ]
        for step in steps:
            r = c.post("/api/v1/movements", json=step, headers=h)
            assert r.status_code == 201, (step["kind"], r.text)
        r = c.post("/api/v1/movements", headers=h, json={
            "kind": "move_out", "event_date": "2025-10-01", "notification_date": "2025-09-25",
            "atena_numbers": [wife], "next_address": "秋田県北秋田郡上小阿仁村小沢田1番地",
            "next_lgcode": "053279"})
        assert r.status_code == 201, r.text
        history = c.get(f"/api/v1/residents/{wife}/movements", headers=h).json()
        assert [m["kind_label"] for m in history] == ["転入", "転居", "世帯変更", "転出"]
        dead = c.get(f"/api/v1/residents/{head}", headers=h).json()
        assert dead["status"] == "deceased" and dead["status_date"] == "2025-09-01"
        # a dead person cannot move
        r = c.post("/api/v1/movements", headers=h, json={
            "kind": "move_out", "event_date": "2025-10-01", "notification_date": "2025-10-01",
            "atena_numbers": [head], "next_address": "x"})
        assert r.status_code == 409 and r.json()["error"]["field"] == "atena_numbers.0"
    types = harness.query(SERVICE, "SELECT message_type, receiver_unit, receiver_lgcode,"
                                   " count(*) AS n FROM outbox GROUP BY 1, 2, 3 ORDER BY 1")
    assert [(t["message_type"], t["receiver_unit"], t["receiver_lgcode"], t["n"]) for t in types] == [
        ("MoveOutCertificate", "residents_registry", "053279", 1),
        ("ResidentMoveNotice", "platform_hub", "053031", 2 + 1 + 3 + 1 + 1 + 1)]


def test_history_rows_cannot_be_changed_by_the_service_role(harness, move_in_body):
    import asyncpg

    with harness.client(SERVICE) as c:
        c.post("/api/v1/movements", json=move_in_body(),
               headers=harness.token(SERVICE, "resident_record"))
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        harness.query(SERVICE, "UPDATE movements SET kind = 'death'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        harness.query(SERVICE, "DELETE FROM movements")
    assert harness.count(SERVICE, "movements") == 2  # twin: rows are there and readable
