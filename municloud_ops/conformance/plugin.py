"""pytest plugin of the kit: gives the suite its context and records one result per check id."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pytest

from municloud_ops.conformance.catalogue import CHECKS
from municloud_ops.conformance.context import KitContext, KitOptions, open_context


@dataclass
class CheckResult:
    id: str
    title: str
    requirement: str
    outcome: str  # passed | failed | error | not_run
    detail: str
    duration_s: float

    def to_dict(self) -> dict:
        return asdict(self)


def _short(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        message = crash.message.split("\nassert ")[0].strip()
        return message.removeprefix("AssertionError: ").removeprefix("Failed: ")[:600]
    if isinstance(report.longrepr, tuple):  # skip: (file, line, reason)
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)[:600]


class KitPlugin:
    """Registered with pytest.main(plugins=[...]); fixtures are methods of this object."""

    def __init__(self, options: KitOptions, receiver=None) -> None:
        self.options = options
        self.receiver = receiver  # receiver.KitReceiver of `conformance receive`
        self.results: dict[str, CheckResult] = {}
        self._context: KitContext | None = None

    def full_id(self, check: str) -> str:
        return f"{self.options.profile.prefix}-{check}"

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check(id): the catalogue id this test implements")

    @pytest.fixture(autouse=True)
    def check_id(self, request: pytest.FixtureRequest) -> str | None:
        """The full check id, also shown in test names (JUnit: test_x[RR-MSG-001])."""
        return getattr(request, "param", None)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        marker = metafunc.definition.get_closest_marker("check")
        if marker is not None:
            full_id = self.full_id(marker.args[0])
            metafunc.parametrize("check_id", [full_id], ids=[full_id], indirect=True)

    @pytest.fixture(scope="session")
    def kit(self) -> KitContext:
        if self._context is None:
            self._context = open_context(self.options)
            self._context.receiver = self.receiver
        return self._context

    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        unit, role = self.options.unit, self.options.kit_role

        def applies(item: pytest.Item) -> bool:
            marker = item.get_closest_marker("check")
            if marker is None:
                return True
            check = CHECKS[marker.args[0]]
            return unit in check.units and check.kit_role == role

        applicable = [i for i in items if applies(i)]
        deselected = [i for i in items if i not in applicable]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = applicable
        for item in items:
            marker = item.get_closest_marker("check")
            if marker is None:
                raise pytest.UsageError(f"{item.nodeid} has no check marker")
            check = CHECKS[marker.args[0]]
            item.user_properties.append(("check_id", self.full_id(check.id)))
            item.user_properties.append(("requirement", check.requirement))
            if check.needs and not getattr(self.options, check.needs):
                option = "--" + check.needs.replace("_", "-")
                item.add_marker(pytest.mark.skip(reason=f"not run: needs {option}"))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        check_id = props.get("check_id")
        if check_id is None or (report.when != "call" and report.passed):
            return
        check = CHECKS[check_id.split("-", 1)[1]]
        if report.skipped:
            outcome = "not_run"
        elif report.failed:
            outcome = "failed" if report.when == "call" else "error"
        else:
            outcome = "passed"
        previous = self.results.get(check_id)
        if previous is not None and previous.outcome in ("failed", "error"):
            return  # a teardown pass must not hide a call failure
        self.results[check_id] = CheckResult(
            check_id, check.title, check.requirement, outcome,
            "" if outcome == "passed" else _short(report), round(report.duration, 3))

    def pytest_sessionfinish(self) -> None:
        if self._context is not None:
            self._context.client.close()
