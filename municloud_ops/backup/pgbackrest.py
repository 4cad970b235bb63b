"""pgBackRest commands run inside the repository container (``docker exec``); the cipher
passphrase stays in its mounted include file."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

from municloud_ops.dr.inventory import Inventory
from municloud_ops.dr.steps import StepFailed, StepResult, Stopwatch

BACKUP_TYPES = ("full", "diff", "incr")
#: pgBackRest's answer when another backup of the stanza holds its lock (error 050): the
#: repository's own schedule (roles/pgbackrest) or another operator's command
LOCK_HELD = re.compile(r"ERROR: \[050\]: unable to acquire lock")
#: how long an operator's backup waits for a backup of the same stanza already running
LOCK_WAIT_S = 900


class BackupError(RuntimeError):
    """A pgBackRest command failed; the message carries pgBackRest's own error lines."""


def _stanza_ok(stanza: str) -> str:
    if not re.fullmatch(r"[a-z0-9_-]+", stanza):
        raise ValueError(f"stanza: invalid name {stanza!r}")
    return stanza


def run_pgbackrest(container, args: list[str], timeout_s: int = 1800) -> str:
    rc, out = container.exec_run(["timeout", str(timeout_s), "pgbackrest", *args], user="postgres")
    text = out.decode(errors="replace")
    if rc != 0:
        errors = [line for line in text.splitlines() if "ERROR" in line or "WARN" in line] or text.splitlines()[-5:]
        raise BackupError(f"pgbackrest {' '.join(args)} failed (exit {rc}): " + " | ".join(errors)[-1500:])
    return text


def info(inv: Inventory, stanza: str | None = None) -> list[dict]:
    args = ["--output=json", "info"] + ([f"--stanza={_stanza_ok(stanza)}"] if stanza else [])
    return json.loads(run_pgbackrest(inv.backup_repo(), args))


def latest_backups(inv: Inventory) -> dict[str, dict]:
    """stanza -> {"label", "type", "stop" (epoch s)} of its newest backup."""
    out = {}
    for st in info(inv):
        if st.get("backup"):
            b = st["backup"][-1]
            out[st["name"]] = {"label": b["label"], "type": b["type"], "stop": b["timestamp"]["stop"]}
    return out


def run_backup(inv: Inventory, stanza: str, backup_type: str = "full", lock_wait_s: float = LOCK_WAIT_S,
               progress: Callable[[str], None] | None = None, sleep: Callable[[float], None] = time.sleep) -> StepResult:
    """One backup of ``stanza``. A backup of the same stanza already running (the repository's
    schedule, pgBackRest error 050) is waited out, up to ``lock_wait_s``, then this one runs: two
    backups of a stanza never run at once, and an operator's backup is not refused for it."""
    if backup_type not in BACKUP_TYPES:
        raise ValueError(f"type: must be one of {', '.join(BACKUP_TYPES)} (got {backup_type!r})")
    args = [f"--stanza={_stanza_ok(stanza)}", f"--type={backup_type}", "backup"]
    with Stopwatch() as t:
        waited, pause = 0.0, 2.0
        while True:
            try:
                run_pgbackrest(inv.backup_repo(), args)
                break
            except BackupError as e:
                if not LOCK_HELD.search(str(e)) or waited >= lock_wait_s:
                    if LOCK_HELD.search(str(e)):
                        raise BackupError(f"{e} (another backup of {stanza} still held its lock after "
                                          f"{waited:.0f} s of waiting)") from e
                    raise
                if progress is not None:
                    progress(f"backup of {stanza}: another backup of it is running; waiting "
                             f"({waited:.0f} s of at most {lock_wait_s:.0f} s)")
                sleep(pause)
                waited += pause
                pause = min(pause * 2, 15.0)
        label = info(inv, stanza)[0]["backup"][-1]["label"]
    after = f" (waited {waited:.0f} s for a backup of it already running)" if waited else ""
    return StepResult(f"{backup_type} backup {label} of {stanza} in {t.seconds:.1f} s{after}", t.seconds)


def check(inv: Inventory, stanza: str) -> StepResult:
    """`pgbackrest check`: archiving works end to end (forces a WAL switch and waits for it)."""
    with Stopwatch() as t:
        run_pgbackrest(inv.backup_repo(), [f"--stanza={_stanza_ok(stanza)}", "check"])
    return StepResult(f"archive check of {stanza} passed in {t.seconds:.1f} s", t.seconds)


def verify_repository(inv: Inventory, stanza: str) -> StepResult:
    """`pgbackrest verify`: every backup file and WAL segment against its recorded checksum."""
    with Stopwatch() as t:
        try:
            out = run_pgbackrest(inv.backup_repo(), [f"--stanza={_stanza_ok(stanza)}", "verify",
                                                     "--log-level-console=detail"])
        except BackupError as e:
            raise StepFailed(f"backup repository of {stanza} is corrupted: {e}") from e
    invalid = [line for line in out.splitlines() if "invalid" in line.lower() and "0 invalid" not in line.lower()]
    bad = [line for line in invalid if re.search(r"(checksum|size|missing|invalid)", line, re.I)]
    if bad:
        raise StepFailed(f"backup repository of {stanza} is corrupted: " + " | ".join(bad)[-1000:])
    return StepResult(f"repository files of {stanza} match their checksums ({t.seconds:.1f} s)", t.seconds)
