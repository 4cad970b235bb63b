"""Delivery retry rules and message-log hashing (pure functions)."""

import datetime as dt
import random

import pytest

from services.platform_hub.delivery import backoff_delay, classify
from services.platform_hub.message_log import GENESIS, canonical_detail, chain, row_digest

pytestmark = pytest.mark.unit


def test_backoff_grows_exponentially_within_jitter_and_cap():
    rng = random.Random(7)
    for attempts, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (12, 60.0)):
        delays = [backoff_delay(attempts, 0.5, 60.0, rng) for _ in range(200)]
        assert min(delays) >= ceiling / 2 and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 10  # jitter is real


@pytest.mark.parametrize("status,outcome", [
    (200, "delivered"), (202, "delivered"), (400, "refused"), (403, "refused"),
    (408, "retry"), (429, "retry"), (500, "retry"), (503, "retry"), (None, "retry"),
])
def test_classify(status, outcome):
    assert classify(status) == outcome


def test_row_digest_changes_with_any_field():
    at = dt.datetime(2026, 4, 1, 9, 0, 0, 123456, tzinfo=dt.timezone.utc)
    base = row_digest(GENESIS, 1, at, "received", None, '{"a":1}')
    assert base == row_digest(GENESIS, 1, at, "received", None, '{"a":1}')
    variants = [
        row_digest(bytes([1]) * 32, 1, at, "received", None, '{"a":1}'),
        row_digest(GENESIS, 2, at, "received", None, '{"a":1}'),
        row_digest(GENESIS, 1, at + dt.timedelta(microseconds=1), "received", None, '{"a":1}'),
        row_digest(GENESIS, 1, at, "delivery-delivered", None, '{"a":1}'),
        row_digest(GENESIS, 1, at, "received", None, '{"a":2}'),
    ]
    assert base not in variants and len(set(variants)) == len(variants)


def test_chain_links_new_rows_after_the_head_or_from_genesis():
    entries = [("received", None, {"a": 1}), ("delivery-delivered", None, {"b": 2})]
    seqs, ats, events, ids, details, prevs, digests = chain(None, None, entries)
    assert seqs == [1, 2] and prevs[0] == GENESIS and prevs[1] == digests[0]
    assert details == [canonical_detail({"a": 1}), canonical_detail({"b": 2})]
    assert digests[1] == row_digest(digests[0], 2, ats[1], events[1], None, details[1])
    after = chain(41, digests[1], entries[:1])
    assert after[0] == [42] and after[5] == [digests[1]]
    assert after[6] == [row_digest(digests[1], 42, after[1][0], "received", None, details[0])]
