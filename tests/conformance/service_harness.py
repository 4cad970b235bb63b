"""Run a sample service (residents_registry, tax, nhi) as its own process on 127.0.0.1 against
a PostgreSQL container, with throwaway token and platform keys, for the kit and layout tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from municloud.auth import generate_key_pair, issue_token
from municloud.platform import KeyRegistry, SigningKey
from support.asgi import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Keys:
    """Token key pair of the municipality, the unit's platform key, the kit's sender key."""

    folder: Path
    token_private: str
    token_public: str
    unit_key: SigningKey
    kit_key: SigningKey
    kit_key_file: Path
    responder_key_file: Path  # registered as (lgcode, tax): nhi's MSG-017 (--responder-key)
    trusted_file: Path  # registry the service trusts (kit key + its own)
    unit_keys_file: Path  # registry the kit uses to verify the service's replies

    def token(self, lgcode: str, audience: str, purpose: str = "data_migration") -> str:
        return issue_token(self.token_private, lgcode, "kit-tester", purpose, audience, 900)


def make_keys(folder: Path, unit: str, lgcode: str, kit_lgcode: str, kit_unit: str) -> Keys:
    private, public = generate_key_pair()
    unit_key = SigningKey.generate(f"{lgcode}-{unit}-test")
    kit_key = SigningKey.generate(f"{kit_lgcode}-{kit_unit}-kit")
    kit_key_file = folder / f"{kit_key.key_id}.key"
    kit_key_file.write_bytes(kit_key.private_pem())
    responder = SigningKey.generate(f"{lgcode}-tax-kit")
    responder_key_file = folder / f"{responder.key_id}.key"
    responder_key_file.write_bytes(responder.private_pem())
    (folder / f"{unit_key.key_id}.key").write_bytes(unit_key.private_pem())
    trusted, own = KeyRegistry(), KeyRegistry()
    trusted.add_signing_key(kit_key, lgcode=kit_lgcode, unit=kit_unit)
    trusted.add_signing_key(responder, lgcode=lgcode, unit="tax")
    own.add_signing_key(unit_key, lgcode=lgcode, unit=unit)
    trusted.add_signing_key(unit_key, lgcode=lgcode, unit=unit)
    (folder / "trusted.yaml").write_text(trusted.to_yaml())
    (folder / "unit_keys.yaml").write_text(own.to_yaml())
    return Keys(folder, private, public, unit_key, kit_key, kit_key_file, responder_key_file,
                folder / "trusted.yaml", folder / "unit_keys.yaml")


@contextlib.contextmanager
def running_service(unit: str, lgcode: str, pg, database: str, keys: Keys,
                    log_dir: Path) -> Iterator[str]:
    """Start `python -m services.<unit>` on a free 127.0.0.1 port; yield its base URL."""
    password_file = log_dir / f"{database}.password"
    password_file.write_text(pg.passwords[database])
    password_file.chmod(0o400)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "ENVIRONMENT": "test",
        "SERVICE_NAME": unit, "LGCODE": lgcode, "DATABASE_HOST": pg.host,
        "DATABASE_PORT": str(pg.port), "DATABASE_NAME": database, "DATABASE_USER": database,
        "DB_PASSWORD_FILE": str(password_file), "DATABASE_SSLROOTCERT": str(pg.ca_file),
        "TOKEN_PUBLIC_KEY": keys.token_public,
        "PLATFORM_SIGNING_KEY_FILE": str(keys.folder / f"{keys.unit_key.key_id}.key"),
        "PLATFORM_KEYS_FILE": str(keys.trusted_file), "BIND_HOST": "127.0.0.1",
        "PORT": str(port), "LOG_LEVEL": "WARNING",
    }
    log = (log_dir / f"{database}.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", f"services.{unit}"], env=env, cwd=REPO,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (log_dir / f"{database}.log").read_text()[-3000:]
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"{unit} did not become ready"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
