"""A live consortium stack for tests: `pulumi up` of the real program through the Automation API.

One throwaway stack (default name ``citest``) built from ``Pulumi.dev.yaml`` with its own
frontdoor port and network range (free ones), so it never collides with a developer's ``make up``
stack on the same engine. Its scratch project comes from ``stacks.automation.ScratchStack`` and its
file backend lives in ``.state/test-stacks/<name>/`` (ignored), so ``git status`` stays clean.

Used by the session fixture ``live_stack`` (tests/conftest.py): infra, security, load,
conformance and DR tests share one stack per test session; ``close()`` destroys it and removes
anything still labelled for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import yaml

from municloud_ops.images import STATE_DIR

log = logging.getLogger("support.stack")

#: the suite's named stacks: the environment variable that renames each, and its default name
SUITE_STACKS = {
    "MC_TEST_STACK": "citest",          # the session's shared stack (tests/conftest.py)
    "MC_LOAD_STACK": "citestload",      # the load gate's (tests/load)
    "MC_DR_STACK": "citestdr",          # the DR rehearsal's (tests/dr/stacks)
    "MC_TEST_DRHUB_STACK": "drhub1",    # the warm hub standby's (tests/dr/stacks)
    "MC_AKITA_STACK": "citestakita",    # the Akita consortium's (tests/e2e)
    "MC_TWO_SITE_STACK": "ts2sites",    # the two-site rehearsal's, on the site hosts (tests/dr/sites)
}


def suite_stack(variable: str) -> str:
    """The name of one of the suite's stacks (SUITE_STACKS), as the environment sets it."""
    return os.environ.get(variable) or SUITE_STACKS[variable]


def sweep_suite_orphans(client=None) -> list[str]:
    """Before a run with live tests: remove whatever a cut-off run left of the suite's named
    stacks on the engine (remove_orphans); the load gate, which runs first, then shares the
    machine with none of it. Returns a sentence per stack that had some."""
    return [said for said in (remove_orphans(name, STATE_DIR / "test-stacks" / name / "state", client)
                              for name in sorted({suite_stack(v) for v in SUITE_STACKS})) if said]


def default_overrides() -> dict[str, Any]:
    """A test stack's own frontdoor port and address range: free ones on this engine, unless
    pinned with MC_TEST_FRONTDOOR_PORT / MC_TEST_NETWORK_BASE (two runs can share one engine);
    and the test-stack mark, so `municloud loadtest reset` may empty its members' data."""
    from stacks.automation import free_network_base, free_port

    return {
        "municloud:test_stack": True,
        "municloud:frontdoor_port": int(os.environ.get("MC_TEST_FRONTDOOR_PORT") or free_port()),
        "municloud:network_base": os.environ.get("MC_TEST_NETWORK_BASE") or free_network_base(),
    }


def _progress(prefix: str):
    t0 = time.monotonic()
    logfile = STATE_DIR / "logs" / f"{prefix}.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    fh = logfile.open("a", encoding="utf-8")

    def on_output(line: str) -> None:
        fh.write(line + "\n")
        fh.flush()
        stripped = line.strip()
        if stripped.startswith(("+ ", "- ", "~ ", "error", "Resources:", "Duration:")) or "created (" in stripped:
            print(f"[municloud] {prefix} {time.monotonic() - t0:6.1f}s {stripped}", flush=True)

    return on_output


