"""Routing decisions (routes.yaml): each refusal with its allowed twin."""

import pytest

from municloud.platform import build_message
from municloud.platform.samples import (
    sample_income_inquiry, sample_income_response, sample_move_notice, sample_move_out_certificate,
)
from services.platform_hub.routing import RouteRefusal, RoutingTable

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def table():
    return RoutingTable.load()


def msg(body, sender, s_lg, receiver, r_lg):
    return build_message(body, sender_unit=sender, sender_lgcode=s_lg, receiver_unit=receiver, receiver_lgcode=r_lg)


def test_move_notice_fans_out_to_tax_and_nhi_of_the_same_municipality(table):
    route, subscribers = table.authorise(msg(sample_move_notice("053031"), "residents_registry", "053031", "platform_hub", "053031"))
    assert route.id == "resident-move-notice"
    assert subscribers == [("053031", "tax"), ("053031", "nhi")]


def test_unauthorised_route_is_refused(table):
    with pytest.raises(RouteRefusal) as err:
        table.authorise(msg(sample_move_notice("053031"), "tax", "053031", "platform_hub", "053031"))
    assert err.value.code == "route-unauthorised"


def test_income_inquiry_nhi_to_tax_allowed_but_not_tax_to_nhi(table):
    assert table.authorise(msg(sample_income_inquiry("053279"), "nhi", "053279", "tax", "053279"))[1] == [("053279", "tax")]
    with pytest.raises(RouteRefusal, match="no route") as err:
        table.authorise(msg(sample_income_inquiry("053279"), "tax", "053279", "nhi", "053279"))
    assert err.value.code == "route-unauthorised"


def test_same_municipality_route_refuses_another_municipality(table):
    with pytest.raises(RouteRefusal) as err:
        table.authorise(msg(sample_move_notice("053031"), "residents_registry", "053031", "platform_hub", "053279"))
    assert err.value.code == "wrong-municipality"


def test_move_out_certificate_crosses_only_between_named_pairs(table):
    route, subscribers = table.authorise(
        msg(sample_move_out_certificate("053031"), "residents_registry", "053031", "residents_registry", "053279"))
    assert route.id == "move-out-certificate" and subscribers == [("053279", "residents_registry")]
    with pytest.raises(RouteRefusal) as err:  # same municipality is not a move between two
        table.authorise(msg(sample_move_out_certificate("053031"), "residents_registry", "053031", "residents_registry", "053031"))
    assert err.value.code == "wrong-municipality"


def test_municipality_outside_the_consortium_is_refused(table):
    with pytest.raises(RouteRefusal, match="not in this consortium") as err:  # 三種町 is in akita, not dev
        table.authorise(msg(sample_move_out_certificate("053031"), "residents_registry", "053031", "residents_registry", "053481"))
    assert err.value.code == "wrong-municipality"


def test_individual_number_only_where_the_route_allows(table):
    with_number = msg(sample_income_response("053031", with_individual_number=True), "tax", "053031", "nhi", "053031")
    with pytest.raises(RouteRefusal) as err:
        table.authorise(with_number)
    assert err.value.code == "individual-number-not-allowed"
    number = with_number.body.records[0].individual_number
    assert number not in str(err.value)
    without = msg(sample_income_response("053031"), "tax", "053031", "nhi", "053031")
    assert table.authorise(without)[0].id == "income-inquiry-response"


def test_table_refuses_pairs_outside_the_consortium(tmp_path):
    import yaml

    data = yaml.safe_load(RoutingTable.load.__defaults__[0].read_text())
    data["routes"][-1]["between"].append(["053031", "053481"])
    with pytest.raises(ValueError, match="outside the consortium"):
        RoutingTable.model_validate(data)
    data["routes"][-1]["between"].pop()
    assert RoutingTable.model_validate(data)


AKITA_EXTRA = ("053481", "053490", "053619")  # members of the akita consortium, not of dev


def test_member_table_routes_every_member_and_every_pair():
    from services.platform_hub.routing import member_table

    members = ("053031", "053279", "053465", *AKITA_EXTRA)
    table = member_table(members)
    assert table.municipalities == members
    for code in members:
        assert table.authorise(msg(sample_move_notice(code), "residents_registry", code, "platform_hub", code))[1] \
            == [(code, "tax"), (code, "nhi")]
    move = next(r for r in table.routes if r.scope == "between_municipalities")
    assert len(move.between) == len(members) * (len(members) - 1)
    assert table.authorise(msg(sample_move_out_certificate("053481"), "residents_registry", "053481",
                               "residents_registry", "053619"))[1] == [("053619", "residents_registry")]
    # the catalogue's other routes and rules come through unchanged: a same-municipality route still refuses
    with pytest.raises(RouteRefusal) as err:
        table.authorise(msg(sample_move_notice("053481"), "residents_registry", "053481", "platform_hub", "053490"))
    assert err.value.code == "wrong-municipality"


def test_member_table_refuses_a_non_member_and_a_pair_outside_the_members():
    from services.platform_hub.routing import member_table

    table = member_table(("053031", "053279"))
    with pytest.raises(RouteRefusal, match="not in this consortium"):  # a member of dev, not of this table
        table.authorise(msg(sample_move_notice("053465"), "residents_registry", "053465", "platform_hub", "053465"))
    with pytest.raises(ValueError, match="outside the consortium"):
        member_table(("053031", "053279"), pairs=[("053031", "053465")])
    limited = member_table(("053031", "053279", "053465"), pairs=[("053031", "053279")])  # the allowed twin
    with pytest.raises(RouteRefusal, match="does not name 053279 -> 053031"):
        limited.authorise(msg(sample_move_out_certificate("053279"), "residents_registry", "053279",
                              "residents_registry", "053031"))


def test_the_running_hub_rereads_its_table_and_keeps_the_last_good_one(tmp_path, caplog):
    import os

    from services.platform_hub.routing import WatchedRoutingTable, member_table

    path = tmp_path / "routes.yaml"
    path.write_text(member_table(("053031", "053279")).to_yaml(), encoding="utf-8")
    watched = WatchedRoutingTable(path)
    joining = msg(sample_move_notice("053481"), "residents_registry", "053481", "platform_hub", "053481")
    with pytest.raises(RouteRefusal, match="not in this consortium"):
        watched.authorise(joining)
    path.write_text(member_table(("053031", "053279", "053481")).to_yaml(), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a new stamp even within the file system's time resolution
    assert watched.authorise(joining)[1] == [("053481", "tax"), ("053481", "nhi")]
    path.write_text("version: 1\nmunicipalities: []\nroutes: []\n", encoding="utf-8")  # refused: no member
    assert watched.authorise(joining)[1] == [("053481", "tax"), ("053481", "nhi")]
    assert "routing table" in caplog.text and "not re-read" in caplog.text and "stays in force" in caplog.text
    with pytest.raises(ValueError):  # at start a bad file is an error, not a silent empty table
        WatchedRoutingTable(path)
