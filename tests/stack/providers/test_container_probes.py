"""The provider's own health probes are bounded: no more at once than the machine has cores (a
busy slot skips the probe), and their gaps grow once a wait is long, so a consortium's dozens of
containers starting together do not spend the cores on probing. Each bound has its twin."""

import threading

import pytest

from stacks.providers import container

pytestmark = pytest.mark.unit


class _Api:
    """A container that stays "starting" until ``ready_after`` probes; counts the probes."""

    def __init__(self, ready_after: int = 10**6) -> None:
        self.probes, self.ready_after = 0, ready_after

    def inspect_container(self, _cid):
        return {"State": {"Status": "running", "Running": True, "Health": {"Status": "starting"}},
                "Config": {"Healthcheck": {"Test": ["CMD", "true"]}, "User": ""}, "RestartCount": 0}

    def exec_create(self, _cid, _cmd, user=""):
        self.probes += 1
        return {"Id": str(self.probes)}

    def exec_start(self, _id):
        return b""

    def exec_inspect(self, _id):
        return {"ExitCode": 0 if self.probes >= self.ready_after else 1}

    def logs(self, _cid, tail=30):
        return b"still starting"


class _Client:
    def __init__(self, api) -> None:
        self.api = api


def test_a_probe_runs_when_a_slot_is_free():
    api = _Api(ready_after=1)
    assert container._bounded_probe(_Client(api), "c", api.inspect_container("c")) is True
    assert api.probes == 1


def test_twin_every_slot_busy_skips_the_probe_without_waiting(monkeypatch):
    monkeypatch.setattr(container, "PROBE_SLOTS", threading.BoundedSemaphore(1))
    api = _Api(ready_after=1)
    container.PROBE_SLOTS.acquire()
    try:
        assert container._bounded_probe(_Client(api), "c", api.inspect_container("c")) is False
        assert api.probes == 0
    finally:
        container.PROBE_SLOTS.release()
    assert container._bounded_probe(_Client(api), "c", api.inspect_container("c")) is True


def _probes_in(monkeypatch, seconds: float, slow_after: float) -> int:
    clock = {"t": 0.0}
    monkeypatch.setattr(container.time, "monotonic", lambda: clock["t"])
    monkeypatch.setattr(container.time, "sleep", lambda s: clock.__setitem__("t", clock["t"] + s))
    monkeypatch.setattr(container, "PROBE_SLOW_AFTER_S", slow_after)
    api = _Api()
    with pytest.raises(container.ContainerStartError, match="did not become healthy within"):
        container._wait_healthy(_Client(api), "c", "mc-t-primary-x", int(seconds))
    return api.probes


def test_a_long_wait_probes_less_often(monkeypatch):
    slow = _probes_in(monkeypatch, 60, slow_after=10.0)
    fast = _probes_in(monkeypatch, 60, slow_after=60.0)  # the twin: 1 s gaps throughout
    assert fast >= 50 and slow <= 10 + 50 / container.PROBE_MAX_GAP_S + 2 and slow < fast / 2, (slow, fast)
