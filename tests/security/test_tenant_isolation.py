"""Cross-tenant attacks on two isolated municipalities (A = 053031, B = 053279), each with its own
residents_registry, PostgreSQL container, Docker network, passwords and token key:
A's staff token on every endpoint of B, A's database credentials at B's server and on other
services' databases, A's container opening B's database over the network.

Every refused request leaves B's tables (residents, households, movements, audit.access_log)
exactly as they were; every attack has its allowed twin at home."""

from __future__ import annotations

import psycopg
import pytest

from tenant_target import move_in_body

pytestmark = [pytest.mark.security, pytest.mark.integration]


def _endpoints(victim):
    """(method, path, json) of every residents_registry endpoint, aimed at the victim's data."""
    atena, household = victim.atena_number, victim.household_number
    return {
        "get-resident": ("GET", f"/api/v1/residents/{atena}", None),
        "search": ("GET", "/api/v1/residents?family_name_kana=アキタ", None),
        "history": ("GET", f"/api/v1/residents/{atena}/movements", None),
        "certificate": ("GET", f"/api/v1/residents/{atena}/certificate", None),
        "certificate-html": ("GET", f"/api/v1/residents/{atena}/certificate.html", None),
        "household": ("GET", f"/api/v1/households/{household}", None),
        "move-in": ("POST", "/api/v1/movements", move_in_body(victim.lgcode, 90)),
        "move-out": ("POST", "/api/v1/movements", {
            "kind": "move_out", "event_date": "2026-05-01", "notification_date": "2026-04-20",
            "atena_numbers": [atena], "next_address": "東京都千代田区1番地"}),
        "outbox": ("GET", "/api/v1/outbox", None),
        "seed": ("POST", "/api/v1/admin/seed", {}),
    }


ENDPOINTS = ["get-resident", "search", "history", "certificate", "certificate-html", "household",
             "move-in", "move-out", "outbox", "seed"]


def _pair(tenants, direction):
    a, b, client = tenants
    return (a, b, client) if direction == "A->B" else (b, a, client)


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("direction", ["A->B", "B->A"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_token_of_one_municipality_is_refused_by_the_other(tenants, direction, endpoint):
    attacker, victim, client = _pair(tenants, direction)
    method, path, body = _endpoints(victim)[endpoint]
    before = victim.counts()
    response = client.request(method, f"{victim.url}{path}", json=body, headers=attacker.headers())
    assert response.status_code == 401, response.text[:300]
    assert response.json()["error"]["field"] == "authorization"
    assert victim.counts() == before, "a refused request changed the victim's tables"


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("direction", ["A->B", "B->A"])
def test_a_resident_of_one_municipality_is_not_found_in_the_other(tenants, direction):
    """Even B's own staff cannot reach A's resident through B: B's data is B's only."""
    attacker, victim, client = _pair(tenants, direction)
    response = client.get(f"{attacker.url}/api/v1/residents/{victim.atena_number}", headers=attacker.headers())
    assert response.status_code in (404, 422), response.text[:300]


@pytest.mark.twin("cross-tenant")
@pytest.mark.parametrize("endpoint", ["get-resident", "search", "history", "certificate",
                                      "certificate-html", "household", "outbox"])
def test_twin_own_token_reads_own_data(tenants, endpoint):
    a, _, client = tenants
    method, path, body = _endpoints(a)[endpoint]
    response = client.request(method, f"{a.url}{path}", json=body, headers=a.headers())
    assert response.status_code == 200, response.text[:300]


# --- databases: A's roles and passwords at B, and across services -------------------------------

def _connect(pg, role: str, password: str, database: str):
    return psycopg.connect(host=pg.host, port=pg.port, user=role, dbname=database, password=password,
                           sslmode="verify-full", sslrootcert=str(pg.ca_file), connect_timeout=5)


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("role", ["residents_registry", "tax", "nhi", "postgres"])
def test_a_database_credentials_do_not_open_b_database(tenants, role):
    a, b, _ = tenants
    with pytest.raises(psycopg.OperationalError):
        _connect(b.pg, role, a.pg.passwords[role], role if role != "postgres" else "postgres").close()


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("role,database", [(r, d) for r in ("residents_registry", "tax", "nhi")
                                           for d in ("residents_registry", "tax", "nhi", "postgres")
                                           if r != d])
def test_a_service_role_cannot_open_another_service_database(tenants, role, database):
    a, _, _ = tenants
    with pytest.raises(psycopg.OperationalError):
        _connect(a.pg, role, a.pg.passwords[role], database).close()


@pytest.mark.attack("cross-tenant")
def test_superuser_cannot_log_in_over_the_network(tenants):
    """Even with the right password, `postgres` is local-socket only."""
    a, _, _ = tenants
    with pytest.raises(psycopg.OperationalError):
        _connect(a.pg, "postgres", a.pg.passwords["postgres"], "postgres").close()


@pytest.mark.twin("cross-tenant")
@pytest.mark.parametrize("role", ["residents_registry", "tax", "nhi"])
def test_twin_each_role_opens_its_own_database(tenants, role):
    a, _, _ = tenants
    with _connect(a.pg, role, a.pg.passwords[role], role) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == role


# --- network: A's container opening B's database ------------------------------------------------

def _tcp_from(container, ip: str, port: int = 5432) -> int:
    rc, _ = container.exec_run(["timeout", "3", "bash", "-c", f"exec 3<>/dev/tcp/{ip}/{port}"])
    return rc


@pytest.mark.attack("cross-tenant")
@pytest.mark.parametrize("direction", ["A->B", "B->A"])
def test_container_of_one_municipality_cannot_reach_the_other_database(tenants, direction):
    attacker, victim, _ = _pair(tenants, direction)
    assert _tcp_from(attacker.pg.container, victim.container_ip) != 0


@pytest.mark.twin("cross-tenant")
def test_twin_container_reaches_its_own_network(tenants):
    a, _, _ = tenants
    assert _tcp_from(a.pg.container, a.container_ip) == 0
