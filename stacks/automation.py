"""Driving the program through the Pulumi Automation API (tests, benchmark, CLI).

A *scratch* project directory (temp dir with a copy of Pulumi.yaml, a symlink to ``stacks/``
and the stack's config file) keeps throwaway stacks out of the checkout. The environment is the
one ``tools/bootstrap/env.sh`` sets: project-local PULUMI_HOME, local file backend, passphrase
secrets provider, no update checks, no plugin downloads.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = Path(os.environ.get("MC_STATE", REPO_ROOT / ".state"))
DEV_PASSPHRASE = "municloud-dev-only-passphrase"  # documented development passphrase (env.sh)
#: the consortium's guardrails (docs/security.md): every preview/up of the project runs them
POLICY_PACK = REPO_ROOT / "policies"


def pulumi_env(backend_dir: Path | None = None) -> dict[str, str]:
    """The variables every Pulumi run of the project needs (env.sh wins where already set)."""
    env = {
        "PULUMI_HOME": os.environ.get("PULUMI_HOME", str(STATE_DIR / "pulumi-home")),
        "PULUMI_BACKEND_URL": f"file://{backend_dir}" if backend_dir else
        os.environ.get("PULUMI_BACKEND_URL", f"file://{STATE_DIR / 'pulumi-state'}"),
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", DEV_PASSPHRASE),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": str(REPO_ROOT / ".venv" / "bin" / "python"),
        "PATH": f"{STATE_DIR / 'bin'}:{REPO_ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    for path in (env["PULUMI_HOME"], env["PULUMI_BACKEND_URL"].removeprefix("file://")):
        Path(path).mkdir(parents=True, exist_ok=True)
    return env


def stack_config(base_stack: str = "dev", *, site_hosts: bool = False, **overrides: Any) -> dict[str, Any]:
    """The ``municloud:*`` config of a committed stack file, with overrides (key without namespace).

    A scratch stack (tests, benchmarks) made from a file whose sites are this machine's site hosts
    (``municloud:sites: site-hosts``, Pulumi.dev.yaml) runs on the machine's own engine unless it
    asks for the hosts (``site_hosts=True``, or ``sites`` in the overrides): a stack across the
    hosts takes one of their four routed blocks (tools/bootstrap/wan.sh), and `make up`'s dev stack
    holds the first (decision 0045)."""
    from stacks.config import SITE_HOSTS

    doc = yaml.safe_load((REPO_ROOT / f"Pulumi.{base_stack}.yaml").read_text())
    config = {k: v for k, v in doc["config"].items()}
    if config.get("municloud:sites") == SITE_HOSTS and not site_hosts:
        del config["municloud:sites"]
    for key, value in overrides.items():
        config[f"municloud:{key}"] = value
    return config


class _QuotingDumper(yaml.SafeDumper):
    """Quotes every all-digit string: PyYAML leaves 053279 bare (not octal to it), and Pulumi's Go
    YAML reader then loads it as an int, so the stack config would reject the lgcode."""


_QuotingDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="'" if value.isdigit() else None))


def stack_settings_yaml(config: dict[str, Any]) -> str:
    """A ``Pulumi.<stack>.yaml`` holding ``config``, as Pulumi reads it back (codes stay strings)."""
    return yaml.dump({"config": config}, Dumper=_QuotingDumper, allow_unicode=True, sort_keys=False)


@dataclass
class ScratchStack:
    """A throwaway stack in its own scratch project directory and (optionally) its own backend."""

    name: str
    work_dir: Path
    env: dict[str, str]

    @classmethod
    def create(cls, name: str, config: dict[str, Any], backend_dir: Path | None = None) -> "ScratchStack":
        work_dir = Path(tempfile.mkdtemp(prefix=f"mc-stack-{name}-"))
        project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
        project["runtime"]["options"]["virtualenv"] = str(REPO_ROOT / ".venv")
        (work_dir / "Pulumi.yaml").write_text(yaml.safe_dump(project, allow_unicode=True, sort_keys=False))
        (work_dir / "stacks").symlink_to(REPO_ROOT / "stacks")
        scratch = cls(name, work_dir, pulumi_env(backend_dir))
        scratch.write_config(config)
        return scratch

    def write_config(self, config: dict[str, Any]) -> None:
        (self.work_dir / f"Pulumi.{self.name}.yaml").write_text(stack_settings_yaml(config))

    def stack(self):
        from pulumi import automation as auto

        ws = auto.LocalWorkspace(work_dir=str(self.work_dir), env_vars=self.env,
                                 pulumi_home=self.env["PULUMI_HOME"])
        return auto.Stack.create_or_select(self.name, ws)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for a throwaway stack's frontdoor)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_network_base(docker_host: str | None = None, exclude: tuple[str, ...] = ()) -> str:
    """A private /16 (10.200-10.249) that no existing network of the engine overlaps, nor any of
    ``exclude`` (ranges already chosen for stacks not yet up)."""
    import ipaddress

    import docker

    client = docker.DockerClient(base_url=docker_host) if docker_host else docker.from_env()
    used = []
    for net in client.networks.list():
        for cfg in (net.attrs.get("IPAM") or {}).get("Config") or []:
            if cfg.get("Subnet"):
                used.append(ipaddress.ip_network(cfg["Subnet"]))
    used += [ipaddress.ip_network(e) for e in exclude]
    for second in range(200, 250):
        candidate = ipaddress.ip_network(f"10.{second}.0.0/16")
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise RuntimeError("no free 10.200-249.0.0/16 network range on the engine")


def timed(label: str, fn, *args, **kwargs):
    """Run ``fn`` and return (result, sentence with the elapsed time)."""
    t0 = time.monotonic()
    result = fn(*args, **kwargs)
    return result, f"{label} in {time.monotonic() - t0:.1f} s"
