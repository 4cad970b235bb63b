"""The PostgreSQL and repository configuration of the dev program under mocks: every primary
cluster (the hub's too) renders roles/postgres with its own networks and a memory budget from its population,
gets the files and the reload command; the repository renders roles/pgbackrest with the SLA's
retention and schedule (new keys, validated), and the passphrase is never a role input."""

from __future__ import annotations

import pytest

from stacks.config import ConfigError, load
from stacks.platform_hub import HUB_DB, HUB_MEMORY_MB
from stacks.postgres_config import CONFIG_DIR, RELOAD, memory_budget_mb
from mocked_program import compose  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit


def _rendered(mocks, role: str) -> dict[str, dict]:
    return {i["instance"]: i["variables"] for k, _n, i in mocks.created if k == "RenderedConfig" and i["role"] == role}


def _check_dev_program(dev_raw, check):
    """Compose the dev program; ``check(cfg, rendered postgres configs, containers)``."""
    made = compose(dev_raw)
    check(made.cfg, _rendered(made, "postgres"), made.containers())


def test_each_primary_cluster_renders_its_own_configuration_and_reloads_it(dev_raw):
    def check(cfg, rendered, containers):
        for m in cfg.municipalities:
            v = rendered[f"dev-primary-{m.lgcode}-postgres"]
            assert v["postgres_databases"] == ["residents_registry", "tax", "nhi"]
            assert v["postgres_allowed_networks"] == [cfg.subnet("primary", m.address_slot)]
            # its DR standby's exact address on their pair's WAN segment, nothing else
            assert v["postgres_replication_networks"] == [f"{cfg.wan_segment_address(m.address_slot, 'standby')}/32"]
            assert v["postgres_memory_mb"] == memory_budget_mb(m.population)
            pg = containers[f"mc-dev-primary-{m.lgcode}-postgres"]
            paths = {f["path"]: f for f in pg["files"]}
            assert paths[f"{CONFIG_DIR}/pg_hba.conf"]["content"] == "# mock pg_hba.conf"
            assert paths[f"{CONFIG_DIR}/postgresql.conf"]["mode"] == 0o444
            assert pg["reload"] == RELOAD
        # no two clusters (primaries and DR standbys, the hub's two included) share an allowed network
        nets = [v["postgres_allowed_networks"][0] for v in rendered.values()]
        assert len(set(nets)) == len(nets) == 2 * len(cfg.municipalities) + 2

    return _check_dev_program(dev_raw, check)


def test_each_dr_standby_mirrors_its_primary_configuration_for_its_own_networks(dev_raw):
    def check(cfg, rendered, containers):
        for m in cfg.municipalities:
            primary, standby = rendered[f"dev-primary-{m.lgcode}-postgres"], rendered[f"dev-dr-{m.lgcode}-standby"]
            assert standby["postgres_memory_mb"] == primary["postgres_memory_mb"]  # max_connections alike
            assert standby["postgres_allowed_networks"] == [cfg.subnet("dr", m.address_slot)] != primary["postgres_allowed_networks"]
            # each side admits the other's exact address: after a failover the roles swap
            assert standby["postgres_replication_networks"] == [f"{cfg.wan_segment_address(m.address_slot, 'primary')}/32"]
            pg = containers[f"mc-dev-dr-{m.lgcode}-postgres"]
            assert f"{CONFIG_DIR}/pg_hba.conf" in {f["path"] for f in pg["files"]} and pg["reload"] == RELOAD
        # the hub's standby likewise mirrors the hub's primary
        hub, hub_standby = rendered["dev-primary-hub-postgres"], rendered["dev-dr-hub-standby"]
        assert hub_standby["postgres_memory_mb"] == hub["postgres_memory_mb"] == HUB_MEMORY_MB
        assert hub_standby["postgres_allowed_networks"] == [cfg.subnet("dr", kind="hub")]
        assert hub_standby["postgres_replication_networks"] == [f"{cfg.wan_segment_address('hub', 'primary')}/32"]
        assert containers["mc-dev-dr-hub-postgres"]["reload"] == RELOAD

    return _check_dev_program(dev_raw, check)


def test_the_hub_cluster_is_configured_by_the_same_role_for_its_one_database(dev_raw):
    def check(cfg, rendered, containers):
        v = rendered["dev-primary-hub-postgres"]
        assert v["postgres_databases"] == [HUB_DB]
        assert v["postgres_allowed_networks"] == [cfg.subnet("primary", kind="hub")]
        assert v["postgres_replication_networks"] == [f"{cfg.wan_segment_address('hub', 'standby')}/32"]
        pg = containers["mc-dev-primary-hub-postgres"]
        paths = {f["path"] for f in pg["files"]}
        assert {f"{CONFIG_DIR}/pg_hba.conf", f"{CONFIG_DIR}/postgresql.conf"} <= paths and pg["reload"] == RELOAD

    return _check_dev_program(dev_raw, check)


def test_memory_budget_grows_with_population_and_is_capped():
    assert memory_budget_mb(2500) == 306 and memory_budget_mb(18818) == 632
    assert memory_budget_mb(10_000_000) == 2048


def test_repository_schedule_and_retention_come_from_the_sla_config(dev_raw):
    dev_raw["sla"] = {**(dev_raw.get("sla") or {}), "backup_full_every_hours": 48, "backup_diff_every_hours": 6,
                      "backup_retention_full": 4}
    made = compose(dev_raw)
    v = _rendered(made, "pgbackrest")["dev-dr-backup-repo"]
    assert (v["pgbackrest_full_every_hours"], v["pgbackrest_diff_every_hours"]) == (48, 6)
    assert (v["pgbackrest_retention_full"], v["pgbackrest_retention_diff"]) == (4, 6)
    assert not any("cipher" in k or "pass" in k for k in v)
    repo = next(i for k, _n, i in made.created if k == "Container" and i["name"] == "mc-dev-dr-backup-repo")
    assert repo["reload"] and "MC_PGBACKREST_FULL_EVERY_MIN" not in repo["env"]


def test_schedule_defaults_are_weekly_full_daily_differential(dev_raw):
    sla = load("dev", dev_raw).sla
    assert (sla.backup_full_every_hours, sla.backup_diff_every_hours) == (168, 24)


@pytest.mark.parametrize("sla,message", [
    ({"backup_full_every_hours": 24, "backup_diff_every_hours": 24}, "backup_diff_every_hours must be below"),
    ({"backup_full_every_hours": -1}, "greater than or equal to 0"),
    ({"backup_diff_every_hours": "daily"}, "valid integer"),
])
def test_bad_schedule_is_refused_naming_the_key(dev_raw, sla, message):
    dev_raw["sla"] = {**(dev_raw.get("sla") or {}), **sla}
    with pytest.raises(ConfigError) as err:
        load("dev", dev_raw)
    assert err.value.key.startswith("municloud:sla") and message in str(err.value)
    assert any(k in str(err.value) for k in sla)


def test_twin_no_schedule_is_accepted(dev_raw):
    dev_raw["sla"] = {**(dev_raw.get("sla") or {}), "backup_full_every_hours": 0, "backup_diff_every_hours": 0}
    assert load("dev", dev_raw).sla.backup_full_every_hours == 0
