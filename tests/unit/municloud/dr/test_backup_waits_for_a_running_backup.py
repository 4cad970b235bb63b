"""An operator's backup waits out a backup of the same stanza already running (pgBackRest error
050: the repository's schedule holds the lock) instead of failing; any other error fails at once;
a lock held past the wait fails naming the wait. pgBackRest is answered by a recording stand-in of
the repository container (the live path: tests/dr/municloud/backup/test_backup.py)."""

from __future__ import annotations

import json

import pytest

from municloud_ops.backup import pgbackrest as br

pytestmark = pytest.mark.unit

LOCKED = (50, b"P00  ERROR: [050]: unable to acquire lock on file '/tmp/pgbackrest/053031-backup.lock': "
              b"Resource temporarily unavailable\n")
INFO = json.dumps([{"name": "053031", "backup": [{"label": "20261204-040000F", "type": "full",
                                                   "timestamp": {"start": 1, "stop": 2}}]}]).encode()


class Repo:
    """The repository container: answers each `pgbackrest ... backup` from ``answers`` in turn."""

    def __init__(self, answers):
        self.answers, self.backups = list(answers), 0

    def exec_run(self, cmd, user=None):
        if cmd[-1] == "backup":
            self.backups += 1
            return self.answers.pop(0)
        return 0, INFO


class Inv:
    def __init__(self, repo):
        self.repo = repo

    def backup_repo(self):
        return self.repo


def test_a_running_backup_is_waited_out_then_this_one_runs():
    repo, lines, slept = Repo([LOCKED, LOCKED, (0, b"")]), [], []
    step = br.run_backup(Inv(repo), "053031", "full", progress=lines.append, sleep=slept.append)
    assert repo.backups == 3 and slept == [2.0, 4.0]
    assert step.sentence.startswith("full backup 20261204-040000F of 053031 in ")
    assert step.sentence.endswith("(waited 6 s for a backup of it already running)")
    assert lines == ["backup of 053031: another backup of it is running; waiting (0 s of at most 900 s)",
                     "backup of 053031: another backup of it is running; waiting (2 s of at most 900 s)"]


def test_twin_no_lock_no_wait():
    repo, slept = Repo([(0, b"")]), []
    step = br.run_backup(Inv(repo), "053031", sleep=slept.append)
    assert repo.backups == 1 and not slept and "waited" not in step.sentence


def test_another_error_fails_at_once():
    repo, slept = Repo([(55, b"P00  ERROR: [055]: unable to load info file\n")]), []
    with pytest.raises(br.BackupError, match=r"\[055\]") as exc:
        br.run_backup(Inv(repo), "053031", sleep=slept.append)
    assert repo.backups == 1 and not slept and "waiting" not in str(exc.value)


def test_a_lock_held_past_the_wait_fails_naming_the_wait():
    repo, slept = Repo([LOCKED] * 5), []
    with pytest.raises(br.BackupError, match=r"still held its lock after 6 s of waiting"):
        br.run_backup(Inv(repo), "053031", lock_wait_s=5, sleep=slept.append)
    assert slept == [2.0, 4.0] and repo.backups == 3
