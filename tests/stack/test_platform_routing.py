"""The hub's routing table comes from the stack config (mocks): every member of the akita
consortium (12) is routable at both sites' hubs, 転出証明書情報 crosses between any two members,
and the table is a hot file (re-read in place when membership changes)."""

from __future__ import annotations

import pytest
import yaml

from mocked_program import compose  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit


def _hub_tables(mocks, stack: str) -> dict:
    from services.platform_hub.routing import ROUTES_FILE, RoutingTable

    hubs = {i["name"]: i for k, _n, i in mocks.created if k == "Container" and i["name"].endswith("-hub")}
    tables = {}
    for site in ("primary", "dr"):
        hub = hubs[f"mc-{stack}-{site}-hub"]
        assert hub["env"]["ROUTES_FILE"] == str(ROUTES_FILE)
        assert hub["reload"] == ["python", "-m", "services.platform_hub.hot_files"]
        content = next(f["content"] for f in hub["files"] if f["path"] == str(ROUTES_FILE))
        tables[site] = RoutingTable.model_validate(yaml.safe_load(content))
    return tables


def _notice(code: str):
    from municloud.platform import build_message
    from municloud.platform.samples import sample_move_notice

    return build_message(sample_move_notice(code), sender_unit="residents_registry", sender_lgcode=code,
                         receiver_unit="platform_hub", receiver_lgcode=code)


def test_every_akita_member_is_routable_at_both_hubs(akita_raw):
    from municloud.platform import build_message
    from municloud.platform.samples import sample_move_out_certificate

    made = compose(akita_raw, "akita")
    cfg = made.cfg
    codes = [m.lgcode for m in cfg.municipalities]
    assert len(codes) == 12

    tables = _hub_tables(made, "akita")
    assert tables["primary"] == tables["dr"]  # the DR hub routes as the primary would
    table = tables["primary"]
    assert list(table.municipalities) == codes
    for code in codes:
        route, subscribers = table.authorise(_notice(code))
        assert route.id == "resident-move-notice" and subscribers == [(code, "tax"), (code, "nhi")]
    # 転出→転入 between two members outside dev's three
    move = build_message(sample_move_out_certificate("053481"), sender_unit="residents_registry",
                         sender_lgcode="053481", receiver_unit="residents_registry", receiver_lgcode="054640")
    assert table.authorise(move)[1] == [("054640", "residents_registry")]


def test_twin_a_code_outside_the_config_is_refused(dev_raw):
    from services.platform_hub.routing import RouteRefusal

    made = compose(dev_raw, "dev")
    table = _hub_tables(made, "dev")["primary"]
    assert table.authorise(_notice("053031"))[1] == [("053031", "tax"), ("053031", "nhi")]
    with pytest.raises(RouteRefusal, match="not in this consortium"):  # an akita member, not a dev one
        table.authorise(_notice("053481"))


def test_a_consortium_of_one_routes_within_the_member_and_has_no_crossing_route():
    """One member has no pair to cross between: the table leaves 転出証明書情報 out instead of
    refusing the stack; two members get both ordered pairs (the twin)."""
    from services.platform_hub.routing import member_table

    alone = member_table(["053031"])
    assert alone.routes and all(r.scope == "same_municipality" for r in alone.routes)
    pair = member_table(["053031", "053279"])
    crossing = [r for r in pair.routes if r.scope == "between_municipalities"]
    assert crossing and all(set(r.between) == {("053031", "053279"), ("053279", "053031")} for r in crossing)
