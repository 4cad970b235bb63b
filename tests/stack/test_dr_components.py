"""Shape of BackupRepository and a PostgresCluster pair under pulumi.runtime.set_mocks: names,
labels, modes, the pairing's environment on both sides, and the repository passphrase only ever
as a 0400 file (never env, never a label)."""

from __future__ import annotations

import pulumi
import pytest

from mocked_program import Mocks  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit


def _pair(stack: str, sync: bool, ca, wan, repo):
    """A member's primary cluster paired with its standby at the DR site (as the sites make them)."""
    from stacks.postgres_cluster import PostgresCluster, PostgresClusterArgs, StandbyPairing
    from stacks.providers.network import Network

    nets = {site: Network(f"{stack}-{site}-net", name=f"mc-{stack}-{site}-053031", docker_host="unix:///x",
                          labels={}, internal=True, subnet=subnet)
            for site, subnet in (("primary", "10.201.1.0/24"), ("dr", "10.201.101.0/24"))}
    common = dict(stack=stack, docker_host="unix:///x", lgcode="053031", databases=["tax"], ca=ca,
                  image="municloud/postgres:mock", memory_mb=256, wan_network=wan, wan_subnet="10.201.254.0/24")
    primary = PostgresCluster(f"{stack}-primary", PostgresClusterArgs(
        site="primary", network=nets["primary"], subnet="10.201.1.0/24",
        pairing=StandbyPairing(site="dr", synchronous=sync, backup_repo=repo.container_name), **common))
    standby = PostgresCluster(f"{stack}-standby", PostgresClusterArgs(
        site="dr", network=nets["dr"], subnet="10.201.101.0/24", standby_of=primary, **common))
    return primary, standby


@pytest.fixture
def built():
    from stacks.backup_repository import BackupRepository, BackupRepositoryArgs
    from stacks.providers.network import Network
    from stacks.providers.pki import CertificateAuthority

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="municloud", stack="dev", preview=False)
    ca = CertificateAuthority("ca", common_name="test CA")
    wan = Network("wan", name="mc-dev-wan", docker_host="unix:///x", labels={}, internal=True, subnet="10.201.254.0/24")
    repo = BackupRepository("repo", BackupRepositoryArgs(
        stack="dev", site="dr", docker_host="unix:///x", image="municloud/postgres:mock", ca=ca, wan_network=wan,
        stanzas={"053031": ["mc-dev-primary-053031-postgres", "mc-dev-dr-053031-postgres"]}, retention_full=3))
    pairs = {sync: _pair("dev" if sync else "dev2", sync, ca, wan, repo) for sync in (True, False)}
    return mocks, repo, pairs


@pulumi.runtime.test
def test_repository_has_its_names_env_and_passphrase_only_as_a_file(built):
    mocks, repo, _ = built

    def check(_):
        c = next(i for k, _n, i in mocks.created if k == "Container" and i["name"] == "mc-dev-dr-backup-repo")
        assert c["labels"] == {"municloud.stack": "dev", "municloud.site": "dr", "municloud.lgcode": "shared",
                               "municloud.component": "backup_repo"}
        assert [n["name"] for n in c["networks"]] == ["mc-dev-wan"]
        assert c["env"] == {"MC_PG_MODE": "repo"}  # stanzas, retention, schedule: roles/pgbackrest
        cfg = next(i for k, _n, i in mocks.created if k == "RenderedConfig" and i["role"] == "pgbackrest")
        assert cfg["variables"]["pgbackrest_stanzas"] == [
            {"name": "053031", "hosts": ["mc-dev-primary-053031-postgres", "mc-dev-dr-053031-postgres"], "port": 5432}]
        assert cfg["variables"]["pgbackrest_retention_full"] == 3
        assert {f["path"] for f in c["files"]} >= {"/etc/municloud/pgbackrest/pgbackrest.conf",
                                                    "/etc/municloud/pgbackrest/schedule.conf"}
        cipher = next(f for f in c["files"] if f["path"] == "/run/secrets/pgbackrest/cipher.conf")
        passphrase = cipher["content"].split("repo1-cipher-pass=")[1].strip()
        assert len(passphrase) == 64 and (cipher["mode"], cipher["uid"]) == (0o400, 999)
        assert passphrase not in repr(c["env"]) and passphrase not in repr(c["labels"])

    return repo.container.container_id.apply(check)


