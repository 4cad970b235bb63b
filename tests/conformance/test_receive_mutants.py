"""The kit as receiving units behind our real hub (`municloud conformance receive`, HB-RCV-xxx):
services/platform_hub in this process (support.asgi) on a scratch PostgreSQL container, with the
kit's inboxes registered in its INBOX_URLS_FILE.

- The faithful hub passes every receiver check through the CLI (exit 0, the addresses printed,
  reports written), and every message the kit expected the hub to refuse left no row in the hub's
  `messages` or `deliveries`, while each accepted one is stored once.
- Each hub mutant (tests/conformance/hub_mutants.py) fails exactly its own check and no other;
  the receiver-side kill ratio goes to reports/conformance-receiver-mutants.json and must be the
  figure docs/conformance.md states.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hub_mutants import HUB_MUTANTS, mutated, routes_file
from kill_ratio import prove
from support.asgi import free_port, serve

from municloud.platform import KeyRegistry, SigningKey
from municloud_ops.conformance import KitOptions, run_suite
from municloud_ops.conformance.catalogue import checks_for
from municloud_ops.conformance.receiver import registration

pytestmark = pytest.mark.integration

LGCODE = "053031"
REPO = Path(__file__).resolve().parents[2]
FIGURE = REPO / "reports" / "conformance-receiver-mutants.json"
# Short hub timings (as the hub's own integration tests use) so the bounded waits stay short.
# Four attempts: a mutant that retries what it must not settles (dead) sooner.
HUB_TIMINGS = {"delivery_backoff_base_s": 0.05, "delivery_backoff_max_s": 0.5,
               "delivery_poll_s": 0.1, "delivery_timeout_s": 2.0, "delivery_max_attempts": 4}
WAIT_S, QUIET_S = 12.0, 1.0


@dataclass
class HubWorld:
    pg: object
    folder: Path
    hub_key: SigningKey
    kit_port: int

    @property
    def sender_key(self) -> Path:
        return self.folder / f"kit-{LGCODE}-residents_registry.key"

    @property
    def responder_key(self) -> Path:
        return self.folder / f"kit-{LGCODE}-tax.key"

    def settings(self, mutant: str | None):
        from services.platform_hub.settings import HubSettings

        return HubSettings(
            environment="test", database_host=self.pg.host, database_port=self.pg.port,
            db_password_file=self.folder / "db_password", database_sslrootcert=self.pg.ca_file,
            platform_signing_key_file=self.folder / "hub.key",
            platform_keys_file=self.folder / "keys.yaml",
            routes_file=routes_file(self.folder, mutant or "faithful"),
            inbox_urls_file=self.folder / "inboxes.yaml", **HUB_TIMINGS)

    @contextlib.contextmanager
    def hub(self, mutant: str | None) -> Iterator[str]:
        """Our hub (mutated or not) served in this process; pending deliveries of the run are
        dead-lettered after it stops, so no run sees another's."""
        from services.platform_hub.app import create_app

        try:
            with mutated(mutant, self.hub_key), serve(create_app(self.settings(mutant)),
                                                      name=f"hub-{mutant or 'faithful'}",
                                                      startup_timeout_s=60) as url:
                yield url
        finally:
            self.pg.exec_sql("UPDATE deliveries SET status = 'dead' WHERE status = 'pending'",
                             database="platform_hub")

    def counts(self, message_id: str) -> tuple[int, int]:
        out = self.pg.exec_sql(
            f"SELECT (SELECT count(*) FROM messages WHERE message_id = '{message_id}') || ',' ||"
            f" (SELECT count(*) FROM deliveries WHERE message_id = '{message_id}')",
            database="platform_hub")
        return tuple(int(n) for n in out.split(","))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubWorld]:
    from municloud_ops.scratch.postgres import postgres_container

    folder = tmp_path_factory.mktemp("receive")
    kit_port = free_port()
    with postgres_container(("platform_hub",)) as pg:
        hub_key = SigningKey.generate("platform_hub-1")
        registry = KeyRegistry()
        registry.add_signing_key(hub_key, lgcode="*", unit="platform_hub")
        for unit in ("residents_registry", "tax"):  # the kit's keys, registered at the hub
            key = SigningKey.generate(f"kit-{LGCODE}-{unit}")
            (folder / f"{key.key_id}.key").write_bytes(key.private_pem())
            registry.add_signing_key(key, lgcode=LGCODE, unit=unit)
        (folder / "keys.yaml").write_text(yaml.safe_dump(registry.to_mapping()), encoding="utf-8")
        hub_only = KeyRegistry()
        hub_only.add_signing_key(hub_key, lgcode="*", unit="platform_hub")
        (folder / "hub_keys.yaml").write_text(hub_only.to_yaml(), encoding="utf-8")
        (folder / "hub.key").write_bytes(hub_key.private_pem())
        (folder / "db_password").write_text(pg.passwords["platform_hub"], encoding="utf-8")
        # What `municloud conformance receive --print-registration` prints, in the hub's file.
        (folder / "inboxes.yaml").write_text(yaml.safe_dump(
            registration(f"http://127.0.0.1:{kit_port}", LGCODE)), encoding="utf-8")
        for path in folder.iterdir():
            path.chmod(0o400)
        yield HubWorld(pg, folder, hub_key, kit_port)


