"""Deploy benchmark (not a test): `pulumi up` wall time on this machine.

Measures, on throwaway stacks with their own local backend (dev and akita configs, their own
network ranges and frontdoor ports, so a running `dev` stack is not touched):
  1. up from empty (dev), 2. no-op up, 3. +1 municipality, 4. up from empty (akita),
and writes the figures to docs/benchmarks.md (section "Deploy"). Images are built beforehand
(image builds are the bootstrap's cost, not the deploy's). Each stack is destroyed at the end.
``--profile`` prints every resource step of each up (start offset, duration, operation) from the
engine's events, slowest first, to see where the time goes.

    .venv/bin/python benchmarks/deploy.py [--skip-akita] [--profile]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from stacks.automation import REPO_ROOT, ScratchStack, free_network_base, free_port, stack_config

TARGETS = {"dev from empty": 120, "no-op up": 20, "+1 municipality": 20, "akita from empty": 240}
MARK_BEGIN, MARK_END = "<!-- deploy-benchmark:begin -->", "<!-- deploy-benchmark:end -->"


#: 1-minute load average at the end of each step (the machine is shared: a figure without it misleads)
LOADS: dict[str, float] = {}


class StepProfile:
    """Per-resource wall time of one up, from the engine's events (pre-event to outputs event)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.started: dict[str, tuple[float, str]] = {}
        self.steps: list[tuple[float, float, str, str]] = []  # (offset, seconds, op, name)

    def on_event(self, event) -> None:
        now = time.monotonic()
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            self.started[meta.urn] = (now, meta.op.value)
        elif event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            begun, op = self.started.pop(meta.urn, (now, meta.op.value))
            # components (municloud:stack:*, the Stack) last as long as their children: not a step
            kind = meta.urn.split("::")[2].rsplit("$", 1)[-1]  # the last of the parent-qualified type
            if op != "same" and not kind.startswith("municloud:stack:") and kind != "pulumi:pulumi:Stack":
                self.steps.append((begun - self.t0, now - begun, op, meta.urn.rsplit("::", 1)[-1]))

    def report(self, label: str, most: int = 25) -> str:
        rows = sorted(self.steps, key=lambda s: -s[1])[:most]
        return "\n".join([f"[profile] {label}: slowest resource steps (start offset, duration)"] +
                          [f"[profile]   {o:6.1f} s +{d:6.1f} s  {op:18} {name}" for o, d, op, name in rows])


PROFILE = False


def _timed(label: str, fn) -> float:
    print(f"[deploy] {label} ...", file=sys.stderr, flush=True)
    profile = StepProfile()
    t0 = time.monotonic()
    result = fn(profile.on_event) if PROFILE else fn(None)
    took = time.monotonic() - t0
    if PROFILE:
        print(profile.report(label), file=sys.stderr, flush=True)
    if getattr(getattr(result, "summary", None), "result", "succeeded") != "succeeded":
        raise RuntimeError(f"{label}: {result.summary.result}")
    LOADS[label] = os.getloadavg()[0]
    print(f"[deploy] {label}: {took:.1f} s (load average {LOADS[label]:.1f})", file=sys.stderr, flush=True)
    return took


def run(skip_akita: bool) -> dict[str, float]:
    from municloud_ops.images import ensure_image

    for name in ("postgres", "nginx", "haproxy", "python", "residents_registry", "tax", "nhi", "platform_hub"):
        ensure_image(name)
    backend = Path(tempfile.mkdtemp(prefix="mc-bench-backend-"))
    quiet = {"on_output": lambda _l: None}
    figures: dict[str, float] = {}
    try:
        base = stack_config("dev", network_base=free_network_base(), frontdoor_port=free_port())
        dev = ScratchStack.create(f"bd{secrets.token_hex(2)}", base, backend_dir=backend)
        stack = dev.stack()
        try:
            figures["dev from empty"] = _timed("dev from empty", lambda ev: stack.up(**quiet, on_event=ev))
            figures["no-op up"] = _timed("no-op up", lambda ev: stack.up(**quiet, on_event=ev))
            from stacks.config import free_slots

            grown = json.loads(json.dumps(base))
            extra = dict(grown["municloud:municipalities"][0], lgcode="053481", name="三種町", population=18818,
                         address_slot=free_slots(m["address_slot"] for m in grown["municloud:municipalities"])[0])
            grown["municloud:municipalities"].append(extra)
            dev.write_config(grown)
            figures["+1 municipality"] = _timed("+1 municipality", lambda ev: stack.up(**quiet, on_event=ev))
        finally:
            stack.destroy(**quiet)
            stack.workspace.remove_stack(dev.name)
            shutil.rmtree(dev.work_dir, ignore_errors=True)
        if not skip_akita:
            akita = ScratchStack.create(f"ba{secrets.token_hex(2)}",
                                        stack_config("akita", network_base=free_network_base(),
                                                                     frontdoor_port=free_port()),
                                        backend_dir=backend)
            # akita is a production stack: it refuses the documented development passphrase (H-6)
            akita.env["PULUMI_CONFIG_PASSPHRASE"] = secrets.token_urlsafe(32)
            astack = akita.stack()
            try:
                figures["akita from empty"] = _timed("akita from empty", lambda ev: astack.up(**quiet, on_event=ev))
            finally:
                astack.destroy(**quiet)
                astack.workspace.remove_stack(akita.name)
                shutil.rmtree(akita.work_dir, ignore_errors=True)
    finally:
        shutil.rmtree(backend, ignore_errors=True)
    return figures


def write_report(figures: dict[str, float]) -> Path:
    path = REPO_ROOT / "docs" / "benchmarks.md"
    rows = "\n".join(f"| {k} | {v:.1f} s | {TARGETS[k]} s | {'met' if v <= TARGETS[k] else 'MISSED'} | "
                     f"{LOADS.get(k, float('nan')):.1f} |" for k, v in figures.items())
    section = (f"{MARK_BEGIN}\n## Deploy (`benchmarks/deploy.py`)\n\nMeasured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
               f"on this machine ({os.cpu_count()} cores), wall time of `pulumi up` through the Automation API, "
               f"images already built, local file backend; load average = the machine's 1-minute load when the step "
               f"ended.\n\n| step | measured | target | | load average |\n|---|---|---|---|---|\n"
               f"{rows}\n{MARK_END}\n")
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if MARK_BEGIN in text:
        text = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END) + "\n", section, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-akita", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print the slowest resource steps of each up")
    args = parser.parse_args()
    global PROFILE
    PROFILE = args.profile
    figures = run(args.skip_akita)
    print(f"wrote {write_report(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
