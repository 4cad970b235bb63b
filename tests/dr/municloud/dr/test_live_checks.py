"""testinfra checks of a running DR setup: archiving, standby, replication, lag, encryption,
no passphrase in any container environment."""

import json

import pytest
import testinfra

from municloud.dr import postgres as pg
from municloud.dr.status import stack_status

pytestmark = pytest.mark.dr

LG = "053031"


def host(name: str, user: str = "postgres"):
    return testinfra.get_host(f"docker://{user}@{name}")


def test_pgbackrest_check_passes(shared_lab):
    lab, inv = shared_lab
    repo = host(inv.backup_repo().name)
    out = repo.run(f"pgbackrest --stanza={LG} check")
    assert out.rc == 0, out.stderr
    assert "check command end: completed successfully" in out.stdout + out.stderr


def test_standby_is_in_recovery_and_primary_is_not(shared_lab):
    lab, inv = shared_lab
    sql = "psql -XAtc 'SELECT pg_is_in_recovery()'"
    assert host(lab.db_name("dr", LG)).check_output(sql) == "t"
    assert host(lab.db_name("primary", LG)).check_output(sql) == "f"


def test_replication_connected_synchronously_with_lag_under_bound(shared_lab):
    lab, inv = shared_lab
    rows = pg.replication(inv.database("primary", LG))
    assert [(r.application_name, r.state, r.sync_state) for r in rows] == [(lab.db_name("dr", LG), "streaming", "sync")]
    assert rows[0].lag_bytes < 16 * 1024 * 1024
    assert rows[0].lag_seconds < 5.0


def test_repository_is_encrypted(shared_lab):
    lab, inv = shared_lab
    repo = host(inv.backup_repo().name)
    info = json.loads(repo.check_output("pgbackrest --output=json info"))
    assert {s["name"]: s["cipher"] for s in info} == {LG: "aes-256-cbc"}
    # The info file on disk is ciphertext (OpenSSL "Salted__" header), not pgBackRest's INI text.
    content = repo.file(f"/var/lib/pgbackrest/backup/{LG}/backup.info").content
    assert content[:8] == b"Salted__"
    assert b"[backrest]" not in content and b"[db]" not in content


def test_no_plain_text_passphrase_in_any_container_environment(shared_lab):
    lab, inv = shared_lab
    passphrase = lab.cipher_file.read_text().split("repo1-cipher-pass=", 1)[1].strip()
    # twin: the passphrase does exist, in the repository's mounted secret file (so the search is real)
    assert host(inv.backup_repo().name).file("/run/secrets/pgbackrest/cipher.conf").contains(passphrase)
    containers = inv.find()
    assert len(containers) >= 3
    for c in containers:
        c.reload()
        env = "\n".join(c.attrs["Config"]["Env"] or [])
        assert passphrase not in env, c.name
        assert passphrase not in json.dumps(c.attrs["Config"]["Labels"]), c.name
        assert passphrase not in host(c.name, "root").check_output("cat /proc/1/environ | tr '\\0' '\\n'"), c.name


def test_status_reports_active_site_mode_lag_and_backup(shared_lab):
    lab, inv = shared_lab
    [status] = stack_status(inv)
    assert (status.lgcode, status.active_site, status.mode) == (LG, "primary", "synchronous")
    assert status.standby_state == "streaming (sync)"
    assert status.lag_bytes is not None and status.lag_bytes < 16 * 1024 * 1024


def test_cli_status_shows_the_lab_and_a_missing_stack_exits_3(shared_lab):
    from typer.testing import CliRunner

    from municloud.cli.main import app

    lab, inv = shared_lab
    ok = CliRunner().invoke(app, ["dr", "status", "--stack", lab.spec.stack, "--json"])
    assert ok.exit_code == 0, ok.output
    [row] = json.loads(ok.output)
    assert (row["lgcode"], row["active_site"], row["mode"]) == (LG, "primary", "synchronous")
    missing = CliRunner().invoke(app, ["dr", "status", "--stack", "nosuchstack"])
    assert missing.exit_code == 3
    assert "no municipality databases found in stack nosuchstack" in missing.output
