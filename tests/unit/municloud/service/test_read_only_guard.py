"""The service kit's read-only standby mode (municloud/service/read_only.py) without a database:
the guard refuses every unsafe method while ``app.state.read_only`` is set, the standby access log
refuses personal reads; the twins: the same requests pass on a read-write app."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from municloud.service.errors import install_error_handlers
from municloud.service.read_only import ReadOnlyGuard, StandbyAccessLog

pytestmark = pytest.mark.unit


def make_app(read_only: bool, audit=None) -> FastAPI:
    app = FastAPI()
    app.state.read_only = read_only
    app.state.audit = audit
    install_error_handlers(app)
    app.add_middleware(ReadOnlyGuard)

    async def audit_dep(request: Request):
        return request.app.state.audit

    @app.get("/things")
    async def read() -> dict:
        return {"things": []}

    @app.post("/things", status_code=201)
    async def write() -> dict:
        return {"created": True}

    @app.get("/residents/{atena}")
    async def personal(atena: str, audit=Depends(audit_dep)) -> dict:
        if audit is not None:
            await audit.record_many([object()])
        return {"atena": atena}

    return app


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_read_only_app_refuses_writes_with_503_read_only(method):
    with TestClient(make_app(read_only=True)) as client:
        r = client.request(method, "/things", json={})
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "read_only"
    assert r.json()["error"]["message"].startswith("read-only standby site")
    assert r.headers["retry-after"] == "30"


def test_read_write_app_accepts_the_same_write():
    with TestClient(make_app(read_only=False)) as client:
        assert client.post("/things", json={}).status_code == 201


def test_read_only_app_serves_reads_without_personal_data():
    with TestClient(make_app(read_only=True)) as client:
        assert client.get("/things").status_code == 200
        assert client.head("/things").status_code in (200, 405)


def test_standby_access_log_refuses_a_personal_read_without_echoing_it():
    with TestClient(make_app(read_only=True, audit=StandbyAccessLog())) as client:
        r = client.get("/residents/123456789012")
    assert r.status_code == 503 and r.json()["error"]["code"] == "read_only"
    assert "access log" in r.json()["error"]["message"] and "123456789012" not in r.text
    with TestClient(make_app(read_only=False)) as client:  # the twin: no standby log, the read passes
        assert client.get("/residents/123456789012").status_code == 200
