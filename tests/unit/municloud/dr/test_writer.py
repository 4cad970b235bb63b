"""The rehearsal's write loop: bounded in count, numbered, each attempt a probe."""

import time

import pytest

from municloud_ops.dr.writer import FrontdoorWriteTarget, WriteLoop

pytestmark = pytest.mark.unit


class FlakyTarget:
    """Acknowledges writes except between two instants (an outage), at the site it names."""

    def __init__(self, outage: tuple[float, float]) -> None:
        self.outage, self.written = outage, []

    def prepare(self, run_id: str) -> None:
        self.run_id = run_id

    def write(self, run_id: str, n: int):
        now = time.monotonic()
        if self.outage[0] <= now < self.outage[1]:
            return None
        self.written.append(n)
        return "primary" if now < self.outage[0] else "dr"


def test_loop_is_bounded_by_count_and_numbers_writes():
    target = FlakyTarget((0.0, 0.0))
    loop = WriteLoop(target, max_writes=15, max_seconds=10, interval=0.0)
    loop.start()
    loop._thread.join(timeout=10)
    assert [a.n for a in loop.attempts] == list(range(1, 16)) == target.written
    assert target.run_id == loop.run_id


def test_first_success_after_an_outage_is_found_and_failures_are_recorded():
    t0 = time.monotonic()
    target = FlakyTarget((t0 + 0.1, t0 + 0.3))
    loop = WriteLoop(target, max_writes=1000, max_seconds=0.6, interval=0.01)
    loop.start()
    loop._thread.join(timeout=10)
    failed = [a for a in loop.attempts if not a.ok]
    assert failed and all(t0 + 0.1 <= a.started < t0 + 0.3 for a in failed)
    first = loop.first_success_after(t0 + 0.1)
    assert first is not None and first.site == "dr" and first.started >= t0 + 0.3


@pytest.mark.parametrize("url, allowed", [("https://127.0.0.1:18443", True), ("https://10.0.0.8:8443", False),
                                          ("https://example.org", False)])
def test_frontdoor_target_only_talks_to_a_local_published_port(tmp_path, url, allowed):
    from municloud_ops.scratch.tls import CertificateAuthority

    ca = tmp_path / "ca.crt"  # a real CA file: the client loads it
    ca.write_bytes(CertificateAuthority.create().cert_pem)
    if allowed:
        t = FrontdoorWriteTarget(url, "053031", "unused", ca)
        assert t.url == f"{url}/053031/residents_registry/api/v1/dr-probe"
        t.close()
    else:
        with pytest.raises(ValueError, match="127.0.0.1"):
            FrontdoorWriteTarget(url, "053031", "unused", ca)
