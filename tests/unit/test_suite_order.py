"""The whole run's order: the load gate before every other tier (tests/conftest.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "root_conftest_under_test", Path(__file__).resolve().parents[1] / "conftest.py")
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)
pytest_collection_modifyitems = _conftest.pytest_collection_modifyitems

pytestmark = pytest.mark.unit


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name


class _Item:
    """What the hook reads of a collected test: its markers (a tier, maybe `load`)."""

    fixturenames = ()

    def __init__(self, name: str, load: bool) -> None:
        self.name, self.nodeid, self._load = name, name, load
        self._markers = [_Marker("live"), _Marker("load")] if load else [_Marker("unit")]

    def iter_markers(self):
        return iter(self._markers)

    def get_closest_marker(self, name: str):
        return next((m for m in self._markers if m.name == name), None)


def test_load_tests_move_to_the_front_and_the_rest_keep_their_order():
    items = [_Item("e2e-a", False), _Item("infra-b", False), _Item("load-1", True),
             _Item("unit-c", False), _Item("load-2", True)]
    pytest_collection_modifyitems(None, items)
    assert [i.name for i in items] == ["load-1", "load-2", "e2e-a", "infra-b", "unit-c"]


def test_a_run_without_load_tests_keeps_its_order():
    items = [_Item("e2e-a", False), _Item("infra-b", False)]
    pytest_collection_modifyitems(None, items)
    assert [i.name for i in items] == ["e2e-a", "infra-b"]
