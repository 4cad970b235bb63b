"""The end-to-end flows on the two-host topology: the same tests as tests/e2e, on the package's
stack (`two_sites`: the dev consortium with its primary site on one site host and its DR site on the
other, its frontdoor published at this machine's loopback). What crosses the hosts here: every call
enters at the frontdoor on the primary host; the services write to their PostgreSQL, whose commit
waits for the DR host's standby across the WAN's delay line (synchronous replication); the hub
carries the 住民異動 and 転出 notices between members on the primary host.

Not here, and why: the status page and the self-healing flows have two-host tests of their own
(test_two_site_rehearsal.py); the Akita consortium and the cost meter run on stacks of their own.
"""

from __future__ import annotations

import pytest
from e2e_support import Frontdoor
from test_certificates import (  # noqa: F401  (collected here)
    test_nhi_qualification_certificate,
    test_resident_certificate_json_and_html,
    test_tax_certificate,
)
from test_edge_exposure import (  # noqa: F401
    test_machine_paths_are_refused_at_the_frontdoor,
    test_twin_hub_reaches_them_on_the_internal_listener,
)
from test_edge_tls import (  # noqa: F401
    test_live_answers_carry_hsts,
    test_live_frontdoor_complies_with_mozillas_intermediate_profile,
    test_live_gateway_certificate_is_short_lived,
)
from test_every_member_routed import (  # noqa: F401
    test_a_move_notice_of_every_member_reaches_its_tax_and_nhi,
    test_the_running_hub_routes_with_the_stacks_members,
)
from test_move_between_municipalities import (  # noqa: F401
    test_move_out_certificate_reaches_the_destination_which_completes_the_move_in,
)
from test_nhi_income_inquiry import test_premium_from_incomes_asked_through_the_hub  # noqa: F401
from test_resident_moves import (  # noqa: F401
    test_birth_and_move_out_propagate,
    test_move_in_reaches_tax_and_nhi_of_the_same_municipality_only,
    test_move_within_and_death_propagate,
    test_propagation_time_over_several_moves,
)

pytestmark = [pytest.mark.live, pytest.mark.dr]


@pytest.fixture(scope="module")
def e2e_stack(two_sites):
    return two_sites


@pytest.fixture(scope="module")
def frontdoor(two_sites):
    assert two_sites.frontdoor_url.startswith("https://127.0.0.1:"), two_sites.frontdoor_url
    with Frontdoor(two_sites) as fd:
        yield fd


def test_the_flows_above_ran_across_both_hosts(two_sites):
    """What the flows assume of the topology, checked on the stack they ran on: the services and
    their databases on the primary host, each member's synchronous standby on the DR host."""
    from municloud_ops.dr import postgres as pg

    ids = {name: two_sites.engine(name).info()["ID"] for name in ("primary", "dr")}
    assert len(set(ids.values())) == 2
    for lg in two_sites.municipalities:
        for component in ("residents_registry", "tax", "nhi", "postgres"):
            assert two_sites.container(component, lg, "primary").status == "running", (component, lg)
        standby = two_sites.container("standby", lg, "dr")
        [row] = pg.replication(two_sites.container("postgres", lg, "primary"))
        assert (row.state, row.sync_state, row.application_name) == ("streaming", "sync", standby.name), (lg, row)
