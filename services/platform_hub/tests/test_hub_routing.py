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
