"""`municloud stack status`: pilot-light units stand by (exit 0); a unit down is named (exit 1).

The engine is replaced by its container list here (docker-py's shapes); the live stack runs the same
command in tests/e2e/test_status_page.py."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from municloud_ops.cli.main import app

pytestmark = pytest.mark.unit
runner = CliRunner()


def entry(name: str, site: str, component: str, state: str, status: str, lgcode: str = "053031") -> dict:
    return {"Id": name, "Names": [f"/{name}"], "State": state, "Status": status,
            "Labels": {"municloud.stack": "t", "municloud.site": site, "municloud.lgcode": lgcode,
                       "municloud.component": component}}


class FakeClient:
    """docker.from_env() for the command: a container list, no Prometheus, no exec."""

    def __init__(self, entries):
        self.api = type("Api", (), {"containers": lambda _s, all, filters: entries})()
        self.containers = type("Containers", (), {"list": lambda _s, filters: [],
                                                  "get": lambda _s, cid: pytest.fail("no exec expected")})()


@pytest.fixture
def engine(monkeypatch):
    def use(entries):
        import docker

        monkeypatch.setattr(docker, "from_env", lambda **_: FakeClient(entries))
    return use


HEALTHY = [entry("mc-t-primary-053031-tax", "primary", "tax", "running", "Up 5 minutes (healthy)"),
           entry("mc-t-primary-supervisor", "primary", "supervisor", "running", "Up 5 minutes", "shared"),
           entry("mc-t-dr-053031-tax", "dr", "tax", "created", "Created"),
           entry("mc-t-dr-hub", "dr", "hub", "created", "Created", "shared")]


def test_a_healthy_stack_with_pilot_light_containers_exits_0(engine):
    engine(HEALTHY)
    result = runner.invoke(app, ["stack", "status", "--stack", "t"])
    assert result.exit_code == 0, result.output
    assert "stack t: all 2 running units up, 2 standing by as a pilot light" in result.output
    assert "the stack's Prometheus did not answer" in result.output


def test_a_unit_down_is_named_and_exits_1(engine):
    engine(HEALTHY + [entry("mc-t-primary-053031-nhi", "primary", "nhi", "exited", "Exited (137) 3 seconds ago")])
    result = runner.invoke(app, ["stack", "status", "--stack", "t"])
    assert result.exit_code == 1
    assert "stack t: 1 of 5 units down: mc-t-primary-053031-nhi (exited (137) 3 seconds ago)" in result.output


def test_a_stopped_service_at_a_site_that_is_not_standing_by_is_down(engine):
    engine(HEALTHY)
    result = runner.invoke(app, ["stack", "status", "--stack", "t", "--standby-site", "nowhere"])
    assert result.exit_code == 1 and "2 of 4 units down" in result.output
