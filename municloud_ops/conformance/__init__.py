"""Vendor conformance kit (適合性検査キット): a pytest suite run against any unit endpoint.

`run_suite(KitOptions(...))` checks the platform message format, the layout endpoints and the
OpenAPI contract of residents_registry, tax or nhi and writes JUnit XML, JSON and HTML reports.
Exit codes: 0 conforming, 2 usage, 3 not conforming, 4 endpoint unreachable.
"""

from municloud_ops.conformance.catalogue import CHECKS, Check
from municloud_ops.conformance.context import KitOptions
from municloud_ops.conformance.runner import (
    EXIT_CONFORMING,
    EXIT_NOT_CONFORMING,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Unreachable,
    run_suite,
)

__all__ = ["CHECKS", "EXIT_CONFORMING", "EXIT_NOT_CONFORMING", "EXIT_UNREACHABLE", "EXIT_USAGE",
           "Check", "KitOptions", "Unreachable", "run_suite"]
