"""A load target started here when the dev stack is not up: one PostgreSQL container (from
the project's image, via municloud_ops.scratch.postgres) holding one database and role per service
and municipality (``<service>_<lgcode>``), and one process per service and municipality under
uvicorn on 127.0.0.1; each municipality has its own token key pair and its parameters from the
stack config (MUNICIPALITY_PARAMS_FILE).

Used by tests/load, the benchmarks and ``municloud loadtest run --local``. No frontdoor,
gateway or hub: requests go straight to the services, and tax/nhi exchange nothing by
themselves (the seeding step carries 所得照会 answers from tax to nhi over their APIs).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from municloud.auth import generate_key_pair, public_key_pem
from municloud_ops.loadtest.sla import SlaTargets
from municloud_ops.loadtest.targets import LoadTarget, Municipality, write_key_files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"service exited {proc.returncode}: "
                               f"{log.read_text(errors='replace')[-1500:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"service not ready at {url} within {timeout:.0f} s: "
                       f"{log.read_text(errors='replace')[-1500:]}")


@contextlib.contextmanager
def local_target(municipalities: tuple[Municipality, ...], sla: SlaTargets, *,
                 services: tuple[str, ...] = ("residents_registry",), params: dict | None = None,
                 workers: int = 1, timeout: float = 120.0) -> Iterator[LoadTarget]:
    """``params``: lgcode -> MunicipalityParams (from the stack config) for the services."""
    from municloud_ops.scratch.postgres import postgres_container

    pairs = [(m, s) for m in municipalities for s in services]
    databases = tuple(f"{s}_{m.lgcode}" for m, s in pairs)
    work = Path(tempfile.mkdtemp(prefix="mc-loadtest-"))
    procs: list[subprocess.Popen] = []
    try:
        with postgres_container(databases) as pg:
            keys = {m.lgcode: generate_key_pair()[0] for m in municipalities}
            urls = {}
            for (muni, service), database in zip(pairs, databases):
                private = keys[muni.lgcode]
                extra = {}
                if params and muni.lgcode in params:
                    params_file = work / f"{muni.lgcode}.params.json"
                    params_file.write_text(params[muni.lgcode].model_dump_json(), encoding="utf-8")
                    extra["MUNICIPALITY_PARAMS_FILE"] = str(params_file)
                secret = work / f"{database}.password"
                fd = os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(pg.passwords[database])
                port = _free_port()
                env = {**os.environ, **extra, "SERVICE_NAME": service, "LGCODE": muni.lgcode,
                       "ENVIRONMENT": "test", "DATABASE_HOST": "127.0.0.1",
                       "DATABASE_PORT": str(pg.port), "DATABASE_NAME": database,
                       "DATABASE_USER": database, "DB_PASSWORD_FILE": str(secret),
                       "DATABASE_SSLMODE": "verify-full", "DATABASE_SSLROOTCERT": str(pg.ca_file),
                       "TOKEN_PUBLIC_KEY": public_key_pem(private), "BIND_HOST": "127.0.0.1",
                       "PORT": str(port), "WEB_CONCURRENCY": str(workers), "LOG_LEVEL": "WARNING"}
                log = work / f"{database}.log"
                with open(log, "wb") as out:
                    procs.append(subprocess.Popen([sys.executable, "-m", f"services.{service}"],
                                                  env=env, stdout=out, stderr=subprocess.STDOUT))
                urls[f"{muni.lgcode}/{service}"] = f"http://127.0.0.1:{port}"
                _wait_ready(f"http://127.0.0.1:{port}/readyz", procs[-1], log, timeout)
            first = next(iter(urls.values()))
            yield LoadTarget(stack="local", base_url=first, municipalities=municipalities,
                             sla=sla, key_files=write_key_files(keys, work / "keys"),
                             services=services, service_urls=urls)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        import shutil

        shutil.rmtree(work, ignore_errors=True)
