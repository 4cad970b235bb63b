"""A configuration file a running service re-reads when a deploy changes it (hot file).

The key registry of every service (signing.WatchedKeyRegistry) and the hub's routing table
(services/platform_hub/routing.py) are read through it: at start a file that does not load is an
error; later a change is loaded on the next use, and a file that does not load leaves the previous
value in force (the error logged by name, never by content). municloud.service.hot_files checks a
changed file before the deploy applies it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import yaml

T = TypeVar("T")
_log = logging.getLogger(__name__)


class WatchedFile(Generic[T]):
    """``load(path)``'s value, loaded again when the file's (mtime, size, inode) changes."""

    def __init__(self, path: str | os.PathLike, load: Callable[[Path], T], what: str) -> None:
        self.path, self._load, self.what = Path(path), load, what
        self._stamp: tuple[int, int, int] | None = None
        self.value: T
        self.refresh()  # at start a bad file is an error

    def refresh(self) -> bool:
        """Load the file again if it changed; True when it did (an error propagates)."""
        st = self.path.stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return False
        self.value, self._stamp = self._load(self.path), stamp
        return True

    def current(self) -> T:
        """The value to use now: the file's if it changed and loads, else the previous one."""
        try:
            if self.refresh():
                _log.info("%s %s re-read", self.what, self.path)
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
            _log.error("%s %s not re-read (%s): the previous one stays in force",
                       self.what, self.path, type(exc).__name__)
        return self.value
