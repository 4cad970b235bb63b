"""Flow 5 — migration in the intermediate standard layout (中間標準レイアウト): export 053031's
住民基本台帳 from the live stack with the `municloud layout` CLI through the frontdoor, import it
into an empty tenant, export again: byte-identical files, in UTF-8 and in cp932.

The empty tenant is the new vendor's system for the same municipality: the very image the stack
runs for 053031's residents_registry, started by this test as a container beside a fresh
PostgreSQL container (municloud_ops.scratch.postgres, the project's own image), trusting 053031's
token key. The dev stack has no empty tenant of 053031 to spare, and importing 053031's
residents into another member's live tenant would mix two municipalities' registers."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from e2e_support import A, fresh_household, move_in, report

pytestmark = [pytest.mark.live, pytest.mark.e2e]

AREA = "住民基本台帳"
SERVICE_UID = 10001  # user `app` of the python image
CLI = [sys.executable, "-m", "municloud_ops.cli.main"]


def layout_cli(*args: str) -> subprocess.CompletedProcess:
    t0 = time.monotonic()
    done = subprocess.run([*CLI, "layout", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1"})
    done.elapsed = time.monotonic() - t0
    return done


def _secret(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content)
    os.chown(path, SERVICE_UID, SERVICE_UID)
    path.chmod(0o400)
    return path


@contextlib.contextmanager
def empty_tenant(stack, tmp_path: Path):
    """An empty residents_registry of 053031 on 127.0.0.1 (service container + PostgreSQL)."""
    from municloud_ops.scratch.postgres import postgres_container

    image = stack.container("residents_registry", A).image
    secrets = tmp_path / "tenant-secrets"
    secrets.mkdir()
    os.chown(secrets, SERVICE_UID, SERVICE_UID)
    with postgres_container(("residents_registry",)) as pg:
        _secret(secrets, "password", pg.passwords["residents_registry"])
        _secret(secrets, "ca.crt", pg.ca_file.read_text())
        env = {"ENVIRONMENT": "production", "SERVICE_NAME": "residents_registry", "LGCODE": A,
               "DATABASE_HOST": pg.container.name, "DATABASE_PORT": "5432",
               "DATABASE_SSLMODE": "verify-full", "DATABASE_SSLROOTCERT": "/run/secrets/db/ca.crt",
               "DB_PASSWORD_FILE": "/run/secrets/db/password",
               "TOKEN_PUBLIC_KEY": stack.municipalities[A]["token_public_key_pem"]}
        container = image.client.containers.run(
            image, detach=True, name=f"{pg.container.name}-residents-registry", environment=env,
            network=pg.network.name, ports={"8000/tcp": ("127.0.0.1", None)},
            volumes={str(secrets): {"bind": "/run/secrets/db", "mode": "ro"}},
            labels={"municloud.stack": "test", "municloud.site": "test", "municloud.lgcode": A,
                    "municloud.component": "residents_registry"})
        try:
            container.reload()
            port = container.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"]
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                container.reload()
                assert container.status == "running" and time.monotonic() < deadline, \
                    container.logs(tail=30).decode(errors="replace")
                time.sleep(0.5)
            yield url
        finally:
            container.remove(force=True)


def test_export_import_export_is_byte_identical(frontdoor, e2e_stack, tmp_path):
    # make sure the register holds a household of this test and one 除票 (a 転出者)
    household = fresh_household(A)
    moved = [m["atena_number"] for m in move_in(frontdoor, household)["movements"]]
    r = frontdoor.post(A, "residents_registry", "/api/v1/movements", purpose="resident_record",
                       json={"kind": "move_out", "event_date": "2025-09-01",
                             "notification_date": "2025-08-25", "atena_numbers": [moved[-1]],
                             "next_address": "北海道札幌市中央区北1条西2丁目"})
    assert r.status_code == 201, r.text
    token = frontdoor.token(A, "residents_registry", "data_migration", "e2e-migration")
    stack_url = f"{e2e_stack.frontdoor_url}/{A}/residents_registry"
    ca = ["--ca-file", str(e2e_stack.ca_file)]

    first = {}
    for encoding in ("utf-8", "cp932"):
        out = tmp_path / f"stack.{encoding}.csv"
        done = layout_cli("export", "--area", AREA, "--base-url", stack_url, "--token", token,
                          "--encoding", encoding, "-o", str(out), *ca)
        assert done.returncode == 0, done.stderr
        first[encoding] = out.read_bytes()
        report("5 レイアウト", f"export {encoding} from the stack through the frontdoor: "
                             f"{len(first[encoding]):,} bytes in {done.elapsed:.2f} s (CLI)")
    assert household.members[0]["family_name"].encode("cp932") in first["cp932"]
    rows = first["utf-8"].count(b"\r\n") - 1
    assert rows >= len(moved)

    with empty_tenant(e2e_stack, tmp_path) as tenant_url:
        source = tmp_path / "stack.utf-8.csv"
        done = layout_cli("import", "--area", AREA, "--base-url", tenant_url, "--token", token,
                          "--encoding", "utf-8", str(source))
        assert done.returncode == 0, done.stdout + done.stderr
        report("5 レイアウト", f"import of {rows} rows into the empty tenant in {done.elapsed:.2f} s: "
                             f"{done.stdout.strip()}")
        for encoding in ("utf-8", "cp932"):
            again = tmp_path / f"tenant.{encoding}.csv"
            done = layout_cli("export", "--area", AREA, "--base-url", tenant_url, "--token", token,
                              "--encoding", encoding, "-o", str(again))
            assert done.returncode == 0, done.stderr
            assert again.read_bytes() == first[encoding], f"{encoding} re-export differs"
        report("5 レイアウト", f"re-export byte-identical in utf-8 and cp932 ({rows} rows)")

        # guarding twin: a second import into the now non-empty tenant is refused (exit 3)
        done = layout_cli("import", "--area", AREA, "--base-url", tenant_url, "--token", token,
                          "--encoding", "utf-8", str(source))
        assert done.returncode == 3, done.stdout + done.stderr
