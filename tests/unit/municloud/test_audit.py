"""Hash chain of the access log: pure parts (the database parts are integration tests)."""

from datetime import UTC, datetime

import pytest

from municloud.audit import GENESIS_HASH, AccessEntry, chain_hash

pytestmark = pytest.mark.unit

AT = datetime(2025, 4, 1, 9, 0, 0, 123456, tzinfo=UTC)
ENTRY = AccessEntry("staff1", "053031", "resident_record", "053031000000001", "read")


def test_hash_is_deterministic_and_chained():
    first = chain_hash(GENESIS_HASH, 1, AT, ENTRY)
    assert first == chain_hash(GENESIS_HASH, 1, AT, ENTRY)
    assert len(first) == 32
    assert chain_hash(first, 2, AT, ENTRY) != chain_hash(GENESIS_HASH, 2, AT, ENTRY)


@pytest.mark.parametrize("changed", [
    AccessEntry("staff2", "053031", "resident_record", "053031000000001", "read"),
    AccessEntry("staff1", "053279", "resident_record", "053031000000001", "read"),
    AccessEntry("staff1", "053031", "tax_assessment", "053031000000001", "read"),
    AccessEntry("staff1", "053031", "resident_record", "053031000000002", "read"),
    AccessEntry("staff1", "053031", "resident_record", None, "read"),
    AccessEntry("staff1", "053031", "resident_record", "053031000000001", "certificate"),
])
def test_every_field_is_covered(changed):
    assert chain_hash(GENESIS_HASH, 1, AT, changed) != chain_hash(GENESIS_HASH, 1, AT, ENTRY)


def test_seq_and_time_are_covered():
    base = chain_hash(GENESIS_HASH, 1, AT, ENTRY)
    assert chain_hash(GENESIS_HASH, 2, AT, ENTRY) != base
    assert chain_hash(GENESIS_HASH, 1, AT.replace(microsecond=0), ENTRY) != base
