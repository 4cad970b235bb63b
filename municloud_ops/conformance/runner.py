"""Run the conformance suite against an endpoint: preflight, pytest, reports, exit code."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from municloud_ops.conformance.catalogue import checks_for
from municloud_ops.conformance.context import KitOptions, open_context
from municloud_ops.conformance.plugin import CheckResult, KitPlugin
from municloud_ops.conformance.receiver import KitReceiver
from municloud_ops.conformance.report import RunReport, write_html, write_json

EXIT_CONFORMING = 0
EXIT_USAGE = 2
EXIT_NOT_CONFORMING = 3
EXIT_UNREACHABLE = 4
SUITE = Path(__file__).parent / "suite"


class Unreachable(Exception):
    """The endpoint did not answer at all; no check was run."""


def preflight(options: KitOptions) -> None:
    url = options.base_url.rstrip("/") + "/healthz"
    try:
        httpx.get(url, verify=options.verify, timeout=min(options.timeout, 10.0))
    except httpx.TransportError as exc:
        raise Unreachable(f"{url} unreachable: {exc.__class__.__name__}: {exc}") from None


def run_suite(options: KitOptions, *, quiet: bool = True,
              announce: Callable[[str], None] | None = None) -> tuple[int, RunReport]:
    """Run every check for the unit; returns the exit code and the report (also written to
    options.out_dir as junit.xml, report.json, report.html). With kit_role "receiver" the kit's
    inboxes listen for the run's length; `announce` gets the sentence naming their addresses."""
    if options.kit_role != "receiver":
        return _run(options, quiet, None)
    host, _, port = options.listen.rpartition(":")
    context = open_context(options)  # usage errors before anything listens
    context.client.close()
    with KitReceiver(context.lgcode, host or "127.0.0.1", int(port or 0),
                     options.advertise_url) as receiver:
        sentence = (f"kit inboxes listening on {host or '127.0.0.1'}:{receiver.port}; the hub "
                    f"must deliver to: " + ", ".join(
                        f"{k} -> {v}" for k, v in receiver.addresses().items()))
        if announce is not None:
            announce(sentence)
        return _run(options, quiet, receiver)


def _run(options: KitOptions, quiet: bool, receiver: KitReceiver | None) -> tuple[int, RunReport]:
    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    started = time.perf_counter()
    context = open_context(options)  # fails early on a bad key file or missing lgcode
    context.client.close()
    report = RunReport(options.unit, options.base_url, context.lgcode, started_at, 0.0,
                       metadata.version("municloud"))
    preflight(options)
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    plugin = KitPlugin(options, receiver)
    suite_name = f"municloud-conformance-{options.unit}" + (
        "-receiver" if options.kit_role == "receiver" else "")
    args = [str(SUITE), "-c", os.devnull, "--rootdir", str(SUITE), "--confcutdir", str(SUITE),
            "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:asyncio",
            f"--junitxml={out / 'junit.xml'}",
            "-o", "junit_family=xunit1", "-o", f"junit_suite_name={suite_name}",
            "-q" if quiet else "-v",
            "--no-header", "-rN"]
    pytest_rc = pytest.main(args, plugins=[plugin])
    prefix = options.profile.prefix
    for check in checks_for(options.unit, options.kit_role):
        full_id = f"{prefix}-{check.id}"
        report.checks.append(plugin.results.get(full_id) or CheckResult(
            full_id, check.title, check.requirement, "error",
            f"check did not run (pytest exit {int(pytest_rc)})", 0.0))
    if plugin._context is not None:
        report.messages = plugin._context.ledger
    report.duration_s = round(time.perf_counter() - started, 2)
    write_json(report, out / "report.json")
    write_html(report, out / "report.html")
    return (EXIT_CONFORMING if report.conforming else EXIT_NOT_CONFORMING), report
