"""DR tests run on self-contained labs (support.dr_lab): the stack's names and labels,
built from the postgres image, removed after each test (or module, for read-only checks)."""

import pytest

from municloud_ops.dr.inventory import Inventory
from support.dr_lab import LabSpec, dr_lab


@pytest.fixture
def make_lab():
    """``with make_lab(synchronous=False) as (lab, inv): ...``"""
    import contextlib

    @contextlib.contextmanager
    def _make(**spec):
        with dr_lab(LabSpec(**spec)) as lab:
            yield lab, Inventory(lab.spec.stack)

    return _make


@pytest.fixture(scope="module")
def shared_lab():
    """A synchronous lab with backups, for tests that only read it (or add their own rows)."""
    with dr_lab(LabSpec()) as lab:
        yield lab, Inventory(lab.spec.stack)
