"""pgBackRest commands run inside the repository container (``docker exec``); the cipher
passphrase stays in its mounted include file."""

from __future__ import annotations

import json
import re

from municloud_ops.dr.inventory import Inventory
from municloud_ops.dr.steps import StepFailed, StepResult, Stopwatch

BACKUP_TYPES = ("full", "diff", "incr")


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


def run_backup(inv: Inventory, stanza: str, backup_type: str = "full") -> StepResult:
    if backup_type not in BACKUP_TYPES:
        raise ValueError(f"type: must be one of {', '.join(BACKUP_TYPES)} (got {backup_type!r})")
    with Stopwatch() as t:
        run_pgbackrest(inv.backup_repo(), [f"--stanza={_stanza_ok(stanza)}", f"--type={backup_type}", "backup"])
        label = info(inv, stanza)[0]["backup"][-1]["label"]
    return StepResult(f"{backup_type} backup {label} of {stanza} in {t.seconds:.1f} s", t.seconds)


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
