"""Fixtures and helpers of the suite; `kit` comes from municloud_ops.conformance.plugin."""

from __future__ import annotations

import pytest

from municloud_ops.conformance.context import KitContext


@pytest.fixture(scope="session")
def openapi(kit: KitContext) -> dict:
    response = kit.client.get("/openapi.json")
    assert response.status_code == 200, f"GET /openapi.json answered HTTP {response.status_code}"
    try:
        document = response.json()
    except ValueError:
        pytest.fail("/openapi.json is not JSON")
    assert isinstance(document, dict), "/openapi.json is not a JSON object"
    return document
