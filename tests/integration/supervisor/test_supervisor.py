"""The site supervisor against the real engine: `docker kill` is healed, `docker stop` is not.

Containers are throwaway `sleep` containers of the base image labelled for a stack name unique
to the run, so nothing of another stack is watched or touched."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from municloud.supervisor import Engine, run

pytestmark = pytest.mark.integration

SLA_LOCAL_RECOVERY_S = 30  # stacks/config.py default of sla.local_recovery_seconds


@pytest.fixture(scope="module")
def docker_client():
    docker = pytest.importorskip("docker")
    return docker.from_env(timeout=30)


@pytest.fixture(scope="module")
def base_image(docker_client):
    tags = [t for img in docker_client.images.list(name="municloud/base") for t in img.tags]
    if not tags:
        pytest.skip("no municloud/base image in the engine (run tools/bootstrap/setup.sh)")
    return sorted(tags)[-1]


@pytest.fixture(scope="module")
def supervised(docker_client, base_image):
    """(make_container, stack) with a supervisor watching stack/site ``primary`` in a thread."""
    stack = f"supt{uuid.uuid4().hex[:8]}"
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(stack, "primary", Engine("/var/run/docker.sock"), stop), daemon=True)
    thread.start()
    made = []

    def make(suffix: str, policy: str = "unless-stopped", site: str = "primary", stack_label: str = stack):
        c = docker_client.containers.run(
            base_image, ["sleep", "600"], name=f"mc-{stack}-{suffix}", detach=True, init=True,
            restart_policy={"Name": policy}, network_mode="none",
            labels={"municloud.stack": stack_label, "municloud.site": site, "municloud.lgcode": "shared",
                    "municloud.component": "probe"})
        made.append(c)
        return c

    time.sleep(0.5)  # the event stream is open before the first container
    yield make, stack
    stop.set()
    for c in made:
        c.remove(force=True)


def _running_within(c, seconds: float) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        c.reload()
        if c.status == "running":
            return time.monotonic() - t0
        time.sleep(0.2)
    return None


def _stays_down(c, seconds: float) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        c.reload()
        if c.status == "running":
            return False
        time.sleep(0.2)
    return True


def test_docker_kill_is_started_again_within_the_local_recovery_bound(supervised):
    make, _ = supervised
    c = make("killed")
    t0 = time.monotonic()
    c.kill()
    back = _running_within(c, SLA_LOCAL_RECOVERY_S)
    assert back is not None, f"{c.name} still down {SLA_LOCAL_RECOVERY_S} s after docker kill"
    print(f"docker kill of {c.name}: running again after {time.monotonic() - t0:.1f} s")


def test_twin_without_supervisor_the_engine_leaves_a_killed_container_down(docker_client, base_image):
    """The gap the supervisor closes: with the same restart policy, nobody restarts it."""
    c = docker_client.containers.run(base_image, ["sleep", "600"], name=f"mc-supt-alone-{uuid.uuid4().hex[:6]}",
                                     detach=True, init=True, restart_policy={"Name": "unless-stopped"},
                                     network_mode="none")
    try:
        c.kill()
        assert _stays_down(c, 3.0)
    finally:
        c.remove(force=True)


def test_docker_stop_stays_stopped(supervised):
    make, _ = supervised
    c = make("stopped")
    c.stop(timeout=1)
    assert _stays_down(c, 3.0), "a container stopped on purpose (fencing, replace) was started again"


def test_one_off_container_with_policy_no_is_left_down(supervised):
    make, _ = supervised
    c = make("oneoff", policy="no")
    c.kill()
    assert _stays_down(c, 3.0)


@pytest.mark.parametrize("site,stack_label", [("dr", None), ("primary", "otherstack")])
def test_other_sites_and_stacks_are_not_touched(supervised, site, stack_label):
    make, stack = supervised
    c = make(f"foreign-{site}", site=site, stack_label=stack_label or stack)
    c.kill()
    assert _stays_down(c, 3.0)
