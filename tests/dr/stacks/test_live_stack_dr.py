"""DR wiring of the LIVE stack (the shared session stack ``live_stack``): every municipality's
PostgreSQL streams to its DR standby in the configured mode, archives to the encrypted backup
repository, and `municloud dr status` / `backup run` work on it.

Read-only towards the stack's state: nothing here fails over, fences or stops a container (other
modules use the same stack in the session); destructive rehearsals, outages and kill -9 run on a
stack of their own (test_dr_rehearsal_stack.py, `citestdr`).
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import testinfra

from municloud_ops.dr import postgres as pg
from municloud_ops.dr.inventory import Inventory

pytestmark = [pytest.mark.live, pytest.mark.dr]

DEV_LGCODES = ("053031", "053279", "053465")  # Pulumi.dev.yaml


def host(name: str, user: str = "postgres"):
    return testinfra.get_host(f"docker://{user}@{name}")


@pytest.fixture(scope="module")
def inv(live_stack) -> Inventory:
    return Inventory(live_stack.name)


@pytest.fixture(scope="module")
def synchronous(live_stack) -> bool:
    sla = live_stack.config("municloud:sla") or {}
    return sla.get("replication_mode", "synchronous") == "synchronous"  # Pulumi.yaml default


@pytest.mark.parametrize("lgcode", DEV_LGCODES)
def test_standby_is_in_recovery_and_primary_is_not(live_stack, lgcode):
    sql = "psql -XAtc 'SELECT pg_is_in_recovery()'"
    standby = live_stack.container("standby", lgcode, site="dr")
    primary = live_stack.container("postgres", lgcode, site="primary")
    assert host(standby.name).check_output(sql) == "t"
    assert host(primary.name).check_output(sql) == "f"  # the twin: the same query tells them apart


@pytest.mark.parametrize("lgcode", DEV_LGCODES)
def test_primary_streams_to_its_own_standby_in_the_configured_mode(live_stack, inv, synchronous, lgcode):
    primary = live_stack.container("postgres", lgcode, site="primary")
    standby = live_stack.container("standby", lgcode, site="dr")
    rows = pg.replication(primary)
    expected_sync = "sync" if synchronous else "async"
    assert [(r.application_name, r.state, r.sync_state) for r in rows] == [(standby.name, "streaming", expected_sync)]
    assert rows[0].lag_bytes < 16 * 1024 * 1024
    # the standby joins only its own DR tenant network and its pair's WAN segment (stacks/wan.py)
    nets = set(standby.attrs["NetworkSettings"]["Networks"])
    assert nets == {f"mc-{live_stack.name}-dr-{lgcode}", f"mc-{live_stack.name}-{lgcode}-wan"}


@pytest.mark.parametrize("lgcode", DEV_LGCODES)
def test_pgbackrest_check_passes_for_each_stanza(inv, lgcode):
    out = host(inv.backup_repo().name).run(f"pgbackrest --stanza={lgcode} check")
    assert out.rc == 0, out.stderr
    assert "check command end: completed successfully" in out.stdout + out.stderr


def test_pgbackrest_check_of_an_unknown_stanza_fails(inv):
    # the twin of the check above: the command does fail when archiving is not set up
    out = host(inv.backup_repo().name).run("pgbackrest --stanza=999999 check")
    assert out.rc != 0


def test_repository_is_encrypted(inv):
    repo = host(inv.backup_repo().name)
    info = json.loads(repo.check_output("pgbackrest --output=json info"))
    assert {s["name"]: s["cipher"] for s in info} == {lg: "aes-256-cbc" for lg in (*DEV_LGCODES, "hub")}
    content = repo.file(f"/var/lib/pgbackrest/backup/{DEV_LGCODES[0]}/backup.info").content
    assert content[:8] == b"Salted__"  # OpenSSL ciphertext, not pgBackRest's INI text
    assert b"[backrest]" not in content and b"[db]" not in content


def test_no_plain_text_passphrase_in_any_container_environment(inv):
    repo = inv.backup_repo()
    conf = host(repo.name).check_output("cat /run/secrets/pgbackrest/cipher.conf")
    passphrase = conf.split("repo1-cipher-pass=", 1)[1].strip()
    assert len(passphrase) >= 32  # the twin: the secret exists, in the repository's mounted file
    containers = inv.find()
    assert len(containers) >= 1 + 2 * len(DEV_LGCODES)
    for c in containers:
        c.reload()
        assert passphrase not in "\n".join(c.attrs["Config"]["Env"] or []), c.name
        assert passphrase not in json.dumps(c.attrs["Config"]["Labels"]), c.name
        if c.status == "running":
            environ = host(c.name, "root").check_output("cat /proc/1/environ | tr '\\0' '\\n'")
            assert passphrase not in environ, c.name


def test_a_write_on_the_primary_is_visible_on_the_standby(live_stack):
    lgcode = DEV_LGCODES[0]
    primary = live_stack.container("postgres", lgcode, site="primary")
    standby = live_stack.container("standby", lgcode, site="dr")
    table = f"mc_drcheck_{uuid.uuid4().hex[:10]}"  # the postgres db: no service's data is touched
    marker = uuid.uuid4().hex
    pg.psql(primary, f"CREATE TABLE {table} (v text); INSERT INTO {table} VALUES ('{marker}')")
    try:
        seen, deadline = [], time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                seen = pg.psql(standby, f"SELECT v FROM {table}")
                break
            except pg.SqlError:  # not replayed yet
                time.sleep(0.2)
        assert seen == [[marker]]
        with pytest.raises(pg.SqlError):  # the twin: the standby refuses writes (read-only, in recovery)
            pg.psql(standby, f"INSERT INTO {table} VALUES ('x')")
    finally:
        pg.psql(primary, f"DROP TABLE IF EXISTS {table}")


def test_backup_run_then_dr_status_shows_streaming_and_the_backup(live_stack, synchronous):
    from typer.testing import CliRunner

    from municloud_ops.cli.main import app

    runner = CliRunner()
    lgcode = DEV_LGCODES[0]
    for _attempt in range(6):
        ran = runner.invoke(app, ["backup", "run", "--stack", live_stack.name, "--lgcode", lgcode, "--type", "incr"])
        # the repository's own schedule (SLA full/diff) may hold the stanza's lock for a few seconds
        if ran.exit_code == 0 or "lock" not in ran.output:
            break
        time.sleep(10)
    assert ran.exit_code == 0, ran.output
    assert "incr backup" in ran.output and f"of {lgcode} in" in ran.output
    label = ran.output.split("incr backup ", 1)[1].split()[0]
    out = runner.invoke(app, ["dr", "status", "--stack", live_stack.name, "--json"])
    assert out.exit_code == 0, out.output
    status = {s["lgcode"]: s for s in json.loads(out.output)}
    assert sorted(status) == sorted([*DEV_LGCODES, "hub"])  # the platform hub's cluster is one more row
    mode = "synchronous" if synchronous else "asynchronous"
    for lg, s in status.items():
        assert (s["active_site"], s["mode"]) == ("primary", mode), s
        assert s["standby_state"] == f"streaming ({'sync' if synchronous else 'async'})", s
    assert status[lgcode]["last_backup"] and label  # the newest: ours, or a scheduled one after it
    assert 0 <= status[lgcode]["last_backup_age_seconds"] < 600
    # the twin: a stack with no containers is reported as missing (exit 3), not as healthy
    missing = runner.invoke(app, ["dr", "status", "--stack", f"nosuch{uuid.uuid4().hex[:6]}"])
    assert missing.exit_code == 3, missing.output
