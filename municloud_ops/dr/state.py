"""Operator-side state of DR operations (last verify result per municipality), kept as JSON files
under $MC_STATE/dr/<stack>/ (default .state/ in the repository)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from municloud_ops.images import STATE_DIR


def state_dir(stack: str) -> Path:
    d = STATE_DIR / "dr" / stack
    d.mkdir(parents=True, exist_ok=True)
    return d


def record_verify(stack: str, lgcode: str, result: str, detail: dict) -> None:
    entry = {"result": result, "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **detail}
    (state_dir(stack) / f"verify-{lgcode}.json").write_text(json.dumps(entry, ensure_ascii=False, indent=2))


def last_verify(stack: str, lgcode: str) -> dict | None:
    path = STATE_DIR / "dr" / stack / f"verify-{lgcode}.json"
    return json.loads(path.read_text()) if path.exists() else None
