"""HTTP client for a service's layout endpoints (export / import of migration files).

Contract of every unit (residents_registry, tax, nhi), paths relative to the service base URL:
- ``GET  /api/v1/layout/export?encoding=utf-8|cp932`` → 200, the file (``text/csv``)
- ``POST /api/v1/layout/import?encoding=utf-8|cp932`` (body: the file) → 200
  ``{"area", "rows", "message"}``; 422 ``{"error": {...}, "report": LayoutReport}`` when any row
  is bad (nothing stored); 409 when the municipality already holds data of that area.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from municloud.layout.codec import LayoutIssue, LayoutReport, validate
from municloud.layout.definition import LayoutDef

EXPORT_PATH = "/api/v1/layout/export"
IMPORT_PATH = "/api/v1/layout/import"


class TransferError(Exception):
    """The service refused or could not be reached; `kind` is unreachable|refused|invalid."""

    def __init__(self, kind: str, message: str, report: LayoutReport | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.report = report


@dataclass(frozen=True)
class TransferResult:
    rows: int
    data: bytes
    message: str


def _client(base_url: str, token: str, verify: bool | str, timeout: float) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), verify=verify, timeout=timeout,
                        headers={"Authorization": f"Bearer {token}"})


def _refusal(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return f"HTTP {response.status_code} {error.get('code', '')}: {error.get('message', '')}"
    except ValueError:
        return f"HTTP {response.status_code}"


def export_file(layout: LayoutDef, base_url: str, token: str, *, encoding: str,
                verify: bool | str = True, timeout: float = 120.0) -> TransferResult:
    """Download the area's file and check it against the layout before returning it."""
    started = time.perf_counter()
    try:
        with _client(base_url, token, verify, timeout) as client:
            response = client.get(EXPORT_PATH, params={"encoding": encoding})
    except httpx.TransportError as exc:
        raise TransferError("unreachable", f"{base_url} unreachable: {exc}") from None
    if response.status_code != 200:
        raise TransferError("refused", f"export refused: {_refusal(response)}")
    report, _ = validate(layout, response.content, encoding=encoding)
    if not report.valid:
        raise TransferError("invalid", "the service exported a file that breaks the layout",
                            report)
    return TransferResult(report.rows, response.content,
                          f"exported {report.rows} {layout.area} rows ({encoding}, "
                          f"{len(response.content)} bytes) in "
                          f"{time.perf_counter() - started:.1f} s")


def import_file(layout: LayoutDef, data: bytes, base_url: str, token: str, *, encoding: str,
                verify: bool | str = True, timeout: float = 300.0) -> TransferResult:
    """Validate locally (nothing is sent if any row is bad), then import all-or-nothing."""
    started = time.perf_counter()
    report, _ = validate(layout, data, encoding=encoding)
    if not report.valid:
        raise TransferError("invalid", report.summary(), report)
    try:
        with _client(base_url, token, verify, timeout) as client:
            response = client.post(IMPORT_PATH, params={"encoding": encoding}, content=data,
                                   headers={"Content-Type": "text/csv",
                                            "X-Layout-Rows": str(report.rows)})
    except httpx.TransportError as exc:
        raise TransferError("unreachable", f"{base_url} unreachable: {exc}") from None
    if response.status_code == 422 and "report" in response.text:
        served = response.json()["report"]
        remote = LayoutReport(served["area"], served["encoding"], served["rows"])
        remote.issues = [LayoutIssue(**i) for i in served["issues"]]
        raise TransferError("invalid", f"service refused the file: {remote.summary()}", remote)
    if response.status_code != 200:
        raise TransferError("refused", f"import refused: {_refusal(response)}")
    return TransferResult(report.rows, data,
                          f"imported {report.rows} {layout.area} rows ({encoding}) in "
                          f"{time.perf_counter() - started:.1f} s")
