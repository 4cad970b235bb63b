"""Swagger UI (/docs) and ReDoc (/redoc) from packaged assets, never a CDN.

The My Number segment and LGWAN have no internet, so the pages load their scripts and styles from
the ``fastapi-offline`` package's static files, served by the service itself. Every URL on the
pages is relative: behind the gateway a service lives under ``/<lgcode>/<service>/``, and
``openapi.json`` or ``static/docs/...`` resolve there, where an absolute ``/openapi.json`` would
reach the gateway's root instead."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_PREFIX = "static/docs"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def assets_dir() -> str:
    return str(files("fastapi_offline") / "static")


def install_docs(app: FastAPI, title: str) -> None:
    """Serve /docs, /redoc and their assets; the app must be made with docs_url=redoc_url=None."""
    app.mount(f"/{STATIC_PREFIX}", StaticFiles(directory=assets_dir()), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="openapi.json", title=f"{title} — API",
                                   swagger_js_url=f"{STATIC_PREFIX}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{STATIC_PREFIX}/swagger-ui.css",
                                   swagger_favicon_url=f"{STATIC_PREFIX}/favicon.png", oauth2_redirect_url=None)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="openapi.json", title=f"{title} — API",
                              redoc_js_url=f"{STATIC_PREFIX}/redoc.standalone.js",
                              redoc_favicon_url=f"{STATIC_PREFIX}/favicon.png", with_google_fonts=False)
