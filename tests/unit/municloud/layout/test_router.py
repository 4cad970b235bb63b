"""The layout router's upload limit: an oversize body is refused while streaming (413)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from municloud.layout import router
from municloud.service.errors import ApiError

pytestmark = pytest.mark.unit


class Upload:
    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.read = 0

    async def stream(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk


async def test_oversize_upload_is_refused_without_reading_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "MAX_FILE_BYTES", 10)
    upload = Upload(b"123456", b"789012", b"never read")
    with pytest.raises(ApiError) as caught:
        await router._read_bounded(upload)  # type: ignore[arg-type]
    assert caught.value.status == 413 and caught.value.code == "file_too_large"
    assert upload.read == 2


async def test_upload_within_the_limit_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "MAX_FILE_BYTES", 12)
    assert await router._read_bounded(Upload(b"123456", b"789012")) == b"123456789012"  # type: ignore[arg-type]


@pytest.mark.parametrize(("declared", "problem"), [
    (None, None), ("3", None), ("4", "X-Layout-Rows header says 4 data rows; the file has 3"),
    ("x", "X-Layout-Rows header is not a number")])
def test_row_count_header_must_match_the_file(declared: str | None, problem: str | None) -> None:
    from municloud.layout.router import _row_count_problem

    assert _row_count_problem(declared, 3) == problem