@dataclass
class LiveStack:
    """A stack that is up; accessors for what tests need (URLs, CA, tokens, containers)."""

    name: str
    work_dir: Path
    stack: Any  # pulumi.automation.Stack
    scratch: Any = None  # stacks.automation.ScratchStack
    outputs: dict[str, Any] = field(default_factory=dict)
    #: where this machine reaches the frontdoor when it is published from a site host
    #: (support.sites.publish_frontdoor), else None: the frontdoor's own address
    published_url: str | None = None

    @property
    def frontdoor_url(self) -> str:
        return self.published_url or self.outputs["frontdoor_url"]

    @property
    def municipalities(self) -> dict[str, dict]:
        return self.outputs["municipalities"]

    @cached_property
    def ca_file(self) -> Path:
        path = self.work_dir / "ca.crt"
        path.write_text(self.outputs["ca_cert_pem"])
        return path

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def token(self, lgcode: str, audience: str, *, staff_id: str = "test-staff",
              purpose: str | None = None, ttl_s: int = 300) -> str:
        """A bearer token signed with ``lgcode``'s own key (from the stack's secret outputs)."""
        from municloud import auth

        key = self.outputs["token_private_keys"][lgcode]
        return auth.issue_token(key, lgcode, staff_id, purpose or sorted(auth.PURPOSES)[0], audience, ttl_s)

    def container(self, component: str, lgcode: str = "shared", site: str = "primary"):
        """The one container labelled for this stack with that component / municipality / site."""
        filters = {"label": [f"municloud.stack={self.name}", f"municloud.component={component}",
                             f"municloud.lgcode={lgcode}", f"municloud.site={site}"]}
        found = self.engine(site).containers.list(all=True, filters=filters)
        if len(found) != 1:
            raise LookupError(f"expected one {component} container for {lgcode}@{site} in stack "
                              f"{self.name}, found {len(found)}")
        return found[0]

    def engine(self, site: str = "primary"):
        """A Docker client of ``site``'s engine: the machine's own, or the site's over tcp+TLS
        (``municloud:sites`` of the stack's config)."""
        import docker

        from stacks.providers._base import engine_client

        entry = (self.config("municloud:sites") or {}).get(site) or {}
        host = entry.get("docker_host", "")
        if not host.startswith("tcp://"):
            return docker.from_env()
        return engine_client(host, {"ca_cert": entry["tls_ca_cert"], "cert": entry["tls_cert"],
                                    "key": entry["tls_key"]}, timeout=60)

    def refresh_outputs(self) -> None:
        self.outputs = {k: v.value for k, v in self.stack.outputs().items()}

    def up(self, on_event=None) -> Any:
        from stacks.automation import POLICY_PACK

        # The guardrails (docs/security.md): resource rules refuse before a resource is made; the
        # Automation API's `up` skips the preview, so the whole-graph rules are judged at its end.
        result = self.stack.up(on_output=_progress(f"stack-{self.name}-up"), color="never",
                               suppress_progress=True, policy_packs=[str(POLICY_PACK)], on_event=on_event)
        self.refresh_outputs()
        return result

    def update_config(self, changes: dict[str, Any]) -> None:
        """Change config keys (structured values keep their YAML types) in the stack's settings file."""
        config = yaml.safe_load((self.work_dir / f"Pulumi.{self.name}.yaml").read_text(encoding="utf-8"))["config"]
        config.update(changes)
        self.scratch.write_config(config)

    def config(self, key: str) -> Any:
        path = self.work_dir / f"Pulumi.{self.name}.yaml"
        return yaml.safe_load(path.read_text(encoding="utf-8")).get("config", {}).get(key)

    def close(self, destroy: bool = True) -> str:
        """Destroy the stack and remove anything still labelled for it; returns a sentence."""
        t0 = time.monotonic()
        if destroy:
            try:
                self.stack.destroy(on_output=_progress(f"stack-{self.name}-destroy"), color="never",
                                   suppress_progress=True)
            finally:
                leftovers = remove_labelled(self.name)
            return (f"destroyed stack {self.name} in {time.monotonic() - t0:.1f} s "
                    f"({leftovers} labelled objects left behind by destroy removed)")
        return f"kept stack {self.name} up (MC_TEST_KEEP_STACK set)"


def remove_labelled(stack_name: str, client=None) -> int:
    """Remove every container, network and volume labelled municloud.stack=<stack_name> (on the
    local engine, or on ``client``'s)."""
    import docker

    client = client or docker.from_env()
    flt = {"label": f"municloud.stack={stack_name}"}
    removed = 0
    for c in client.containers.list(all=True, filters=flt):
        c.remove(force=True, v=True)
        removed += 1
    for n in client.networks.list(filters=flt):
        n.remove()
        removed += 1
    for v in client.volumes.list(filters=flt):
        v.remove(force=True)
        removed += 1
    return removed


