"""Shape of BackupRepository and DrStandby under pulumi.runtime.set_mocks: names, labels, modes,
and the repository passphrase only ever as a 0400 file (never env, never a label)."""

from __future__ import annotations

import pulumi
import pytest

from test_program import Mocks  # same directory (pytest rootdir-relative import)

pytestmark = pytest.mark.unit


@pytest.fixture
def built():
    from stacks.backup_repository import BackupRepository, BackupRepositoryArgs
    from stacks.dr_standby import DrStandby, DrStandbyArgs, primary_postgres_env
    from stacks.providers.network import Network
    from stacks.providers.pki import CertificateAuthority
    from stacks.providers.secrets import RandomPassword

    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="municloud", stack="dev", preview=False)
    ca = CertificateAuthority("ca", common_name="test CA")
    wan = Network("wan", name="mc-dev-wan", docker_host="unix:///x", labels={}, internal=True, subnet="10.201.254.0/24")
    net = Network("drnet", name="mc-dev-dr-053031", docker_host="unix:///x", labels={}, internal=True,
                  subnet="10.201.101.0/24")
    repo = BackupRepository("repo", BackupRepositoryArgs(
        stack="dev", site="dr", docker_host="unix:///x", image="municloud/postgres:mock", ca=ca, wan_network=wan,
        stanzas={"053031": ["mc-dev-primary-053031-postgres", "mc-dev-dr-053031-postgres"]}, retention_full=3))
    pws = {r: RandomPassword(f"pw-{r}", length=32) for r in ("postgres", "replicator", "tax")}
    standbys = {sync: DrStandby(f"standby-{sync}", DrStandbyArgs(
        stack="dev" if sync else "dev2", site="dr", primary_site="primary", docker_host="unix:///x", lgcode="053031",
        databases=["tax"], passwords=pws, ca=ca, image="municloud/postgres:mock", network=net,
        subnet="10.201.101.0/24", wan_network=wan, wan_subnet="10.201.254.0/24", synchronous=sync,
        backup_repo=repo.container_name)) for sync in (True, False)}
    env = primary_postgres_env("dev", "primary", "dr", "053031", True, repo.container_name)
    return mocks, repo, standbys, env


@pulumi.runtime.test
def test_repository_has_its_names_env_and_passphrase_only_as_a_file(built):
    mocks, repo, _, _ = built

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
    mocks, _, standbys, primary_env = built

    def check(_):
        containers = {i["name"]: i for k, _n, i in mocks.created if k == "Container"}
        sync, async_ = containers["mc-dev-dr-053031-postgres"], containers["mc-dev2-dr-053031-postgres"]
        assert sync["labels"]["municloud.component"] == "standby"
        assert sync["env"]["MC_PG_MODE"] == "standby"
        assert sync["env"]["MC_PG_PEER_HOST"] == "mc-dev-primary-053031-postgres"
        assert sync["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == '"mc-dev-primary-053031-postgres"'
        assert async_["env"]["MC_PG_SYNCHRONOUS_STANDBY_NAMES"] == ""
        assert {n["name"] for n in sync["networks"]} == {"mc-dev-dr-053031", "mc-dev-wan"}
        assert primary_env == {"MC_PG_PEER_HOST": "mc-dev-dr-053031-postgres",
                               "MC_PG_SYNCHRONOUS_STANDBY_NAMES": '"mc-dev-dr-053031-postgres"',
                               "MC_PGBACKREST_STANZA": "053031", "MC_PGBACKREST_REPO_HOST": "mc-dev-dr-backup-repo"}

    return pulumi.Output.all(*(sb.container.container_id for sb in standbys.values())).apply(check)
