"""Deploy benchmark (not a test): `pulumi up` wall time on this machine.

Measures, on throwaway stacks with their own local backend (dev and akita configs, their own
network ranges and frontdoor ports, so a running `dev` stack is not touched):
  dev: 1. up from empty, 2. no-op up, 3. +1 municipality;
  akita (12 members, both sites): 4. up from empty, 5. no-op up, 6. +1 member (秋田市, appended),
  7. -1 member from the middle of the list (八峰町, the fifth of twelve);
and writes the figures to docs/benchmarks.md (section "Deploy"; a step not measured in this run
keeps its last row, with its date and commit) and one line per run to reports/benchmarks.jsonl
(commit, date, the machine's load). Images are built beforehand (image builds are the bootstrap's
cost, not the deploy's). Each stack is destroyed at the end. ``--profile`` prints every resource
step of each up (start offset, duration, operation) from the engine's events, slowest first, to
see where the time goes. ``--idle-sample S`` waits S seconds after akita's up from empty and
prints what the stack costs standing still: the machine's busy share, the CPU its containers
used (cgroups) and how many health checks the engine ran in them (their health logs).

    .venv/bin/python benchmarks/deploy.py [--skip-dev] [--skip-akita] [--profile] [--idle-sample S]
"""

from __future__ import annotations

import argparse
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

TARGETS = {"dev from empty": 120, "no-op up": 20, "+1 municipality": 20,
           # the consortium at its real size (docs/benchmarks.md "Deploy"): 2 cores
           "akita from empty": 120, "akita no-op up": 5, "akita +1 member": 15, "akita -1 member (middle)": 15}
#: the akita membership steps: who joins (appended, next free address slot) and who leaves
AKITA_JOINER = {"lgcode": "052019", "name": "秋田市", "population": 307672}
AKITA_LEAVER = "053490"  # 八峰町, the fifth of twelve
MARK_BEGIN, MARK_END = "<!-- deploy-benchmark:begin -->", "<!-- deploy-benchmark:end -->"


#: 1-minute load average at the end of each step (the machine is shared: a figure without it misleads)
LOADS: dict[str, float] = {}
#: the steps measured so far (a run stopped by SIGTERM still records them, after destroying its stacks)
FIGURES: dict[str, float] = {}


