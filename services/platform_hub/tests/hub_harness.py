"""Integration harness for the platform hub: a real PostgreSQL container (hub + receivers'
databases), the hub as a separate OS process (so it can be killed), and in-process receiver
inboxes that use municloud.platform.receive_message + consume_once exactly as services do.

Receivers record every applied message in `applied` (no unique key), so a message applied twice
would show as two rows; `flaky` makes an inbox drop its answer after committing (a lost Ack),
forcing the hub to redeliver and the consumer to deduplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import uvicorn
import yaml
from fastapi import FastAPI, Request, Response
from support.asgi import free_port, serve

from municloud.platform import (
    KeyRegistry, PlatformError, SigningKey, consume_once, ensure_inbox, make_ack, make_fault, receive_message,
)

DEV = ("053031", "053279", "053465")
UNITS = ("residents_registry", "tax", "nhi")
XML = "application/xml"


@dataclass
class Receivers:
    """Inbox endpoints for every (lgcode, unit), one uvicorn server in a thread."""

    pg: object
    registry: KeyRegistry
    keys: dict[tuple[str, str], SigningKey]
    port: int = field(default_factory=free_port)
    flaky: float = 0.0  # probability of dropping the answer after commit
    refuse: set = field(default_factory=set)  # (lgcode, unit) answering 400
    seen: int = 0  # POSTs received
    pid: int | None = None  # when run in a child process

    def url(self, lgcode: str, unit: str) -> str:
        return f"http://127.0.0.1:{self.port}/{lgcode}/{unit}/inbox"

    def app(self) -> FastAPI:
        receivers = self
        rng = random.Random(5)

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI):
            import ssl

            context = ssl.create_default_context(cafile=str(receivers.pg.ca_file))
            app.state.pools = {}
            for unit in UNITS:
                pool = await asyncpg.create_pool(
                    host=receivers.pg.host, port=receivers.pg.port, database=unit, user=unit,
                    password=receivers.pg.passwords[unit], ssl=context, min_size=1, max_size=8)
                async with pool.acquire() as conn:
                    await ensure_inbox(conn)
                    await conn.execute("CREATE TABLE IF NOT EXISTS applied (message_id uuid NOT NULL,"
                                       " lgcode char(6) NOT NULL, at timestamptz NOT NULL DEFAULT now())")
                app.state.pools[unit] = pool
            yield
            for pool in app.state.pools.values():
                await pool.close()

        app = FastAPI(lifespan=lifespan)

        @app.post("/{lgcode}/{unit}/inbox")
        async def inbox(lgcode: str, unit: str, request: Request) -> Response:
            receivers.seen += 1
            key = receivers.keys[(lgcode, unit)]
            if (lgcode, unit) in receivers.refuse:
                return Response(make_fault("unsupported", "refused by test", key=key, unit=unit, lgcode=lgcode),
                                400, media_type=XML)
            try:
                message = receive_message(await request.body(), receivers.registry, lgcode=lgcode, unit=unit)
            except PlatformError as exc:
                return Response(make_fault(exc.code, exc.reason, key=key, unit=unit, lgcode=lgcode, path=exc.path),
                                400, media_type=XML)

            async def apply(conn, msg) -> None:
                await conn.execute("INSERT INTO applied (message_id, lgcode, at) VALUES ($1, $2, clock_timestamp())",
                                   msg.header.message_id, lgcode)

            async with request.app.state.pools[unit].acquire() as conn:
                await consume_once(conn, message, apply)
            if receivers.flaky and rng.random() < receivers.flaky:
                return Response(b"lost answer", 503)
            return Response(make_ack(message, key, unit=unit, lgcode=lgcode), 200, media_type=XML)

        return app


@contextlib.contextmanager
def run_receivers(receivers: Receivers) -> Iterator[Receivers]:
    """The inboxes in this process (the one in-process harness, support.asgi)."""
    with serve(receivers.app(), name="receivers", port=receivers.port, startup_timeout_s=60,
               shutdown_timeout_s=60):
        yield receivers


@contextlib.contextmanager
def run_receivers_process(receivers: Receivers) -> Iterator[Receivers]:
    """The same inboxes in a forked child process (for the benchmark: no shared GIL with the load)."""
    import multiprocessing

    def serve() -> None:
        uvicorn.Server(uvicorn.Config(receivers.app(), host="127.0.0.1", port=receivers.port,
                                      log_level="warning", lifespan="on")).run()

    child = multiprocessing.get_context("fork").Process(target=serve, name="receivers", daemon=True)
    child.start()
    receivers.pid = child.pid
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{receivers.port}/", timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or not child.is_alive():
                raise RuntimeError("receiver inboxes did not start")
            time.sleep(0.1)
    try:
        yield receivers
    finally:
        child.terminate()
        child.join(timeout=10)


@dataclass
class HubProcess:
    """The hub as a child process: start, kill -9, restart; same env each time."""

    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        started = time.monotonic()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "services.platform_hub"], env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited with {self.process.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub not ready after {timeout} s: {self.log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, exactly like `docker kill`."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class HubWorld:
    pg: object
    hub: HubProcess
    receivers: Receivers
    keys: dict[tuple[str, str], SigningKey]
    hub_key: SigningKey
    registry: KeyRegistry

    def key(self, lgcode: str, unit: str) -> SigningKey:
        return self.keys[(lgcode, unit)]

    def sql(self, query: str, database: str = "platform_hub") -> str:
        return self.pg.exec_sql(query, database=database)

    def applied(self, unit: str, message_ids) -> dict[str, int]:
        """message id -> rows in `applied` of `unit` (1 = exactly once)."""
        ids = ",".join(f"'{m}'" for m in message_ids) or "NULL"
        out = self.sql(f"SELECT message_id, count(*) FROM applied WHERE message_id IN ({ids}) GROUP BY 1", unit)
        return {line.split("|")[0]: int(line.split("|")[1]) for line in out.splitlines() if line}

    def hub_counts(self, message_id) -> tuple[int, int]:
        out = self.sql(f"SELECT (SELECT count(*) FROM messages WHERE message_id='{message_id}') || ',' || "
                       f"(SELECT count(*) FROM deliveries WHERE message_id='{message_id}')")
        return tuple(int(n) for n in out.split(","))

    def wait_delivered(self, message_ids, timeout: float = 60.0) -> None:
        ids = ",".join(f"'{m}'" for m in message_ids)
        deadline = time.monotonic() + timeout
        while True:
            pending = int(self.sql(f"SELECT count(*) FROM deliveries WHERE message_id IN ({ids}) AND status <> 'delivered'"))
            total = int(self.sql(f"SELECT count(*) FROM deliveries WHERE message_id IN ({ids})"))
            if pending == 0 and total > 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{pending} of {total} deliveries not done after {timeout} s")
            time.sleep(0.2)


def write_private(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o400)
    return path


@contextlib.contextmanager
def hub_world(*, receivers_in_process: bool = False, **hub_env: str) -> Iterator[HubWorld]:
    """PostgreSQL container + receivers + hub process (started), all removed on exit."""
    from municloud_ops.scratch.postgres import postgres_container

    with postgres_container(("platform_hub", *UNITS)) as pg, \
            tempfile.TemporaryDirectory(prefix="mc-hub-it-") as tmp:
        root = Path(tmp)
        keys = {(lg, unit): SigningKey.generate(f"{lg}-{unit}-1") for lg in DEV for unit in UNITS}
        hub_key = SigningKey.generate("platform_hub-1")
        registry = KeyRegistry()
        for (lg, unit), key in keys.items():
            registry.add_signing_key(key, lgcode=lg, unit=unit)
        registry.add_signing_key(hub_key, lgcode="*", unit="platform_hub")
        (root / "keys.yaml").write_text(yaml.safe_dump(registry.to_mapping()), encoding="utf-8")
        receivers = Receivers(pg, registry, keys)
        (root / "inboxes.yaml").write_text(yaml.safe_dump(
            {f"{lg}/{unit}": receivers.url(lg, unit) for lg in DEV for unit in UNITS}), encoding="utf-8")
        write_private(root / f"{hub_key.key_id}.key", hub_key.private_pem())
        write_private(root / "db_password", pg.passwords["platform_hub"].encode())
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(port), "BIND_HOST": "127.0.0.1",
            "ENVIRONMENT": "test", "DATABASE_HOST": pg.host, "DATABASE_PORT": str(pg.port),
            "DB_PASSWORD_FILE": str(root / "db_password"), "DATABASE_SSLROOTCERT": str(pg.ca_file),
            "PLATFORM_SIGNING_KEY_FILE": str(root / f"{hub_key.key_id}.key"), "PLATFORM_KEYS_FILE": str(root / "keys.yaml"),
            "INBOX_URLS_FILE": str(root / "inboxes.yaml"),
            "DELIVERY_BACKOFF_BASE_S": "0.05", "DELIVERY_BACKOFF_MAX_S": "0.5", "DELIVERY_POLL_S": "0.1",
            "DELIVERY_TIMEOUT_S": "2", "LOG_LEVEL": "WARNING", **hub_env,
        }
        hub = HubProcess(env, port, root / "hub.log")
        with (run_receivers_process if receivers_in_process else run_receivers)(receivers):
            hub.start()
            try:
                yield HubWorld(pg, hub, receivers, keys, hub_key, registry)
            finally:
                hub.stop()


def run(coro):
    return asyncio.run(coro)
