"""The operator commands find a stack on its sites' own engines (municloud_ops.dr.inventory) and
say so when a site's engine does not answer (a powered-off primary host) instead of failing."""

from __future__ import annotations

import pytest

from municloud_ops.dr import actions
from municloud_ops.dr.inventory import Inventory, stack_inventory

pytestmark = [pytest.mark.unit, pytest.mark.dr]


def _sites(tmp_path, dr_host: str = "tcp://127.0.0.1:9") -> dict:
    tls = {}
    for key in ("tls_ca_cert", "tls_cert", "tls_key"):
        (tmp_path / key).write_text("not used: nothing answers")
        tls[key] = str(tmp_path / key)
    # port 9 (discard) on loopback: nothing listens, the connection is refused at once
    return {"primary": {"docker_host": "tcp://127.0.0.1:9", "role": "primary", **tls},
            "dr": {"docker_host": dr_host, "role": "dr", **tls}}


def test_a_powered_off_site_is_reported_unreachable_and_not_counted_as_stopped(tmp_path):
    inv = Inventory.for_sites("s", _sites(tmp_path, dr_host="tcp://127.0.0.2:9"))
    assert inv.engines and inv.unreachable("primary").startswith("engine tcp://127.0.0.1:9 does not answer")
    assert inv.find(site="primary") == [] and inv.find() == []
    result = actions.fence_site(inv, "primary")
    assert "site primary unreachable" in result.sentence and "re-run the failover" in result.sentence
    assert not result.changed
    step = actions.check_frontdoor(inv, ["053031"])
    assert "whose engine does not answer" in step.sentence and not step.changed


def test_a_sites_file_that_is_not_a_sites_value_is_refused(tmp_path):
    bad = tmp_path / "sites.yaml"
    bad.write_text("- primary\n- dr\n")
    with pytest.raises(ValueError, match="not a municloud:sites value"):
        stack_inventory("s", bad)
    good = tmp_path / "good.yaml"
    import yaml

    good.write_text(yaml.safe_dump(_sites(tmp_path, dr_host="tcp://127.0.0.2:9")))
    assert stack_inventory("s", good).engines.keys() == {"primary", "dr"}
