"""Swagger UI and ReDoc load from the service itself (no CDN), by relative URLs only.

The real app factory of each service (no lifespan: the docs need no database). Every script,
style and icon the pages name is relative, resolves under the service's own prefix (as behind the
gateway, /<lgcode>/<service>/) and loads with 200 from the app."""

from __future__ import annotations

import importlib
import re
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from municloud.auth import generate_key_pair
from municloud.service.settings import ServiceSettings

pytestmark = pytest.mark.unit

PUBLIC = generate_key_pair()[1]
SERVICES = ["residents_registry", "tax", "nhi"]
_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']|spec-url=["']([^"']+)["']""")


@pytest.fixture(scope="module", params=SERVICES)
def client(request):
    svc = request.param
    settings = ServiceSettings(environment="development", service_name=svc, lgcode="053031",
                               token_public_key=PUBLIC)
    app = importlib.import_module(f"services.{svc}.main").create_app(settings)
    return TestClient(app, base_url="https://gateway.municloud")  # no `with`: no lifespan, no database


def _refs(html: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in _REF.finditer(html)]


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_doc_page_names_only_relative_same_origin_urls_that_load(client, page):
    r = client.get(f"/{page}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    refs = _refs(r.text)
    assert "openapi.json" in refs and any(ref.endswith(".js") for ref in refs), refs
    for ref in refs:
        parts = urlsplit(ref)
        assert not parts.scheme and not parts.netloc and not ref.startswith("/"), f"{page}: {ref} is not relative"
        # behind the gateway the page is /<lgcode>/<service>/<page>; the reference resolves under it
        behind = urljoin(f"/053031/tax/{page}", ref)
        assert behind.startswith("/053031/tax/"), behind
        assert client.get(urljoin(f"/{page}", ref)).status_code == 200, ref


def test_twin_an_absolute_or_cdn_reference_would_be_caught():
    html = ('<link href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">'
            '<script src="/static/x.js"></script>')
    bad = [ref for ref in _refs(html) if urlsplit(ref).scheme or ref.startswith("/")]
    assert bad == ["https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css", "/static/x.js"]


def test_the_fastapi_default_page_would_fail_the_same_check():
    """FastAPI's own /docs page (what the services served before) loads from a CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html

    html = get_swagger_ui_html(openapi_url="/openapi.json", title="x").body.decode()
    assert [ref for ref in _refs(html) if urlsplit(ref).netloc]
