"""Which of a service container's files take effect without a restart, and the deploy's check.

The key registry (``/etc/municloud/platform-keys.yaml``) is re-read by the running service
(municloud.platform.WatchedKeyRegistry): a municipality joining or leaving changes it in every
other member's services and in the hub. Every other file (database password, TLS CA, signing
key, parameters) is read once at start. A service with more hot files (the hub's routing table)
passes its own ``hot`` mapping: path -> the loader that must accept the file.

At start a service records the fingerprint of its start-time files (``record_start``). When a
deploy copies changed files into the running container, the Container provider runs
``python -m municloud.service.hot_files`` (its ``reload`` command): exit 0 when only hot files
changed and they parse (the service picks them up itself), 75 when a start-time file changed
(the provider then restarts the container in place), 1 with the reason when a hot file is bad.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path


def _key_registry(path: Path) -> object:
    from municloud.platform import KeyRegistry

    return KeyRegistry.load(path)


#: hot file -> the loader that must accept it before it is applied
HOT_FILES: Mapping[Path, Callable[[Path], object]] = {Path("/etc/municloud/platform-keys.yaml"): _key_registry}
START_DIRS = (Path("/run/secrets"), Path("/etc/municloud"))
MANIFEST = Path("/tmp/mc-start-files.json")
RESTART = 75


def fingerprint(dirs=START_DIRS, hot=HOT_FILES) -> dict[str, str]:
    """sha256 of every regular file under ``dirs`` except the hot ones (path -> digest)."""
    out = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(p for p in d.rglob("*") if p.is_file() and p not in hot):
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def record_start(manifest: Path = MANIFEST, dirs=START_DIRS, hot=HOT_FILES) -> None:
    """Called once by a service at start (best effort: a missing manifest means 'restart')."""
    try:
        manifest.write_text(json.dumps(fingerprint(dirs, hot)))
    except OSError:
        pass


def check(manifest: Path = MANIFEST, dirs=START_DIRS, hot=HOT_FILES) -> tuple[int, str]:
    """(exit code, sentence) for the files as they are now."""
    for path in hot:
        if path.exists():
            try:
                (hot[path] if isinstance(hot, Mapping) else _key_registry)(path)
            except Exception as exc:  # noqa: BLE001 - any parse error is a refusal
                return 1, f"hot file {path} is invalid ({type(exc).__name__}: {exc}); nothing applied"
    try:
        at_start = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return RESTART, f"no start-time fingerprint in {manifest}: restart to apply the new files"
    now = fingerprint(dirs, hot)
    changed = sorted(set(at_start) ^ set(now) | {p for p in now if at_start.get(p) != now[p]})
    if changed:
        return RESTART, f"start-time file(s) changed ({', '.join(changed)}): restart"
    return 0, f"only hot files changed ({', '.join(str(p) for p in hot)}): re-read by the running service"


def main(hot=HOT_FILES) -> int:
    code, sentence = check(hot=hot)
    print(sentence)
    return code


if __name__ == "__main__":
    sys.exit(main())