class StepProfile:
    """Per-resource wall time of one up, from the engine's events (pre-event to outputs event)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.started: dict[str, tuple[float, str]] = {}
        self.steps: list[tuple[float, float, str, str, str]] = []  # (offset, seconds, op, name, kind)

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
                self.steps.append((begun - self.t0, now - begun, op, meta.urn.rsplit("::", 1)[-1],
                                   kind.rsplit(":", 1)[-1]))

    def report(self, label: str, most: int = 25) -> str:
        rows = sorted(self.steps, key=lambda s: -s[1])[:most]
        kinds: dict[tuple[str, str], list[float]] = {}
        for _o, d, op, _n, kind in self.steps:
            kinds.setdefault((kind, op), []).append(d)
        return "\n".join([f"[profile] {label}: slowest resource steps (start offset, duration)"] +
                          [f"[profile]   {o:6.1f} s +{d:6.1f} s  {op:18} {name}" for o, d, op, name, _k in rows] +
                          [f"[profile] {label}: by kind (steps, sum of durations, longest)"] +
                          [f"[profile]   {k:16} {op:18} {len(ds):3}  {sum(ds):7.1f} s  {max(ds):6.1f} s"
                           for (k, op), ds in sorted(kinds.items(), key=lambda kv: -sum(kv[1]))])


PROFILE = False
IDLE_SAMPLE_S = 0.0


def idle_sample(stack: str, seconds: float) -> str:
    """What the stack's containers cost while nothing is deployed: the machine's busy share over
    ``seconds``, the containers' CPU (cgroups), and the engine's health checks run in them."""
    import datetime as dt

    import docker

    from municloud_ops.cost.cgroup import cpu_ns

    client = docker.from_env(timeout=120)
    ids = [c.id for c in client.containers.list(filters={"label": f"municloud.stack={stack}"})]

    def machine() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait

    before, m0, t0 = {i: cpu_ns(i) for i in ids}, machine(), dt.datetime.now(dt.timezone.utc)
    time.sleep(seconds)
    after, m1 = {i: cpu_ns(i) for i in ids}, machine()
    busy = 1 - (m1[1] - m0[1]) / max(1, m1[0] - m0[0])
    used = sum((after[i] or 0) - (before[i] or 0) for i in ids) / 1e9
    checks = 0
    for i in ids:
        log = (client.api.inspect_container(i)["State"].get("Health") or {}).get("Log") or []
        # the engine keeps the last 5 results: a container checked more often in the window counts 5
        checks += sum(1 for r in log if dt.datetime.fromisoformat(r["Start"][:26].rstrip("Z") + "+00:00") >= t0)
    return (f"{len(ids)} containers standing still for {seconds:.0f} s: machine busy {100 * busy:.0f}% of "
            f"{os.cpu_count()} cores, the containers' own CPU {used / seconds:.2f} cores, health checks in them "
            f"{checks / seconds:.1f}/s (at least; the engine keeps 5 results), load average {os.getloadavg()[0]:.1f}")


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


def run(skip_dev: bool, skip_akita: bool) -> dict[str, float]:
    from municloud_ops.images import ensure_image

    for name in ("postgres", "nginx", "haproxy", "python", "residents_registry", "tax", "nhi", "platform_hub"):
        ensure_image(name)
    backend = Path(tempfile.mkdtemp(prefix="mc-bench-backend-"))
    quiet = {"on_output": lambda _l: None}
    figures = FIGURES
    from stacks.config import free_slots

    try:
        if not skip_dev:
            base = stack_config("dev", network_base=free_network_base(), frontdoor_port=free_port())
            dev = ScratchStack.create(f"bd{secrets.token_hex(2)}", base, backend_dir=backend)
            stack = dev.stack()
            try:
                figures["dev from empty"] = _timed("dev from empty", lambda ev: stack.up(**quiet, on_event=ev))
                figures["no-op up"] = _timed("no-op up", lambda ev: stack.up(**quiet, on_event=ev))
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
            # the health wait is a bound, not a delay: raised so that a loaded shared machine measures
            # a slow up instead of failing it (a container that is healthy passes at once)
            config = stack_config("akita", network_base=free_network_base(), frontdoor_port=free_port(),
                                  health_timeout_s=600)
            akita = ScratchStack.create(f"ba{secrets.token_hex(2)}", config, backend_dir=backend)
            # akita is a production stack: it refuses the documented development passphrase (H-6)
            akita.env["PULUMI_CONFIG_PASSPHRASE"] = secrets.token_urlsafe(32)
            astack = akita.stack()
            members = config["municloud:municipalities"]
            try:
                figures["akita from empty"] = _timed("akita from empty", lambda ev: astack.up(**quiet, on_event=ev))
                if IDLE_SAMPLE_S:
                    print(f"[idle] akita: {idle_sample(akita.name, IDLE_SAMPLE_S)}", file=sys.stderr, flush=True)
                figures["akita no-op up"] = _timed("akita no-op up", lambda ev: astack.up(**quiet, on_event=ev))
                joiner = dict(json.loads(json.dumps(members[0])), **AKITA_JOINER,
                              address_slot=free_slots(m["address_slot"] for m in members)[0])
                config["municloud:municipalities"] = members = members + [joiner]
                akita.write_config(config)
                figures["akita +1 member"] = _timed("akita +1 member", lambda ev: astack.up(**quiet, on_event=ev))
                middle = [m["lgcode"] for m in members].index(AKITA_LEAVER)
                assert 0 < middle < len(members) - 1, "the leaver must be in the middle of the list"
                config["municloud:municipalities"] = [m for m in members if m["lgcode"] != AKITA_LEAVER]
                akita.write_config(config)
                figures["akita -1 member (middle)"] = _timed("akita -1 member (middle)",
                                                             lambda ev: astack.up(**quiet, on_event=ev))
            finally:
                astack.destroy(**quiet)
                astack.workspace.remove_stack(akita.name)
                shutil.rmtree(akita.work_dir, ignore_errors=True)
    finally:
        shutil.rmtree(backend, ignore_errors=True)
    return figures


ROW = re.compile(r"^\| (?P<step>[^|]+?) \| (?P<measured>[\d.]+) s \| [^|]+ \| [^|]* \| (?P<load>[^|]+?) \|"
                 r"(?: (?P<when>[^|]+?) \| (?P<commit>[^|]+?) \|)?$", re.M)


def _previous_rows(section: str) -> dict[str, dict[str, str]]:
    """The rows of the section written last time: step -> measured, load, when, commit (a row of
    the older five-column table takes the section's date)."""
    header = re.search(r"Measured (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", section)
    return {m["step"]: {"measured": float(m["measured"]), "load": m["load"],
                        "when": m["when"] or (header[1] if header else "—"), "commit": m["commit"] or "—"}
            for m in ROW.finditer(section) if m["step"] in TARGETS}


def write_report(figures: dict[str, float], commit: str, when: str) -> Path:
    path = REPO_ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    old = re.search(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), text, flags=re.S)
    rows = _previous_rows(old[0]) if old else {}
    for k, v in figures.items():
        rows[k] = {"measured": v, "load": f"{LOADS.get(k, float('nan')):.1f}", "when": when, "commit": commit}
    table = "\n".join(f"| {k} | {r['measured']:.1f} s | {TARGETS[k]} s | "
                      f"{'met' if r['measured'] <= TARGETS[k] else 'MISSED'} | {r['load']} | {r['when']} | "
                      f"{r['commit']} |" for k in TARGETS if (r := rows.get(k)))
    section = (f"{MARK_BEGIN}\n## Deploy (`benchmarks/deploy.py`)\n\nLast run {when} UTC on this machine "
               f"({os.cpu_count()} cores) at commit {commit}: wall time of `pulumi up` through the Automation API, "
               f"images already built, local file backend; load average = the machine's 1-minute load (`uptime`) "
               f"when the step ended. A step not measured in the last run keeps its row of its own date.\n\n"
               f"| step | measured | target | | load average | when (UTC) | commit |\n|---|---|---|---|---|---|---|\n"
               f"{table}\n{MARK_END}\n")
    if old:
        text = text[:old.start()] + section.rstrip("\n") + text[old.end():]
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text)
    return path


