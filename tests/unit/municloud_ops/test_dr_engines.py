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


def test_an_unreachable_site_is_probed_once_per_recheck_not_at_every_lookup(tmp_path, monkeypatch):
    """A cut-off host answers nothing: each probe costs a connection timeout, so one operation's
    many lookups reuse the verdict for UNREACHABLE_RECHECK_S; a site that answers is probed anew."""
    import socket

    from municloud_ops.dr import inventory

    inv = Inventory.for_sites("s", _sites(tmp_path, dr_host="tcp://127.0.0.2:9"))
    calls = []
    real = socket.create_connection

    def counting(address, timeout=None):
        calls.append((address, timeout))
        return real(address, timeout=timeout)

    monkeypatch.setattr(inventory.socket, "create_connection", counting)
    first = inv.unreachable("primary")
    assert first and inv.unreachable("primary") == first and inv.find(site="primary") == []
    assert calls == [(("127.0.0.1", 9), inventory.CONNECT_TIMEOUT_S)]
    # the twin: once the recheck time has passed, the host is asked again
    inv._down["primary"] = (inv._down["primary"][0] - inventory.UNREACHABLE_RECHECK_S - 1, first)
    assert inv.unreachable("primary") == first and len(calls) == 2


def test_a_refused_rewind_gives_its_reason_and_a_done_one_what_it_copied():
    refused = ("2026-12-03T22:01:12Z mc-postgres[rewind]: pg_rewind onto the timeline of db:5432\n"
               "pg_rewind: pg_rewind: error: could not fetch remote file list: ERROR:  permission denied "
               "for function pg_ls_dir\n"
               "2026-12-03T22:01:12Z mc-postgres[rewind]: REWIND-NOT-POSSIBLE: pg_rewind: error: could not "
               "fetch remote file list: ERROR:  permission denied for function pg_ls_dir\n")
    assert actions.rewind_refusal(actions.REWIND_NOT_POSSIBLE, refused) == (
        "pg_rewind: error: could not fetch remote file list: ERROR:  permission denied for function pg_ls_dir")
    # any other exit (the entrypoint's own refusal, a killed one-off) is said as such
    assert actions.rewind_refusal(64, "mc-postgres[rewind]: ERROR: secret file x missing") == (
        "the rewind exited 64: mc-postgres[rewind]: ERROR: secret file x missing")
    done = "pg_rewind: pg_rewind: need to copy 104 MB (total source directory size is 141 MB)\n"
    assert actions.rewind_volume(done) == " (copied 104 MB of the source's 141 MB)"
    assert actions.rewind_volume("pg_rewind: no rewind required") == ""
