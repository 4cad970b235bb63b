"""What a load run aims at: the consortium's municipalities and SLA (from the stack config), the
base URL and the per-municipality token-signing keys.

Config precedence (one place): the stack config file ``Pulumi.<stack>.yaml`` validated by
``stacks.config.load`` gives municipalities, populations, the frontdoor port and
``sla.concurrent_users``; the load targets ``sla.p95_ms``, ``sla.max_failure_ratio`` and
``sla.min_rps`` come from the same ``municloud:sla`` mapping when present, else from
`LOAD_SLA_DEFAULTS` below (the report names which source was used). Command-line options of
``municloud loadtest`` override both.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from municloud_ops.loadtest.sla import SlaTargets

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Used only for keys the stack config does not (yet) carry. Our design: a counter clerk waits
#: at most half a second for 19 of 20 answers; at most 1 % failures; every concurrent user gets
#: at least one answer every two seconds.
LOAD_SLA_DEFAULTS: dict[str, float] = {"p95_ms": 500.0, "max_failure_ratio": 0.01,
                                       "min_rps_per_user": 0.5}


class TargetError(ValueError):
    """The load target cannot be built; the message names the file, key or option."""


@dataclass(frozen=True)
class Municipality:
    lgcode: str
    name: str
    population: int


@dataclass(frozen=True)
class LoadTarget:
    """Everything a Locust process needs to know about the system under test."""

    stack: str
    base_url: str
    """https://127.0.0.1:<port> (frontdoor) or http://127.0.0.1:<port> (a service started here)."""
    municipalities: tuple[Municipality, ...]
    sla: SlaTargets
    key_files: dict[str, str] = field(default_factory=dict)
    """lgcode -> path of that municipality's Ed25519 token-signing key (PEM, mode 0600)."""
    path_prefix: str = "/{lgcode}/{service}"
    """how a service's API is reached below base_url; "" for a single service started here."""
    services: tuple[str, ...] = ("residents_registry", "tax", "nhi")
    """services reachable at this target (a lone residents_registry has no tax or nhi)."""
    verify_tls: bool | str = False
    """False for plain http on loopback; else the CA file (PEM) that signed the frontdoor's
    certificate, so load traffic verifies TLS like any client."""
    service_urls: dict[str, str] = field(default_factory=dict)
    """"<lgcode>/<service>" -> http://127.0.0.1:<port> where a service runs without a gateway."""

    def __post_init__(self) -> None:
        from urllib.parse import urlsplit

        # Network rule: load only ever goes to loopback published ports.
        for where, url in (("base_url", self.base_url), *self.service_urls.items()):
            host = urlsplit(url).hostname
            if host != "127.0.0.1":
                raise TargetError(f"{where}: load tests only target 127.0.0.1, got {host!r}")
        missing = [m.lgcode for m in self.municipalities if m.lgcode not in self.key_files]
        if missing:
            raise TargetError(f"key_files: no token-signing key for {', '.join(missing)}")

    def prefix(self, lgcode: str, service: str) -> str:
        """What comes before /api/v1 for one service of one municipality."""
        direct = self.service_urls.get(f"{lgcode}/{service}")
        return direct if direct else self.path_prefix.format(lgcode=lgcode, service=service)

    @property
    def populations(self) -> dict[str, int]:
        return {m.lgcode: m.population for m in self.municipalities}

    def to_json(self) -> str:
        return json.dumps({
            "stack": self.stack, "base_url": self.base_url, "path_prefix": self.path_prefix,
            "services": list(self.services), "verify_tls": self.verify_tls,
            "key_files": self.key_files, "service_urls": self.service_urls,
            "municipalities": [m.__dict__ for m in self.municipalities],
            "sla": {k: v for k, v in self.sla.__dict__.items()},
        }, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "LoadTarget":
        raw = json.loads(text)
        return cls(stack=raw["stack"], base_url=raw["base_url"], path_prefix=raw["path_prefix"],
                   services=tuple(raw["services"]), verify_tls=raw["verify_tls"],
                   key_files=raw["key_files"], service_urls=raw.get("service_urls", {}),
                   municipalities=tuple(Municipality(**m) for m in raw["municipalities"]),
                   sla=SlaTargets(**raw["sla"]))


def stack_config_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_stack_config(stack: str, root: Path = REPO_ROOT) -> tuple[Any, dict[str, Any]]:
    """(validated stacks.config.StackConfig, raw ``municloud:sla`` mapping) of a stack."""
    path = stack_config_file(stack, root)
    if not path.is_file():
        raise TargetError(f"stack config {path.name} not found in {root}")
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    values = document.get("config") or {}
    raw = {key.split(":", 1)[1]: value for key, value in values.items()
           if key.startswith("municloud:")}
    from stacks import config as stack_config

    try:
        validated = stack_config.load(stack, raw, engines=False)  # targets only, no engine
    except stack_config.ConfigError as exc:
        raise TargetError(f"{path.name}: {exc}") from None
    return validated, dict(raw.get("sla") or {})


def sla_from_config(concurrent_users: int, raw_sla: dict[str, Any]) -> SlaTargets:
    """SlaTargets from the stack's ``sla`` mapping, defaults only for the keys it lacks."""
    missing = [k for k in ("p95_ms", "max_failure_ratio", "min_rps") if k not in raw_sla]
    p95 = float(raw_sla.get("p95_ms", LOAD_SLA_DEFAULTS["p95_ms"]))
    ratio = float(raw_sla.get("max_failure_ratio", LOAD_SLA_DEFAULTS["max_failure_ratio"]))
    min_rps = float(raw_sla.get("min_rps",
                                concurrent_users * LOAD_SLA_DEFAULTS["min_rps_per_user"]))
    source = ("stack config" if not missing else
              f"stack config; loadtest defaults for {', '.join(missing)}")
    return SlaTargets(concurrent_users=concurrent_users, p95_ms=p95, max_failure_ratio=ratio,
                      min_rps=min_rps, source=source)


def running_services(stack: str, root: Path = REPO_ROOT) -> tuple[str, ...]:
    """Business services the stack runs for real (image built, not configured as placeholder):
    only their roles are loaded."""
    from stacks import config as stack_config

    validated, _ = read_stack_config(stack, root)
    real = stack_config.built_services() - set(getattr(validated, "placeholder_services", ()))
    return tuple(s for s in stack_config.SERVICES if s in real)


def municipalities_and_sla(stack: str, root: Path = REPO_ROOT) -> tuple[tuple[Municipality, ...],
                                                                         SlaTargets, int]:
    """(municipalities, SLA targets, frontdoor port) of a stack, from its config file."""
    validated, raw_sla = read_stack_config(stack, root)
    municipalities = tuple(Municipality(m.lgcode, m.name, m.population)
                           for m in validated.municipalities)
    sla = sla_from_config(validated.sla.concurrent_users, raw_sla)
    return municipalities, sla, validated.frontdoor_port


def municipality_params(stack: str, root: Path = REPO_ROOT) -> dict:
    """lgcode -> MunicipalityParams of the stack (what its services get as a JSON file)."""
    validated, _ = read_stack_config(stack, root)
    return {m.lgcode: m.params for m in validated.municipalities}


def write_key_files(keys: dict[str, str], directory: Path) -> dict[str, str]:
    """Write private keys as <lgcode>.pem (mode 0600) and return lgcode -> path."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    paths = {}
    for lgcode, pem in keys.items():
        path = directory / f"{lgcode}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(pem)
        paths[lgcode] = str(path)
    return paths


def stack_outputs(stack: str) -> dict:
    """Outputs of a deployed stack, secrets included (``pulumi stack output --show-secrets``).
    Never logged."""
    try:
        proc = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    except FileNotFoundError:
        raise TargetError("pulumi CLI not found: source tools/bootstrap/env.sh "
                          "(or use --local)") from None
    if proc.returncode != 0:
        raise TargetError(f"pulumi stack output --stack {stack} failed (rc {proc.returncode}); "
                          "is the stack up and tools/bootstrap/env.sh sourced?")
    return json.loads(proc.stdout or "{}")


def stack_target(stack: str, key_dir: Path, *, outputs: dict | None = None,
                 root: Path = REPO_ROOT) -> LoadTarget:
    """The deployed stack's frontdoor as a load target: token keys from the secret output
    ``token_private_keys`` (lgcode -> PEM), the consortium CA from ``ca_cert_pem``."""
    municipalities, sla, port = municipalities_and_sla(stack, root)
    outputs = outputs if outputs is not None else stack_outputs(stack)
    keys = outputs.get("token_private_keys")
    if not isinstance(keys, dict) or not keys:
        raise TargetError(f"stack {stack} has no output token_private_keys (lgcode -> PEM)")
    key_files = write_key_files({str(k): str(v) for k, v in keys.items()}, key_dir)
    ca = outputs.get("ca_cert_pem")
    ca_file: bool | str = False
    if ca:
        (key_dir / "ca.crt").write_text(str(ca), encoding="ascii")
        ca_file = str(key_dir / "ca.crt")
    return LoadTarget(stack=stack, base_url=f"https://127.0.0.1:{port}",
                      municipalities=municipalities, sla=sla, key_files=key_files,
                      services=running_services(stack, root), verify_tls=ca_file)
