"""Two municipalities as attack targets, isolated as deployed: each its own PostgreSQL container
on its own Docker network (one database + role per service, its own passwords and TLS), its
own token key pair, and its own residents_registry (the real app, served by uvicorn on
127.0.0.1). A = 053031 小坂町, B = 053279 上小阿仁村."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from municloud.auth import generate_key_pair, issue_token
from municloud.testing.serve import serve_app

A, B = "053031", "053279"


@dataclass
class Tenant:
    lgcode: str
    url: str
    pg: object  # municloud.testing.postgres.PostgresHandle
    private_pem: str
    public_pem: str

    def token(self, purpose: str = "resident_record", staff: str = "staff-001",
              audience: str = "residents_registry") -> str:
        return issue_token(self.private_pem, self.lgcode, staff, purpose, audience)

    def headers(self, **kw) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(**kw)}"}

    def sql(self, query: str, database: str = "residents_registry") -> str:
        return self.pg.exec_sql(query, database=database)

    def counts(self) -> tuple[int, ...]:
        """Rows of every table a refused request must leave alone."""
        out = self.sql("SELECT (SELECT count(*) FROM residents) || ',' || (SELECT count(*) FROM households)"
                       " || ',' || (SELECT count(*) FROM movements) || ',' || (SELECT count(*) FROM audit.access_log)")
        return tuple(int(n) for n in out.split(","))

    @property
    def container_ip(self) -> str:
        self.pg.container.reload()
        return next(iter(self.pg.container.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]


@contextlib.contextmanager
def _tenant(lgcode: str, root: Path) -> Iterator[Tenant]:
    from municloud.service import ServiceSettings
    from municloud.testing.postgres import postgres_container
    from services.residents_registry.main import create_app

    with postgres_container(name=f"mc-sec-{lgcode}-postgres-{root.name[-6:].lower()}",
                            labels={"municloud.lgcode": lgcode}) as pg:
        private_pem, public_pem = generate_key_pair()
        password_file = root / f"{lgcode}.db_password"
        password_file.write_text(pg.passwords["residents_registry"], encoding="utf-8")
        password_file.chmod(0o400)
        settings = ServiceSettings(
            environment="test", service_name="residents_registry", lgcode=lgcode,
            database_host=pg.host, database_port=pg.port, db_password_file=password_file,
            database_sslrootcert=pg.ca_file, token_public_key=public_pem, db_pool_min=1,
            db_pool_max=4)
        with contextlib.ExitStack() as stack:
            # One retry: on a loaded 2-core machine the first start has failed once (lifespan
            # error while other engineers' stacks were starting); a second failure is real.
            try:
                url = stack.enter_context(serve_app(create_app(settings)))
            except RuntimeError:
                url = stack.enter_context(serve_app(create_app(settings)))
            yield Tenant(lgcode, url, pg, private_pem, public_pem)


@contextlib.contextmanager
def two_tenants() -> Iterator[tuple[Tenant, Tenant, httpx.Client]]:
    with tempfile.TemporaryDirectory(prefix="mc-sec-tenants-") as tmp, \
            _tenant(A, Path(tmp)) as a, _tenant(B, Path(tmp)) as b, \
            httpx.Client(timeout=10.0) as client:
        yield a, b, client


def move_in_body(lgcode: str, serial: int, *, family_name: str = "秋田", with_my_number: bool = True) -> dict:
    """A valid 転入 of one person founding a new household (request JSON)."""
    from municloud import ids

    person = {
        "resident_record_code": ids.resident_record_code_for_serial(lgcode, serial),
        "family_name": family_name, "given_name": "花子",
        "family_name_kana": "アキタ", "given_name_kana": "ハナコ",
        "birth_date": "1980-04-01", "sex": "2", "relationship_to_head": "世帯主",
    }
    if with_my_number:
        person["individual_number"] = ids.my_number_for_serial(lgcode, serial)
    return {"kind": "move_in", "event_date": "2026-04-01", "notification_date": "2026-04-02",
            "address": "秋田県北秋田郡上小阿仁村小沢田1番地", "previous_address": "東京都千代田区1番地",
            "new_household": {}, "members": [person]}