@pulumi.runtime.test
def test_standby_streams_from_its_primary_in_the_configured_mode(built):
    mocks, _, pairs = built

    def check(_):
        containers = {i["name"]: i for k, _n, i in mocks.created if k == "Container"}
        sync, async_ = containers["mc-dev-dr-053031-postgres"], containers["mc-dev2-dr-053031-postgres"]
        assert sync["labels"]["municloud.component"] == "standby"
        assert sync["env"]["MC_PG_MODE"] == "standby"
        assert sync["env"]["MC_PG_PEER_HOST"] == "mc-dev-primary-053031-postgres"
        assert sync["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == '"mc-dev-primary-053031-postgres"'
        assert async_["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == ""
        assert {n["name"] for n in sync["networks"]} == {"mc-dev-dr-053031", "mc-dev-wan"}
        primary = containers["mc-dev-primary-053031-postgres"]
        assert primary["labels"]["municloud.component"] == "postgres"
        assert {k: v for k, v in primary["env"].items() if k.startswith(("MC_PG_PEER", "MC_PG_SYNC", "MC_PGBACKREST"))} \
            == {"MC_PG_PEER_HOST": "mc-dev-dr-053031-postgres",
                "MC_PG_SYNCHRONOUS_STANDBY_NAMES": '"mc-dev-dr-053031-postgres"',
                "MC_PGBACKREST_STANZA": "053031", "MC_PGBACKREST_REPO_HOST": "mc-dev-dr-backup-repo"}
        assert containers["mc-dev2-primary-053031-postgres"]["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == ""

    return pulumi.Output.all(*(s.container.container_id for _p, s in pairs.values())).apply(check)


@pulumi.runtime.test
def test_the_standby_shares_its_primary_passwords_and_nothing_else(built):
    mocks, _, pairs = built
    primary, standby = pairs[True]
    assert standby.passwords is primary.passwords
    assert standby.cert is not primary.cert and standby.volume is not primary.volume
    names = [n for k, n, _i in mocks.created if k == "RandomPassword"]
    assert len(names) == len(set(names))  # the standby made none of its own


def test_a_standby_of_an_unpaired_primary_is_refused():
    from stacks.postgres_cluster import PostgresCluster, PostgresClusterArgs, StandbyPairing
    from stacks.providers.network import Network
    from stacks.providers.pki import CertificateAuthority

    pulumi.runtime.set_mocks(Mocks(), project="municloud", stack="dev", preview=False)
    ca = CertificateAuthority("ca", common_name="test CA")
    net = Network("net", name="mc-dev-primary-053031", docker_host="unix:///x", labels={}, internal=True,
                  subnet="10.201.1.0/24")
    wan = Network("wan", name="mc-dev-wan", docker_host="unix:///x", labels={}, internal=True, subnet="10.201.254.0/24")
    common = dict(stack="dev", docker_host="unix:///x", lgcode="053031", databases=["tax"], network=net,
                  subnet="10.201.1.0/24", ca=ca, image="municloud/postgres:mock", memory_mb=256)
    lonely = PostgresCluster("lonely", PostgresClusterArgs(site="primary", **common))
    with pytest.raises(ValueError, match="needs its primary made with a pairing to dr"):
        PostgresCluster("orphan", PostgresClusterArgs(site="dr", standby_of=lonely, wan_network=wan, **common))
    with pytest.raises(ValueError, match="DR pairing needs the WAN network"):  # pairing without the WAN
        PostgresCluster("no-wan", PostgresClusterArgs(site="primary", pairing=StandbyPairing("dr", True), **common))
    # the allowed twin: paired, with the WAN, the standby is made
    paired = PostgresCluster("paired", PostgresClusterArgs(site="primary", pairing=StandbyPairing("dr", True),
                                                           wan_network=wan, **{**common, "lgcode": "053279"}))
    standby = PostgresCluster("standby", PostgresClusterArgs(site="dr", standby_of=paired, wan_network=wan,
                                                             **{**common, "lgcode": "053279"}))
    assert standby.container_name == "mc-dev-dr-053279-postgres"
