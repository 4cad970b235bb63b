"""Test-wide settings: the same environment as tools/bootstrap/env.sh, for runs of plain pytest."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("MC_ROOT", str(REPO_ROOT))
os.environ.setdefault("MC_STATE", str(REPO_ROOT / ".state"))
# testcontainers: Ryuk's image cannot be pulled; reach published ports through loopback only.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
os.environ.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")


import pytest  # noqa: E402

# the security suite's tally, registered here so that the process that prints the summary (with
# pytest-xdist: the controller, which collects nothing) sees every report
from support.security_tally import pytest_runtest_logreport, pytest_terminal_summary  # noqa: E402,F401


@pytest.fixture(scope="session")
def live_stack():
    """The dev consortium, up once per test session (throwaway stack `citest`), destroyed after.

    MC_TEST_KEEP_STACK=1 keeps it up for the next run (which then is a fast no-op `up`).
    """
    from support.stack import stack_up, suite_stack

    with stack_up(suite_stack("MC_TEST_STACK")) as stack:
        yield stack


#: the tiers: every test has exactly one (pyproject.toml describes them)
TIERS = ("unit", "integration", "live")
#: fixtures that bring a Pulumi stack up: only tests of the live tier may use them
LIVE_FIXTURES = frozenset({"live_stack", "load_stack", "dr_stack", "two_sites"})


def pytest_collection_modifyitems(config, items):
    """Refuse a run in which a test has no tier or two, or uses a stack without being `live`."""
    wrong = []
    for item in items:
        tiers = sorted({m.name for m in item.iter_markers() if m.name in TIERS})
        if len(tiers) != 1:
            wrong.append(f"{item.nodeid}: tiers {tiers or 'none'} (exactly one of {', '.join(TIERS)})")
        elif tiers != ["live"] and LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            wrong.append(f"{item.nodeid}: uses a live stack but is marked {tiers[0]}")
    if wrong:
        raise pytest.UsageError("test tiers:\n  " + "\n  ".join(wrong))
    # The load gate first: it measures the SLA on a stack of its own, and in a whole run it used
    # to come after the session's `citest` stack was up beside it (an idle dev-shaped stack uses
    # ~0.35 core in health checks, relays and replication, measured with
    # municloud_ops/loadtest/cpu_budget.py). First, it shares the machine with nothing of the
    # suite's own. The order of the other tests is kept (stable sort).
    items.sort(key=lambda item: 0 if item.get_closest_marker("load") else 1)
    if (config is not None and not hasattr(config, "workerinput") and not config.option.collectonly
            and any(item.get_closest_marker("live") for item in items)):
        import docker

        from support.stack import sweep_suite_orphans

        try:
            for said in sweep_suite_orphans():
                print(f"\n[municloud] {said}", flush=True)
        except docker.errors.DockerException as err:  # the live tests will say it, each
            print(f"\n[municloud] no sweep of left-over test stacks: the engine does not answer ({err})")


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef, request):
    """A stack fixture requested at run time (getfixturevalue) by a test that is not `live`."""
    item = getattr(request, "_pyfuncitem", None)
    if fixturedef.argname in LIVE_FIXTURES and item is not None and item.get_closest_marker("live") is None:
        raise pytest.UsageError(f"{item.nodeid} brings up a stack ({fixturedef.argname}) but is not "
                                f"marked live")
