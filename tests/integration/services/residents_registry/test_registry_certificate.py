"""住民票の写し (JSON + printable HTML), search, and the 個人番号 disclosure rule."""

import pytest

pytestmark = pytest.mark.integration

SERVICE = "residents_registry"


@pytest.fixture
def registered(harness, move_in_body):
    with harness.client(SERVICE) as c:
        r = c.post("/api/v1/movements", json=move_in_body(),
                   headers=harness.token(SERVICE, "resident_record"))
        assert r.status_code == 201
        yield c, r.json()["movements"][0]["atena_number"]


def test_certificate_json_has_the_legal_items_in_both_calendars(harness, registered):
    c, head = registered
    r = c.get(f"/api/v1/residents/{head}/certificate", params={"household": True},
              headers=harness.token(SERVICE, "certificate_issuance"))
    assert r.status_code == 200, r.text
    cert = r.json()
    from services.residents_registry.models import ResidentCertificate

    ResidentCertificate.model_validate(cert)  # the documented response model, exactly
    assert cert["title"] == "住民票の写し（世帯全員）" and cert["municipality"] == "小坂町"
    assert cert["head_of_household"] == "佐藤　太郎"
    first = cert["entries"][0]
    assert first["birth_date"] == {"iso": "1975-05-05", "wareki": "昭和50年5月5日"}
    assert first["resident_since"]["wareki"] == "令和7年4月1日"
    assert first["previous_address"] == "東京都千代田区千代田1番1号"
    assert [e["relationship_to_head"] for e in cert["entries"]] == ["世帯主", "妻"]
    # omitted unless asked for
    assert first["individual_number"] is None and first["resident_record_code"] is None


def test_my_number_only_for_an_allowed_purpose(harness, registered):
    c, head = registered
    refused = c.get(f"/api/v1/residents/{head}/certificate", params={"include_my_number": True},
                    headers=harness.token(SERVICE, "certificate_issuance"))
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "include_my_number"
    allowed = c.get(f"/api/v1/residents/{head}/certificate", params={"include_my_number": True},
                    headers=harness.token(SERVICE, "resident_record"))
    assert allowed.status_code == 200
    assert allowed.json()["entries"][0]["individual_number"] == "123456789018"
    # the plain record masks it for purposes without a My Number use
    masked = c.get(f"/api/v1/residents/{head}", headers=harness.token(SERVICE, "certificate_issuance"))
    assert masked.json()["individual_number"] == "************"


def test_certificate_html_is_printable_japanese(harness, registered):
    c, head = registered
    r = c.get(f"/api/v1/residents/{head}/certificate.html",
              params={"include_resident_record_code": True},
              headers=harness.token(SERVICE, "certificate_issuance"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    for text in ("住民票の写し", "佐藤　太郎", "昭和50年5月5日", "住民となった年月日", "令和7年4月1日",
                 "12345678901", "小坂町長", "（省略）"):
        assert text in html, text
    assert "123456789018" not in html


def test_search_by_kana_name_and_birth_date(harness, registered):
    c, _ = registered
    h = harness.token(SERVICE, "resident_record")
    by_kana = c.get("/api/v1/residents", params={"family_name_kana": "サト"}, headers=h).json()
    assert [p["given_name"] for p in by_kana] == ["太郎", "花子"]
    by_date = c.get("/api/v1/residents", params={"birth_date": "昭和53年2月1日"}, headers=h).json()
    assert [p["given_name"] for p in by_date] == ["花子"]
    by_name = c.get("/api/v1/residents", params={"family_name": "佐", "given_name": "花"},
                    headers=h).json()
    assert [p["given_name"] for p in by_name] == ["花子"]
    assert c.get("/api/v1/residents", params={"family_name_kana": "スズキ"}, headers=h).json() == []
    r = c.get("/api/v1/residents", headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "family_name_kana"
    r = c.get("/api/v1/residents", params={"birth_date": "2025-13-01"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "birth_date"


def test_seed_loads_a_municipality_once(harness):
    with harness.client(SERVICE) as c:
        ops = harness.token(SERVICE, "system_operation")
        r = c.post("/api/v1/admin/seed", json={"population": 300, "seed": 3}, headers=ops)
        assert r.status_code == 201 and r.json()["persons"] == 300
        again = c.post("/api/v1/admin/seed", json={"population": 300, "seed": 3}, headers=ops)
        assert again.status_code == 409 and harness.count(SERVICE, "residents") == 300
        refused = c.post("/api/v1/admin/seed", json={"population": 300, "seed": 3},
                         headers=harness.token(SERVICE, "resident_record"))
        assert refused.status_code == 403
