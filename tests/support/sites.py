"""The site hosts of this machine (tools/bootstrap/site-hosts.sh), for tests and rehearsals.

Each site is a Docker engine in its own network namespace, reached over tcp+TLS with the
operator's client certificate from the consortium's engine CA ($MC_STATE/pki).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from municloud_ops.images import REPO_ROOT, STATE_DIR

SCRIPT = REPO_ROOT / "tools" / "bootstrap" / "site-hosts.sh"
WAN_SCRIPT = REPO_ROOT / "tools" / "bootstrap" / "wan.sh"
PKI = STATE_DIR / "pki"


#: the routed block (tools/bootstrap/wan.sh: four per host) the test suite's stacks and WAN checks
#: take on each site host; 0 is `make up`'s dev stack, which may be up beside the suite
TEST_BLOCK_SLOT = 1
#: the routed block of the suite's own labs on the hosts (tests/support/dr_lab.py `wan_pair`), beside
#: the suite's two-host stack, which may still be up in the same package (tests/dr/sites/conftest.py)
LAB_BLOCK_SLOT = 2
#: an application client's host number in a routed block: above the servers' (.10-.241), whose new
#: flows the site hosts hold to their peer and the repository (tools/bootstrap/wan.sh `pair_rules`)
CLIENT_HOST = 250


class SiteHostError(RuntimeError):
    """The set-up script failed; the message carries its output."""


def _run(*args: str, timeout: int = 120, script: Path = SCRIPT) -> str:
    proc = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "MC_STATE": str(STATE_DIR)})
    if proc.returncode != 0:
        raise SiteHostError(f"{script.name} {' '.join(args)} failed (exit {proc.returncode}): "
                            f"{(proc.stderr + proc.stdout).strip()[-2000:]}")
    return (proc.stdout + proc.stderr).strip()


@dataclass(frozen=True)
class SiteHost:
    """One site host: its name, engine address, network namespace and the machine's link address."""

    name: str
    docker_host: str
    namespace: str
    link_address: str
    engine_socket: str
    """the engine's own unix socket on the host (its supervisor and prober mount it)"""

    @property
    def address(self) -> str:
        return self.docker_host.removeprefix("tcp://").rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        """the engine API's TCP port at ``address``"""
        return int(self.docker_host.rsplit(":", 1)[1])

    @staticmethod
    def tls() -> dict[str, str]:
        return {"ca_cert": str(PKI / "ca.pem"), "cert": str(PKI / "client-cert.pem"),
                "key": str(PKI / "client-key.pem")}

    def site_config(self, role: str, slot: int = TEST_BLOCK_SLOT) -> dict[str, str]:
        """The ``municloud:sites.<name>`` entry of a stack on this host (with one of the host's
        routed blocks as ``wan_subnet``: every site on an engine of its own names it, decision 0034)."""
        tls = self.tls()
        return {"docker_host": self.docker_host, "role": role, "tls_ca_cert": tls["ca_cert"],
                "tls_cert": tls["cert"], "tls_key": tls["key"], "wan_subnet": wan_block(self.name, slot),
                "engine_socket": self.engine_socket}

    def client(self, timeout: int = 120):
        from stacks.providers._base import engine_client

        return engine_client(self.docker_host, self.tls(), timeout)


def host(name: str) -> SiteHost:
    docker_host, namespace, link, socket = _run("address", name).split()
    return SiteHost(name, docker_host, namespace, link, socket)


def up(*names: str) -> str:
    """Start (or find running) the named site hosts; returns the script's sentences."""
    return _run("up", *names)


def power_off(name: str) -> str:
    return _run("kill", name)


def isolate(name: str, on: bool) -> str:
    """The host's management cable out (``on``) or in: its engine answers nobody, its processes run
    on (with ``wan_partition(True)`` the site is cut off from everything)."""
    return _run("isolate", name, "on" if on else "off")


def remove(name: str) -> str:
    return _run("down", name)


def wan_up(*names: str) -> str:
    """The router between the site hosts and its delay line (tools/bootstrap/wan.sh)."""
    return _run("up", *names, script=WAN_SCRIPT)


def wan_set(**settings: float) -> str:
    """Change the link: delay_ms, jitter_ms (one-way), rate_mbit (0 = unlimited)."""
    return _run("set", *(f"{k}={v}" for k, v in settings.items()), script=WAN_SCRIPT)


def wan_partition(on: bool) -> str:
    return _run("partition", "on" if on else "off", script=WAN_SCRIPT)


def wan_block(name: str, slot: int = TEST_BLOCK_SLOT) -> str:
    """A routed /24 of a site host: where one stack's WAN-facing networks live."""
    return _run("block", name, str(slot), script=WAN_SCRIPT)


def publish(name: str, port: int, address: str) -> str:
    """This machine's 127.0.0.1:``port`` is ``address:port`` on site host ``name``, each client's
    loopback address seen there as an address of its own (site-hosts.sh publish)."""
    return _run("publish", name, str(port), address)


def unpublish(port: int) -> str:
    return _run("unpublish", str(port))


def publish_frontdoor(stack) -> str:
    """Publish the frontdoor of ``stack`` (on the site host that holds its address, listening on its
    WAN address) at this machine's 127.0.0.1, and point the stack's ``frontdoor_url`` there;
    returns the sentence."""
    from urllib.parse import urlsplit

    from stacks.config import site_host_of

    url = urlsplit(stack.outputs["frontdoor_url"])
    name = site_host_of(url.hostname)
    assert name, f"the frontdoor of stack {stack.name} ({url.hostname}) is on none of this machine's site hosts"
    sentence = publish(name, url.port, url.hostname)
    stack.published_url = f"https://127.0.0.1:{url.port}"
    return sentence


def wan_status() -> str:
    """The link's settings and the delay line's pid (``... ; delay line pid N``)."""
    return _run("status", script=WAN_SCRIPT)


def two_site_config(path: Path = REPO_ROOT / "stacks" / "configs" / "two-sites.yaml") -> dict:
    """The config of a stack on this machine's primary and dr site hosts: the overlay's base
    stack, its first ``members`` municipalities, the overlay's keys, and ``municloud:sites`` from
    the hosts themselves (their engines over tcp+TLS, their routed blocks as ``wan_subnet``)."""
    import yaml

    from stacks.automation import stack_config

    overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
    config = stack_config(overlay["base"])
    config["municloud:municipalities"] = config["municloud:municipalities"][: overlay["members"]]
    config.update(overlay.get("config") or {})
    config["municloud:sites"] = {name: host(name).site_config(name)
                                 for name in ("primary", "dr")}
    return config


def swarm(site: str, *nodes: str) -> str:
    """The nodes (site hosts, ``NAME`` or ``NAME=INDEX``) of ``site`` on the site's LAN, joined into
    one swarm, the first node its manager (idempotent); returns the script's sentences."""
    return _run("swarm", site, *nodes)


def lan_down(site: str) -> str:
    """Remove the site's LAN switch (its nodes stay: ``remove``)."""
    return _run("lan-down", site)
