"""Fixtures for the services' integration tests: one PostgreSQL container (the project's own
image, no pull) per session, a clean schema per test, and apps wired to it in-process."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import asyncpg
import pytest
from fastapi.testclient import TestClient

from municloud.auth import generate_key_pair, issue_token
from municloud.service.settings import ServiceSettings

SERVICES = ("residents_registry", "tax", "nhi")
A, B = "053031", "053279"


@pytest.fixture(scope="session")
def pg():
    from municloud_ops.scratch.postgres import postgres_container

    # the platform hub's database too, for the hub's contract run (test_openapi_contract.py)
    with postgres_container((*SERVICES, "platform_hub")) as handle:
        yield handle


@pytest.fixture(scope="session")
def token_keys():
    """Each municipality's own token-signing key pair."""
    return {A: generate_key_pair(), B: generate_key_pair()}


@pytest.fixture
def clean_db(pg):
    """Every test starts from empty service databases: schema dropped and the access log emptied
    by the superuser (its append-only triggers off for this session only)."""
    for service in SERVICES:
        pg.exec_sql(f"DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION {service};"
                    " SET session_replication_role = replica; TRUNCATE audit.access_log;"
                    " UPDATE audit.access_log_head SET seq = 0, hash = decode(repeat('00', 32), 'hex');",
                    database=service)
    return pg


class ServiceHarness:
    """Builds settings / clients / tokens for one service of one municipality."""

    def __init__(self, pg, keys, tmp_path: Path) -> None:
        self.pg, self.keys, self.tmp_path = pg, keys, tmp_path

    def settings(self, service: str, lgcode: str = A, **extra) -> ServiceSettings:
        secret = self.tmp_path / f"{service}.password"
        secret.write_text(self.pg.passwords[service])
        return ServiceSettings(
            environment="test", service_name=service, lgcode=lgcode,
            database_host=self.pg.host, database_port=self.pg.port,
            database_sslmode="verify-full", database_sslrootcert=self.pg.ca_file,
            db_password_file=secret, token_public_key=self.keys[lgcode][1], **extra)

    def token(self, service: str, purpose: str, lgcode: str = A, staff: str = "staff01",
              signing_lgcode: str | None = None) -> dict[str, str]:
        private = self.keys[signing_lgcode or lgcode][0]
        return {"Authorization": "Bearer " + issue_token(private, lgcode, staff, purpose, service, 300)}

    @contextlib.contextmanager
    def client(self, service: str, lgcode: str = A, **extra):
        module = __import__(f"services.{service}.main", fromlist=["create_app"])
        with TestClient(module.create_app(self.settings(service, lgcode, **extra))) as client:
            yield client

    def query(self, service: str, sql: str, *args):
        """Run one query as the service's own role (TLS, like the service)."""
        async def run():
            target = self.settings(service).database()
            conn = await asyncpg.connect(**target.connect_kwargs())
            try:
                return await conn.fetch(sql, *args)
            finally:
                await conn.close()

        return asyncio.run(run())

    def count(self, service: str, table: str) -> int:
        return self.query(service, f"SELECT count(*) AS n FROM {table}")[0]["n"]


@pytest.fixture
def harness(clean_db, token_keys, tmp_path):
    return ServiceHarness(clean_db, token_keys, tmp_path)


@pytest.fixture
def move_in_body():
    """A valid 転入 of a two-person household (override any top-level key)."""
    return _move_in_body


def _move_in_body(**override) -> dict:
    body = {
        "kind": "move_in", "event_date": "令和7年4月1日", "notification_date": "2025-04-03",
        "address": "秋田県鹿角郡小坂町小坂字中前田1番地", "previous_address": "東京都千代田区千代田1番1号",
        "new_household": {},
        "members": [
            {"resident_record_code": "12345678901", "individual_number": "123456789018",
             "family_name": "佐藤", "given_name": "太郎", "family_name_kana": "サトウ",
             "given_name_kana": "タロウ", "birth_date": "S50.05.05", "sex": "1",
             "relationship_to_head": "世帯主"},
            {"resident_record_code": "12345678902", "family_name": "佐藤", "given_name": "花子",
             "family_name_kana": "サトウ", "given_name_kana": "ハナコ", "birth_date": "1978-02-01",
             "sex": "2", "relationship_to_head": "妻"},
        ],
    }
    body.update(override)
    return body