def open_stack(name: str = "citest", overrides: dict[str, Any] | None = None,
               base_config: str = "Pulumi.dev.yaml") -> LiveStack:
    """Create or select the throwaway stack ``name`` (not yet up), in a scratch project directory
    (stacks.automation.ScratchStack) with its file backend in .state/test-stacks/<name>."""
    from stacks.automation import ScratchStack, stack_config

    base = base_config.removeprefix("Pulumi.").removesuffix(".yaml")
    backend_dir = STATE_DIR / "test-stacks" / name / "state"
    swept = remove_orphans(name, backend_dir)
    if swept:
        print("\n[municloud]", swept, flush=True)
    config = stack_config(base)
    config.update({**_own_range(name, backend_dir), **(overrides or {})})
    scratch = ScratchStack.create(name, config, backend_dir=backend_dir)
    return LiveStack(name=name, work_dir=scratch.work_dir, stack=scratch.stack(), scratch=scratch)


def _own_range(name: str, backend_dir: Path) -> dict[str, Any]:
    """The stack's frontdoor port and address range: those it was brought up with while it is still
    up here (MC_TEST_KEEP_STACK: the next run's `up` is then a no-op, not a move of every network),
    else free ones (default_overrides), written beside its state for that next run."""
    import json

    kept = backend_dir.parent / "range.json"
    if state_resources(name, backend_dir) and kept.is_file():
        return json.loads(kept.read_text(encoding="utf-8"))
    chosen = default_overrides()
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(chosen), encoding="utf-8")
    return chosen


def state_resources(name: str, backend_dir: Path) -> int:
    """How many resources this checkout's file backend holds for the test stack ``name`` (0 when it
    has never been up here, or was destroyed)."""
    import json

    count = 0
    for checkpoint in (backend_dir / ".pulumi" / "stacks").glob(f"*/{name}.json"):
        latest = (json.loads(checkpoint.read_text(encoding="utf-8")).get("checkpoint") or {}).get("latest")
        count += len((latest or {}).get("resources") or [])
    return count


def remove_orphans(name: str, backend_dir: Path, client=None) -> str | None:
    """Docker objects labelled for the test stack ``name`` that no state of this checkout manages
    (a run that was cut off, e.g. by the end of a session, in another clone sharing the engine): a
    new `up` would meet their names, and their containers, restarted with the engine, would load
    the machine. They are removed first; returns a sentence, or None when there were none (or the
    stack has state here, which then is the one to destroy them)."""
    import docker

    client = client or docker.from_env()
    if state_resources(name, backend_dir):
        return None
    flt = {"label": f"municloud.stack={name}"}
    found = (len(client.containers.list(all=True, filters=flt)) + len(client.networks.list(filters=flt))
             + len(client.volumes.list(filters=flt)))
    if not found:
        return None
    removed = remove_labelled(name, client)
    return (f"removed {removed} Docker objects labelled for stack {name} that no state in "
            f"{backend_dir} manages (left by a run that was cut off) before bringing it up")


def engine_neighbours(name: str, client=None) -> str:
    """The running containers on the engine that are not the stack ``name``'s, by stack: what else
    shared the machine's cores while a measurement ran on ``name``."""
    import collections

    import docker

    client = client or docker.from_env()
    others = collections.Counter(
        (c.labels.get("municloud.stack") or "unlabelled") for c in client.containers.list()
        if c.labels.get("municloud.stack") != name)
    if not others:
        return f"no other container ran on the engine beside stack {name}"
    listed = ", ".join(f"{stack} {n}" for stack, n in sorted(others.items()))
    return f"{sum(others.values())} other containers ran on the engine beside stack {name} ({listed})"


@contextlib.contextmanager
def stack_up(name: str, **open_kwargs: Any) -> Iterator[LiveStack]:
    """``with stack_up("citestdr") as live: ...``: open, `up`, and destroy at the end even on failure
    (MC_TEST_KEEP_STACK=1 keeps it up for the next run)."""
    stack = open_stack(name, **open_kwargs)
    try:
        stack.up()
        yield stack
    finally:
        print("\n[municloud]", stack.close(destroy=not os.environ.get("MC_TEST_KEEP_STACK")))
