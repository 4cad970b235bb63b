"""The hub on the service kit: its settings are the kit's (a default database password refused
outside development), its app is the kit's skeleton (health, JSON error bodies, /api/v1 routes,
the hot-file reload check), and a subscriber's inbox is named by the project's one Docker naming
convention (municloud/naming.py), each with its twin."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from municloud.naming import docker_name
from municloud.platform.signing import SigningKey
from municloud.service import hot_files
from municloud.service.settings import KitSettings
from services.platform_hub import hot_files as hub_hot_files
from services.platform_hub.app import create_app
from services.platform_hub.routing import ROUTES_FILE
from services.platform_hub.settings import HubSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def files(tmp_path):
    key = SigningKey.generate("platform_hub-000000-1")
    (tmp_path / "hub.key").write_bytes(key.private_pem())
    (tmp_path / "keys.yaml").write_text("keys: []\n", encoding="utf-8")
    (tmp_path / "pw").write_text("a-real-password\n", encoding="utf-8")
    return tmp_path


def settings(files, password_file="pw", **kw) -> HubSettings:
    extra = {"db_password_file": files / password_file} if password_file else {}
    return HubSettings(platform_signing_key_file=files / "hub.key", platform_keys_file=files / "keys.yaml",
                       **extra, **kw)


def test_the_hub_settings_are_the_kits():
    assert issubclass(HubSettings, KitSettings)


@pytest.mark.parametrize("password", ["", "changethis", "postgres"])
def test_a_default_database_password_is_refused_outside_development(files, password):
    (files / "weak").write_text(password, encoding="utf-8")
    with pytest.raises(ValidationError, match="DB_PASSWORD_FILE must name a file with a non-default password"):
        settings(files, "weak")
    with pytest.raises(ValidationError, match="DB_PASSWORD_FILE"):
        settings(files, None, environment="test")


def test_twin_a_real_password_or_development_is_accepted(files):
    target = settings(files).database()
    assert (target.host, target.name, target.user, target.password) == (
        "hub-postgres", "platform_hub", "platform_hub", "a-real-password")
    assert settings(files, None, environment="development").db_password == ""


def test_an_inbox_is_named_by_the_docker_naming_convention(files):
    s = settings(files, stack="t1", site="dr")
    url = s.inbox_url("053031", "residents_registry", {})
    assert url == f"http://{docker_name('t1', 'dr', 'residents_registry', '053031')}:8000/api/v1/platform/inbox"
    assert url == "http://mc-t1-dr-053031-residents-registry:8000/api/v1/platform/inbox"


def test_twin_the_template_and_an_explicit_entry_win_over_the_convention(files):
    s = settings(files, inbox_url_template="https://gw:8443/{lgcode}/{unit}/api/v1/platform/inbox")
    assert s.inbox_url("053031", "tax", {}) == "https://gw:8443/053031/tax/api/v1/platform/inbox"
    assert s.inbox_url("053031", "tax", {("053031", "tax"): "http://x/in"}) == "http://x/in"


def test_the_hub_app_is_the_kit_skeleton(files):
    app = create_app(settings(files))
    paths = set(app.openapi()["paths"])
    assert {"/healthz", "/readyz", "/api/v1/messages", "/api/v1/messages/{message_id}/deliveries",
            "/api/v1/log/verify"} <= paths
    # the hub's hot files (key registry and routing table) are left out of the start fingerprint
    assert app.state.hot_files is hub_hot_files.HOT_FILES and ROUTES_FILE in app.state.hot_files
    assert set(hot_files.HOT_FILES) < set(app.state.hot_files)  # the key registry, as every service
    client = TestClient(app)  # not entered: no lifespan, so no database is needed for these answers
    assert client.get("/healthz").json() == {"status": "ok", "service": "platform_hub"}
    bad = client.get("/api/v1/messages/not-a-uuid/deliveries")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "message_id"
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
