"""The rehearsal's client: uniquely numbered writes through the frontdoor, each one a probe.

``FrontdoorWriteTarget`` sends ``POST /<lgcode>/residents_registry/api/v1/dr-probe`` to the
consortium's frontdoor on 127.0.0.1 (TLS verified against the consortium CA, bounded timeouts),
with an operator token (purpose system_operation) signed by the municipality's own key. A write
is acknowledged only by HTTP 201, which the service sends after COMMIT, i.e. (in synchronous
mode) after the DR standby confirmed it; the answer names the site that stored it. ``present``
reads the numbers back through the frontdoor from whichever site serves now."""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from municloud_ops.dr.steps import StepFailed

SERVICE = "residents_registry"
OPERATOR_PURPOSE = "system_operation"
TOKEN_TTL_S = 900


@dataclass
class Attempt:
    n: int
    started: float
    finished: float
    ok: bool
    site: str | None


class FrontdoorWriteTarget:
    """The DR probe of one municipality behind the frontdoor at ``base_url`` (https://127.0.0.1:port)."""

    def __init__(self, base_url: str, lgcode: str, signing_key_pem: str, ca_file: Path,
                 write_timeout: float = 5.0, staff_id: str = "dr-coordinator") -> None:
        import httpx

        host = urlsplit(base_url).hostname
        if host != "127.0.0.1":  # network rule: probe traffic only to published local ports
            raise ValueError(f"frontdoor URL must be https://127.0.0.1:<port> (got host {host})")
        self.lgcode, self._key, self._staff = lgcode, signing_key_pem, staff_id
        self.url = f"{base_url.rstrip('/')}/{lgcode}/{SERVICE}/api/v1/dr-probe"
        ctx = ssl.create_default_context(cafile=str(ca_file))
        self._http = httpx.Client(verify=ctx, timeout=httpx.Timeout(write_timeout, connect=2.0))
        self._token, self._token_until = "", 0.0

    @classmethod
    def from_outputs(cls, outputs: dict, lgcode: str, work_dir: Path, **kw) -> "FrontdoorWriteTarget":
        """From a stack's outputs: frontdoor_url, ca_cert_pem, token_private_keys (secret)."""
        keys = outputs.get("token_private_keys") or {}
        if lgcode not in keys:
            raise LookupError(f"stack outputs have no token signing key for municipality {lgcode}")
        work_dir.mkdir(parents=True, exist_ok=True)
        ca_file = work_dir / "consortium-ca.crt"
        ca_file.write_text(outputs["ca_cert_pem"], encoding="ascii")
        return cls(outputs["frontdoor_url"], lgcode, keys[lgcode], ca_file, **kw)

    def _headers(self) -> dict[str, str]:
        if time.time() > self._token_until:
            from municloud.auth import issue_token

            self._token = issue_token(self._key, self.lgcode, self._staff, OPERATOR_PURPOSE, SERVICE, TOKEN_TTL_S)
            self._token_until = time.time() + TOKEN_TTL_S - 60
        return {"Authorization": f"Bearer {self._token}"}

    def prepare(self, run_id: str) -> None:
        """The probe must answer before the failure is injected (else the rehearsal measures nothing)."""
        r = self._http.get(f"{self.url}/{run_id}", headers=self._headers())
        if r.status_code != 200:
            raise StepFailed(f"DR probe of {self.lgcode} not available through the frontdoor "
                             f"(HTTP {r.status_code} from {self.url})")

    def write(self, run_id: str, n: int) -> str | None:
        """Return the site that acknowledged write ``n`` (HTTP 201), or None."""
        import httpx

        try:
            r = self._http.post(self.url, json={"run_id": run_id, "n": n}, headers=self._headers())
        except httpx.HTTPError:  # refused, reset, timed out (a blocked COMMIT is not an ack)
            return None
        if r.status_code != 201:
            return None
        return r.json().get("site") or "unknown"

    def present(self, run_id: str, site: str) -> set[int]:
        """The numbers stored for ``run_id``, read through the frontdoor; ``site`` must be the one serving."""
        import httpx

        deadline, problem = time.monotonic() + 60, ""
        while time.monotonic() < deadline:  # a service just (re)started may answer slowly at first
            try:
                r = self._http.get(f"{self.url}/{run_id}", headers=self._headers(), timeout=10.0)
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            else:
                if r.status_code == 200:
                    body = r.json()
                    if body.get("site") != site:
                        raise StepFailed(f"frontdoor serves {self.lgcode} from site {body.get('site')}, not {site}")
                    return set(body["numbers"])
                problem = f"HTTP {r.status_code}"
            time.sleep(0.5)
        raise StepFailed(f"reading DR probe run {run_id} of {self.lgcode} through the frontdoor failed: {problem}")

    def close(self) -> None:
        self._http.close()


@dataclass
class WriteLoop:
    """Writes 1, 2, 3... every ``interval`` s until stopped, ``max_writes`` or ``max_seconds``."""

    target: FrontdoorWriteTarget
    max_writes: int = 2000
    max_seconds: float = 180.0
    interval: float = 0.05
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    attempts: list[Attempt] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rehearsal-writer", daemon=True)

    def start(self) -> None:
        self.target.prepare(self.run_id)
        self._t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set() and n < self.max_writes and time.monotonic() - self._t0 < self.max_seconds:
            n += 1
            started = time.monotonic()
            site = self.target.write(self.run_id, n)
            self.attempts.append(Attempt(n, started, time.monotonic(), site is not None, site))
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def first_success_after(self, t: float, site: str | None = None) -> Attempt | None:
        """The first acknowledged write started at or after ``t`` (at ``site`` if given)."""
        return next((a for a in list(self.attempts)
                     if a.ok and a.started >= t and (site is None or a.site == site)), None)