def options(world: HubWorld, url: str, out: Path) -> KitOptions:
    return KitOptions(unit="platform_hub", base_url=url, token="",
                      signing_key=world.sender_key, lgcode=LGCODE,
                      unit_keys=world.folder / "hub_keys.yaml",
                      responder_key=world.responder_key, timeout=30, out_dir=out,
                      kit_role="receiver", listen=f"127.0.0.1:{world.kit_port}",
                      wait_s=WAIT_S, quiet_s=QUIET_S)


def test_registration_printed_is_what_the_hub_was_given(world: HubWorld) -> None:
    command = [sys.executable, "-m", "municloud_ops.cli.main", "conformance", "receive",
               "--hub-url", "http://127.0.0.1:9", "--lgcode", LGCODE,
               "--listen", f"127.0.0.1:{world.kit_port}", "--print-registration"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout) == yaml.safe_load(
        (world.folder / "inboxes.yaml").read_text(encoding="utf-8"))


def test_our_hub_passes_every_receiver_check_and_keeps_no_refused_message(
        world: HubWorld, tmp_path: Path) -> None:
    out = tmp_path / "report"
    with world.hub(None) as url:
        command = [sys.executable, "-m", "municloud_ops.cli.main", "conformance", "receive",
                   "--hub-url", url, "--lgcode", LGCODE,
                   "--signing-key", str(world.sender_key),
                   "--responder-key", str(world.responder_key),
                   "--unit-keys", str(world.folder / "hub_keys.yaml"),
                   "--listen", f"127.0.0.1:{world.kit_port}",
                   "--wait", str(WAIT_S), "--quiet", str(QUIET_S), "--out", str(out)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {c["id"]: c["outcome"] for c in report["checks"]} == {
        f"HB-{c.id}": "passed" for c in checks_for("platform_hub", "receiver")}, result.stdout
    assert result.returncode == 0 and "CONFORMING" in result.stdout, result.stdout
    assert (f"{LGCODE}/nhi -> http://127.0.0.1:{world.kit_port}/{LGCODE}/nhi/api/v1/platform/"
            f"inbox" in result.stdout), result.stdout
    junit = (out / "junit.xml").read_text(encoding="utf-8")
    assert "municloud-conformance-platform_hub-receiver" in junit and "HB-RCV-009" in junit
    applied = {m["id"] for m in report["messages"] if m["applied"]}
    refused = {m["id"] for m in report["messages"] if not m["applied"]} - applied
    assert len(refused) == 5 and len(applied) == 9, report["messages"]
    assert {i: world.counts(i) for i in refused} == {i: (0, 0) for i in refused}
    assert all(world.counts(i)[0] == 1 for i in applied)


def test_each_hub_mutant_fails_exactly_its_own_receiver_check(world: HubWorld,
                                                              tmp_path: Path) -> None:
    assert set(HUB_MUTANTS.values()) == {c.id for c in checks_for("platform_hub", "receiver")}

    def run(name: str):
        with world.hub(name) as url:
            return run_suite(options(world, url, tmp_path / name))

    prove(((name, f"HB-{check}") for name, check in HUB_MUTANTS.items()), run,
          checks=len(HUB_MUTANTS), figure=FIGURE, stated_as="Receiver kill ratio")
