"""Find secrets in bytes: PEM private key blocks (with a body, so the header strings inside TLS
libraries do not count), uncommented `cipher-pass=` lines, and literal password / passphrase /
secret / token assignments. Also: the filesystem of an image, streamed from `docker export`."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterable, Iterator

PATTERNS = {
    "pem-private-key": re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----\s*[A-Za-z0-9+/=\s]{40,}?-----END"),
    "cipher-pass": re.compile(rb"(?im)^[ \t]*[\w-]*cipher-pass[ \t]*=[ \t]*\S+"),
    "literal-password": re.compile(
        rb"""(?im)^(?![ \t]*#).*?(?:password|passphrase|secret|api_key|token)\b["']?[ \t]*[:=][ \t]*"""
        rb"""["']([^"'\s$%{}<>()]{8,})["']"""),
}
MAX_FILE_BYTES = 4 * 1024 * 1024
# In an image, literal-password matches count only where configuration and our own code live:
# third-party docstrings (pydantic's "password1" examples) are not secrets. Compiled code
# (ELF, .pyc) is skipped: TLS libraries embed their self-test keys.
CONFIG_PREFIXES = ("etc/", "run/", "root/", "home/", "srv/", "var/lib/postgresql/", "app/",
                   "opt/venv/lib/python3.11/site-packages/municloud/",
                   "opt/venv/lib/python3.11/site-packages/services/",
                   "opt/venv/lib/python3.11/site-packages/stacks/")


def find_secrets(data: bytes, exact: Iterable[bytes] = ()) -> list[tuple[str, bytes]]:
    """(kind, excerpt) of every secret-looking match; `exact` adds known secret values."""
    hits = [(kind, m.group()[:60]) for kind, pattern in PATTERNS.items() for m in pattern.finditer(data)]
    hits += [("known-secret", value[:4] + b"...") for value in exact if value and value in data]
    return hits


class _ChunkReader(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._buffer = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            self._buffer = next(self._chunks, b"")
            if not self._buffer:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n], self._buffer = self._buffer[:n], self._buffer[n:]
        return n


def scan_container_filesystem(container) -> tuple[int, list[tuple[str, str, bytes]]]:
    """(files scanned, [(path, kind, excerpt)]) over every regular file up to MAX_FILE_BYTES."""
    reader = io.BufferedReader(_ChunkReader(iter(container.export(chunk_size=1 << 20))), 1 << 20)
    scanned, hits = 0, []
    with tarfile.open(fileobj=reader, mode="r|") as archive:
        for member in archive:
            if not member.isfile() or member.size > MAX_FILE_BYTES:
                continue
            data = archive.extractfile(member).read()
            if data.startswith(b"\x7fELF") or member.name.endswith(".pyc"):
                continue
            scanned += 1
            hits += [(member.name, kind, excerpt) for kind, excerpt in find_secrets(data)
                     if kind != "literal-password" or member.name.startswith(CONFIG_PREFIXES)]
    return scanned, hits
