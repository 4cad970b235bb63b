"""The platform hub's DR pairing under pulumi.runtime.set_mocks: its PostgreSQL streams to a
standby at the DR site in the stack's mode, and a pilot-light DR hub on that standby is what the
DR gateway routes /hub/ to (stacks/platform_hub.py, stacks/site.py)."""

from __future__ import annotations

import pytest

from test_dr_wiring import _compose, _containers  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit


def _file(container: dict, path: str) -> str:
    return next(f["content"] for f in container["files"] if f["path"] == path)


def test_hub_postgres_pairs_with_a_dr_standby_and_a_pilot_light_hub(dev_raw):
    made = _compose(dev_raw)
    c = _containers(made)
    primary, standby = c["mc-dev-primary-hub-postgres"], c["mc-dev-dr-hub-postgres"]
    assert primary["env"]["MC_PG_PEER_HOST"] == "mc-dev-dr-hub-postgres"
    assert primary["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == '"mc-dev-dr-hub-postgres"'
    assert {n["name"] for n in primary["networks"]} == {"mc-dev-primary-hub-net", "mc-dev-hub-wan"}
    # WAL archiving to the repository's "hub" stanza, from whichever side is primary
    for side in (primary, standby):
        assert (side["env"]["MC_PGBACKREST_STANZA"], side["env"]["MC_PGBACKREST_REPO_HOST"]) == \
            ("hub", "mc-dev-dr-backup-repo")
    repo_cfg = next(i["variables"] for k, _n, i in made.created
                    if k == "RenderedConfig" and i["role"] == "pgbackrest")
    assert [st["hosts"] for st in repo_cfg["pgbackrest_stanzas"] if st["name"] == "hub"] == \
        [["mc-dev-primary-hub-postgres", "mc-dev-dr-hub-postgres"]]
    assert standby["labels"] == {"municloud.stack": "dev", "municloud.site": "dr", "municloud.lgcode": "shared",
                                 "municloud.component": "hub_postgres"}
    assert (standby["env"]["MC_PG_MODE"], standby["env"]["MC_PG_DATABASES"]) == ("standby", "platform_hub")
    assert standby["env"]["MC_PG_PEER_HOST"] == "mc-dev-primary-hub-postgres"
    assert standby["env"]["MC_PG_REPLICATION_NETWORKS"] == primary["env"]["MC_PG_REPLICATION_NETWORKS"]
    assert {n["name"] for n in standby["networks"]} == {"mc-dev-dr-hub-net", "mc-dev-hub-wan"}
    # the standby is a copy of the primary: the same role passwords
    for role in ("postgres", "replicator", "platform_hub"):
        path = f"/run/secrets/postgres/{role}.password"
        assert _file(standby, path) == _file(primary, path)

    hub, dr_hub = c["mc-dev-primary-hub"], c["mc-dev-dr-hub"]
    assert hub["start"] is True and dr_hub["start"] is False  # the twin: pilot light at DR only
    assert dr_hub["labels"]["municloud.component"] == "hub" and dr_hub["labels"]["municloud.site"] == "dr"
    assert dr_hub["env"]["DATABASE_HOST"] == "mc-dev-dr-hub-postgres"
    assert dr_hub["env"]["INBOX_URL_TEMPLATE"].startswith("https://mc-dev-dr-gateway:8443/")
    # on its own network only; the gateway joins it there (no network holding the host's address)
    assert {n["name"] for n in dr_hub["networks"]} == {"mc-dev-dr-hub-net"}
    for path in ("/etc/municloud/platform-keys.yaml", "/run/secrets/db/password"):
        assert _file(dr_hub, path) == _file(hub, path)
    key = next(f["path"] for f in hub["files"] if f["path"].startswith("/run/secrets/platform/"))
    assert _file(dr_hub, key) == _file(hub, key)  # it signs as the same hub unit
    # DR services publish through the DR gateway, which routes /hub/ to the DR hub
    assert c["mc-dev-dr-053031-tax"]["env"]["HUB_URL"] == "https://mc-dev-dr-gateway:8443/hub"
    assert c["mc-dev-primary-053031-tax"]["env"]["HUB_URL"] == "https://mc-dev-primary-gateway:8443/hub"
    configs = {n: i for k, n, i in made.created if k == "RenderedConfig"}
    assert configs["dr-gateway-config"]["variables"]["gateway_hub"] == {"host": "mc-dev-dr-hub", "port": 8000}
    assert configs["primary-gateway-config"]["variables"]["gateway_hub"]["host"] == "mc-dev-primary-hub"
