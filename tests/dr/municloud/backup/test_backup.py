"""Backups on the live dev stack (the session's `live_stack`, built by `pulumi up` from
Pulumi.dev.yaml): run, verify by restore-and-compare, corruption detected, point-in-time recovery
restores exactly the rows committed before the target, retention by generation from the SLA
config. Every change to the stack is undone or confined to tables of this module."""

import datetime as dt
import re
import time

import pytest

from municloud_ops.backup import pgbackrest as br
from municloud_ops.backup.restore import pitr
from municloud_ops.backup.verify import verify
from municloud_ops.dr import postgres as pg
from municloud_ops.dr.inventory import Inventory
from municloud_ops.dr.state import last_verify
from municloud_ops.dr.steps import StepFailed

pytestmark = [pytest.mark.live, pytest.mark.dr]

LG = "053031"


def backup(inv: Inventory, backup_type: str = "full"):
    """run_backup (it waits out the repository's own schedule holding the stanza's lock)."""
    return br.run_backup(inv, LG, backup_type)


@pytest.fixture(scope="module")
def inv(live_stack) -> Inventory:
    return Inventory(live_stack.name)


@pytest.fixture(scope="module")
def backed_up(inv):
    pg.psql(inv.database("primary", LG), "CREATE TABLE IF NOT EXISTS resident_sample (n int PRIMARY KEY, v text); "
            "INSERT INTO resident_sample SELECT g, md5(g::text) FROM generate_series(1, 500) g "
            "ON CONFLICT DO NOTHING", "residents_registry")
    result = backup(inv, "full")
    return inv, result


def test_backup_run_returns_its_sentence(backed_up):
    _, result = backed_up
    assert re.fullmatch(r"full backup \d{8}-\d{6}F of 053031 in \d+\.\d s", result.sentence)


def test_verify_restores_and_matches_the_source(backed_up):
    inv, _ = backed_up
    result = verify(inv, LG)
    assert re.fullmatch(r"verified backup of 053031: \d+ tables, \d+ rows identical to the source in \d+\.\d s",
                        result.sentence)
    assert last_verify(inv.stack, LG)["result"] == "passed"
    assert not inv.find(component="verify")  # scratch container removed


def test_pitr_restores_exactly_the_rows_committed_before_the_target(backed_up):
    inv, _ = backed_up
    primary = inv.database("primary", LG)
    pg.psql(primary, "DROP TABLE IF EXISTS pitr_probe; CREATE TABLE pitr_probe (n int PRIMARY KEY)",
            "residents_registry")
    pg.psql(primary, "INSERT INTO pitr_probe SELECT generate_series(1, 20)", "residents_registry")
    time.sleep(1.0)
    target = dt.datetime.now(dt.timezone.utc)
    time.sleep(1.0)
    pg.psql(primary, "INSERT INTO pitr_probe SELECT generate_series(21, 30)", "residents_registry")
    br.check(inv, LG)  # archive the WAL that holds both batches
    name, seconds = pitr(inv, LG, target)
    restored = inv.client.containers.get(name)
    try:
        assert pg.psql(restored, "SELECT count(*), min(n), max(n) FROM pitr_probe",
                       "residents_registry") == [["20", "1", "20"]]
        assert pg.scalar(primary, "SELECT count(*) FROM pitr_probe", "residents_registry") == "30"  # source untouched
    finally:
        restored.remove(force=True, v=True)


def test_pitr_refuses_a_naive_or_future_target(backed_up):
    inv, _ = backed_up
    with pytest.raises(ValueError, match="^to: the target time needs a time zone"):
        pitr(inv, LG, dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="^to: the target time is in the future"):
        pitr(inv, LG, dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))


def test_retention_keeps_the_configured_number_of_full_generations(live_stack, inv):
    from stacks.config import DEFAULTS

    keep = (live_stack.config("municloud:sla") or {}).get("backup_retention_full",
                                                         DEFAULTS["sla"]["backup_retention_full"])
    labels = [backup(inv, "full").sentence.split()[2] for _ in range(keep + 1)]
    kept = [b["label"] for b in br.info(inv, LG)[0]["backup"] if b["type"] == "full"]
    assert len(set(labels)) == keep + 1
    assert len(kept) == keep and kept[-1] == labels[-1]  # the newest generations, ours last
    assert labels[0] not in kept  # the oldest of ours expired


def test_verify_detects_a_corrupted_backup_file_and_reports_it(inv):
    label = backup(inv, "full").sentence.split()[2]
    repo = inv.backup_repo()
    rc, out = repo.exec_run(["bash", "-c", f"ls -S /var/lib/pgbackrest/backup/{LG}/{label}/pg_data/base/*/* | head -1"],
                            user="postgres")
    victim = out.decode().strip()
    assert rc == 0 and victim
    saved = f"/tmp/mc-corruption-test-{label}"
    rc, _ = repo.exec_run(["bash", "-c", f"dd if={victim} of={saved} bs=1 skip=64 count=8 status=none && "
                                         f"printf 'XXXXXXXX' | dd of={victim} bs=1 seek=64 conv=notrunc status=none"],
                          user="postgres")
    assert rc == 0
    try:
        with pytest.raises(StepFailed, match="verify of 053031 FAILED"):
            verify(inv, LG)
        assert last_verify(inv.stack, LG)["result"] == "FAILED"
        assert not inv.find(component="verify")  # nothing restored silently
    finally:  # put the original bytes back: the stack's newest backup is whole again
        rc, _ = repo.exec_run(["bash", "-c", f"dd if={saved} of={victim} bs=1 seek=64 conv=notrunc status=none "
                                             f"&& rm -f {saved}"], user="postgres")
        assert rc == 0
    assert verify(inv, LG).sentence.startswith("verified backup of 053031")  # the twin: whole again
