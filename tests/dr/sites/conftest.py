"""The consortium on this machine's two site hosts: one stack for the directory (`ts2sites`,
MC_TWO_SITE_STACK; stacks/configs/two-sites.yaml: the dev consortium, each site on its own engine
over tcp+TLS, the routed WAN with its delay line between them), brought up once and destroyed after
the last test that uses it. In file order: the e2e flows and the infra checks on that topology
(test_two_site_e2e.py, test_two_site_infra.py), then the whole-site rehearsals, which power the
primary host off and cut it off (test_two_site_rehearsal.py). The primary host is powered on and
connected again whatever happens (other tests use it); the suite's labs on the hosts take another
routed block (test_wan_replication.py). Needs root (the site hosts) and the local
engine (images are built there and shipped to the hosts).

The e2e and infra tiers' helpers are imported from their directories (tests/e2e, tests/infra), so
a test written once runs on both topologies.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from support import sites
from support.stack import suite_stack

_HERE = Path(__file__).resolve().parent
_TESTS = _HERE.parents[1]
for _tier in ("e2e", "infra"):
    if str(_TESTS / _tier) not in sys.path:
        sys.path.insert(0, str(_TESTS / _tier))

STACK = suite_stack("MC_TWO_SITE_STACK")


def _remove_on_hosts(stack: str) -> int:
    """Whatever is still labelled for the stack on the site hosts (a destroy that stopped halfway)."""
    from support.stack import remove_labelled

    return sum(remove_labelled(stack, sites.host(name).client(timeout=60)) for name in ("primary", "dr"))


@contextmanager
def _two_site_stack():
    from support.stack import stack_up

    print(sites.up("primary", "dr"))
    print(sites.wan_up("primary", "dr"))
    print(sites.wan_status())
    try:
        with stack_up(STACK, overrides=sites.two_site_config()) as stack:
            try:
                # the frontdoor listens on the primary host's WAN address: reached from this
                # machine at 127.0.0.1, as `make up` publishes the dev stack's (decision 0045)
                print(sites.publish_frontdoor(stack))
                yield stack
            finally:  # the rehearsals power it off and cut it off; destroy needs it
                print(sites.isolate("primary", False))
                print(sites.wan_partition(False))
                print(sites.up("primary"))
                print(sites.unpublish(int(stack.frontdoor_url.rsplit(":", 1)[1])))
    finally:
        if not os.environ.get("MC_TEST_KEEP_STACK"):
            print(f"[municloud] {_remove_on_hosts(STACK)} labelled objects left on the site hosts removed")


#: the open stack, shared by the modules here and closed as soon as the next test does not use it
#: (a session-scoped fixture would keep it to the end of the run; "package" scope is the session's
#: for a directory without __init__.py): the suite's other stacks and labs then have the machine
_OPEN: dict = {}


def _close() -> None:
    opened = _OPEN.pop("context", None)
    _OPEN.pop("stack", None)
    if opened is not None:
        opened.__exit__(None, None, None)


@pytest.fixture(scope="module")
def two_sites():
    """The stack, brought up by its first user (module scope: each module's own fixtures build on
    it); the modules after it get the same stack."""
    if "stack" not in _OPEN:
        context = _two_site_stack()
        _OPEN["stack"] = context.__enter__()
        _OPEN["context"] = context
    return _OPEN["stack"]


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if "stack" in _OPEN and "two_sites" not in getattr(nextitem, "fixturenames", ()):
        print(f"\n[municloud] no test after this one uses {STACK}: destroying it", flush=True)
        _close()


def pytest_sessionfinish(session, exitstatus):
    _close()  # a run cut short between two users of the stack


@pytest.fixture(scope="session")
def sites_file(tmp_path_factory):
    """The stack's municloud:sites value as a file: what the operator commands take (--sites)."""
    import yaml

    path = tmp_path_factory.mktemp("ts2") / "sites.yaml"
    path.write_text(yaml.safe_dump(sites.two_site_config()["municloud:sites"]))
    return path
