"""How the consortium wires the DR site under pulumi.runtime.set_mocks: each primary PostgreSQL
paired with its DR standby and archiving to the backup repository, modes from the SLA config."""

from __future__ import annotations

import pytest

from mocked_program import compose  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit

CODES = ("053031", "053279", "053465")


def _compose(raw: dict, **sla):
    """The dev program under mocks, with ``sla`` keys replacing the config's."""
    return compose({**raw, "sla": {**(raw.get("sla") or {}), **sla}} if sla else raw)


def _containers(mocks) -> dict[str, dict]:
    return {i["name"]: i for k, _n, i in mocks.created if k == "Container"}


def test_dev_pairs_every_primary_with_a_synchronous_standby_and_the_repository(dev_raw):
    made = _compose(dev_raw)
    c = _containers(made)
    assert c["mc-dev-dr-backup-repo"]["labels"]["municloud.site"] == "dr"
    repo_cfg = next(i["variables"] for k, _n, i in made.created
                    if k == "RenderedConfig" and i["role"] == "pgbackrest")
    assert [(st["name"], st["hosts"]) for st in repo_cfg["pgbackrest_stanzas"]
            if st["name"] in CODES] == [(lg, [f"mc-dev-primary-{lg}-postgres", f"mc-dev-dr-{lg}-postgres"])
                                        for lg in CODES]
    assert (repo_cfg["pgbackrest_retention_full"], repo_cfg["pgbackrest_retention_diff"]) == (2, 6)
    for lg in CODES:
        primary, standby = c[f"mc-dev-primary-{lg}-postgres"], c[f"mc-dev-dr-{lg}-postgres"]
        assert primary["env"]["MC_PG_MODE"] == "primary" and standby["env"]["MC_PG_MODE"] == "standby"
        assert primary["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == f'"mc-dev-dr-{lg}-postgres"'
        assert primary["env"]["MC_PG_PEER_HOST"] == f"mc-dev-dr-{lg}-postgres"
        assert (primary["env"]["MC_PGBACKREST_STANZA"], primary["env"]["MC_PGBACKREST_REPO_HOST"]) == \
            (lg, "mc-dev-dr-backup-repo")
        assert standby["env"]["MC_PG_PEER_HOST"] == f"mc-dev-primary-{lg}-postgres"
        assert standby["env"]["MC_PG_REPLICATION_NETWORKS"] == primary["env"]["MC_PG_REPLICATION_NETWORKS"]
        for svc in ("residents-registry", "tax", "nhi"):
            dr_svc = c[f"mc-dev-dr-{lg}-{svc}"]
            assert dr_svc["start"] is False  # pilot light: created, stopped
            assert dr_svc["env"]["DATABASE_HOST"] == f"mc-dev-dr-{lg}-postgres"
            assert c[f"mc-dev-primary-{lg}-{svc}"]["start"] is True  # the twin: primary services run


def test_asynchronous_warm_config_gives_async_pairing_and_running_dr_services(dev_raw):
    made = _compose(dev_raw, replication_mode="asynchronous", dr_services="warm")
    c = _containers(made)
    for lg in CODES:
        assert c[f"mc-dev-primary-{lg}-postgres"]["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == ""
        assert c[f"mc-dev-dr-{lg}-postgres"]["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == ""
        assert c[f"mc-dev-dr-{lg}-tax"]["start"] is True
    # the hub's pairing follows the same mode; warm applies to the municipalities' services only
    assert c["mc-dev-primary-hub-postgres"]["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == ""
    assert c["mc-dev-dr-hub-postgres"]["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == ""
    assert c["mc-dev-dr-hub"]["start"] is False