def record_history(figures: dict[str, float], note: str) -> dict:
    """One line in reports/benchmarks.jsonl: seconds per step and the load at each step's end."""
    from municloud_ops.loadtest import bench_history

    flat = {f"{k} s": round(v, 1) for k, v in figures.items()}
    flat.update({f"load at end: {k}": round(LOADS[k], 1) for k in figures if k in LOADS})
    return bench_history.append("deploy", flat, note=note)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-dev", action="store_true")
    parser.add_argument("--skip-akita", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print the slowest resource steps of each up")
    parser.add_argument("--idle-sample", type=float, default=0.0, metavar="S",
                        help="after akita's up from empty, sample S seconds of the stack standing still")
    args = parser.parse_args()
    global PROFILE, IDLE_SAMPLE_S
    PROFILE, IDLE_SAMPLE_S = args.profile, args.idle_sample

    import signal

    def stop(_sig, _frame):
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, stop)  # stop = destroy the stacks, then record the steps measured
    started = os.getloadavg()[0]
    complete = False
    try:
        run(args.skip_dev, args.skip_akita)
        complete = True
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - the steps measured are still recorded
        print(f"[deploy] stopped after {len(FIGURES)} step(s): {type(exc).__name__}: {exc}", file=sys.stderr)
    figures = dict(FIGURES)
    if not figures:
        return 1
    record = record_history(figures, note=f"deploy.py{' --skip-dev' if args.skip_dev else ''}"
                                          f"{' --skip-akita' if args.skip_akita else ''}; 1-minute load "
                                          f"{started:.1f} at the start"
                                          f"{'' if complete else '; stopped before every step ran'}")
    print(f"recorded in reports/benchmarks.jsonl at commit {record['commit']}")
    print(f"wrote {write_report(figures, record['commit'], record['at'][:16].replace('T', ' '))}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
