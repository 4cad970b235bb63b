"""The hub's reload check: its routing table and key registry take effect in place (exit 0), a
bad routing table is refused naming it (1), any other file asks for a restart (75)."""

from __future__ import annotations

import pytest

from services.platform_hub import hot_files as hub_hot
from services.platform_hub.routing import member_table

pytestmark = pytest.mark.unit


@pytest.fixture
def box(tmp_path):
    etc, secrets = tmp_path / "etc/municloud", tmp_path / "run/secrets"
    etc.mkdir(parents=True)
    (secrets / "db").mkdir(parents=True)
    (secrets / "db/password").write_text("pw-1")
    routes = etc / "routes.yaml"
    routes.write_text(member_table(("053031", "053279")).to_yaml(), encoding="utf-8")
    hot = {routes: hub_hot.RoutingTable.load}
    args = dict(manifest=tmp_path / "manifest.json", dirs=(secrets, etc), hot=hot)
    hub_hot.hot_files.record_start(**args)
    return secrets, routes, args


def test_a_new_member_in_the_routing_table_is_applied_in_place(box):
    _, routes, args = box
    assert hub_hot.hot_files.check(**args)[0] == 0
    routes.write_text(member_table(("053031", "053279", "053481")).to_yaml(), encoding="utf-8")
    code, sentence = hub_hot.hot_files.check(**args)
    assert code == 0 and "re-read by the running service" in sentence


def test_a_bad_routing_table_is_refused_naming_it(box):
    _, routes, args = box
    routes.write_text("version: 1\nmunicipalities: ['123456']\nroutes: []\n", encoding="utf-8")
    code, sentence = hub_hot.hot_files.check(**args)
    assert code == 1 and str(routes) in sentence and "nothing applied" in sentence


def test_another_file_still_restarts(box):
    secrets, _, args = box
    (secrets / "db/password").write_text("pw-2")
    assert hub_hot.hot_files.check(**args)[0] == hub_hot.hot_files.RESTART


def test_the_hub_watches_the_file_the_stack_writes():
    from services.platform_hub.routing import ROUTES_FILE

    assert ROUTES_FILE in hub_hot.HOT_FILES and len(hub_hot.HOT_FILES) == 2  # + the key registry
