"""Settings refuse default or empty secrets outside development; secrets come from files."""

import pytest
from pydantic import ValidationError

from municloud.auth import generate_key_pair
from municloud.service.settings import ServiceSettings

pytestmark = pytest.mark.unit

PUBLIC = generate_key_pair()[1]


def _settings(tmp_path, password: str | None, environment="production", **kw):
    extra = {}
    if password is not None:
        path = tmp_path / "pw"
        path.write_text(password)
        extra["db_password_file"] = path
    return ServiceSettings(environment=environment, service_name="tax", lgcode="053031",
                           token_public_key=PUBLIC, **extra, **kw)


@pytest.mark.parametrize("password", [None, "", "changethis", "postgres"])
def test_default_secret_refused_in_production(tmp_path, password):
    with pytest.raises(ValidationError, match="DB_PASSWORD_FILE"):
        _settings(tmp_path, password)


def test_real_secret_accepted_and_read_from_file(tmp_path):
    s = _settings(tmp_path, "s3cret-from-file\n")
    assert s.db_password == "s3cret-from-file"
    target = s.database()
    assert (target.name, target.user, target.password) == ("tax", "tax", "s3cret-from-file")


def test_empty_secret_allowed_in_development(tmp_path):
    assert _settings(tmp_path, None, environment="development").db_password == ""


def test_bad_lgcode_and_bad_key_refused(tmp_path):
    with pytest.raises(ValidationError, match="lgcode"):
        ServiceSettings(environment="development", lgcode="053032", token_public_key=PUBLIC)
    with pytest.raises(ValidationError, match="token_public_key"):
        ServiceSettings(environment="development", lgcode="053031", token_public_key="nope")


def test_settings_from_environment(tmp_path, monkeypatch):
    pw = tmp_path / "pw"
    pw.write_text("from-env-file")
    monkeypatch.setenv("LGCODE", "053279")
    monkeypatch.setenv("TOKEN_PUBLIC_KEY", PUBLIC)
    monkeypatch.setenv("DB_PASSWORD_FILE", str(pw))
    monkeypatch.setenv("HUB_URL", "http://hub:8000/")
    s = ServiceSettings(service_name="nhi")
    assert (s.lgcode, s.db_password, s.hub_url, s.platform_enabled) == (
        "053279", "from-env-file", "http://hub:8000", True)
