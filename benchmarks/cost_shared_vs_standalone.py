"""Shared vs standalone benchmark (not a test): one consortium stack against each member on its own.

For a size (`dev`: Pulumi.dev.yaml, 3 members; `akita`: Pulumi.akita.yaml, 12 members) it brings up
the consortium stack and, per member, a standalone stack whose config is the consortium's with only
that member (municloud_ops/cost/compare.py `standalone_config`: same SLA, cost, sites; the program
gives it its own gateway, hub, backup repository, DR standby and frontdoor). At most ``--max-up``
stacks (default 3) are up at once: the consortium with the first standalones, then the rest in
batches, each batch destroyed (and anything left labelled for it removed) before the next.

Per batch, idle (no load sent), after ``--settle`` seconds, over one window of ``--window`` seconds
shared by every stack of the batch: CPU-seconds of each container from the kernel's cgroup
counters (the machine is shared: a CPU-second is the stack's own, a wall-clock rate is not), memory
in use (cgroup, sampled every ``--step`` seconds, mean), the volumes (du) and the images (each once
per stack: one engine per standalone municipality), the container count; and the existing meter
(municloud_ops/cost/meter.py) samples each stack at both ends of the window for its priced usage.
The figures go to reports/cost/shared-vs-standalone-<size>.json as each batch finishes, the
comparison (municloud_ops/cost/compare.py) to docs/cost.md between this size's markers, and one
line to reports/benchmarks.jsonl.

    .venv/bin/python benchmarks/cost_shared_vs_standalone.py --size dev [--window 180] [--max-up 3]
    .venv/bin/python benchmarks/cost_shared_vs_standalone.py --size dev --render-only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from municloud_ops.cost import cgroup  # noqa: E402
from municloud_ops.cost.compare import (ContainerFigures, StackFigures, compare, markdown,  # noqa: E402
                                        pct, per_stack, standalone_config)
from stacks.automation import ScratchStack, free_network_base, free_port, stack_config  # noqa: E402

PREFIX = "cst"  # every stack of this benchmark: cst<size letter><c|member index>
DOC = ROOT / "docs" / "cost.md"
RESULTS = ROOT / "reports" / "cost"


def log(msg: str) -> None:
    print(f"[cost-bench {time.strftime('%H:%M:%S')}] {msg} (load {os.getloadavg()[0]:.1f})",
          file=sys.stderr, flush=True)


def plan(size: str) -> list[tuple[str, str, list[str], dict]]:
    """(stack name, kind, members, config) of the consortium and every standalone stack."""
    base = stack_config(size)
    members = [str(m["lgcode"]) for m in base["municloud:municipalities"]]
    out = [(f"{PREFIX}{size[0]}c", "consortium", members, base)]
    out += [(f"{PREFIX}{size[0]}{i}", "standalone", [code], standalone_config(base, code))
            for i, code in enumerate(members, 1)]
    return out


def _containers(client, name: str) -> list:
    return [c for c in client.containers.list(filters={"label": f"municloud.stack={name}"})]


def _du(path: str) -> int:
    out = subprocess.run(["du", "-sb", path], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out and out[0].isdigit() else 0


def measure(client, names: list[str], settle_s: float, window_s: float, step_s: float,
            meter_dir: Path) -> dict[str, dict]:
    """Figures of each stack over one shared window (see the module's text)."""
    from municloud_ops.cost.meter import Meter, usage

    log(f"settling {settle_s:.0f} s before the window")
    time.sleep(settle_s)
    conts = {n: _containers(client, n) for n in names}
    meters = {n: Meter.open(n, path=meter_dir / f"{n}.sqlite", engines=[client]) for n in names}
    start_dt = dt.datetime.now(dt.UTC)  # the meter's period: from before its first sample to after its last
    for n in names:  # the meter's own work (du in the containers) falls before the window opens
        log(meters[n].sample())
    t0 = time.monotonic()
    cpu0 = {c.id: cgroup.cpu_ns(c.id) for n in names for c in conts[n]}
    mem: dict[str, list[int]] = {c.id: [] for n in names for c in conts[n]}
    while True:
        for n in names:
            for c in conts[n]:
                m = cgroup.memory_bytes(c.id)
                if m is not None:
                    mem[c.id].append(m)
        if time.monotonic() - t0 >= window_s:
            break
        time.sleep(min(step_s, max(0.0, window_s - (time.monotonic() - t0))))
    cpu1 = {c.id: cgroup.cpu_ns(c.id) for n in names for c in conts[n]}
    window = time.monotonic() - t0
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    for n in names:  # …and after it closes
        log(meters[n].sample())
    end_dt = dt.datetime.now(dt.UTC)
    out = {}
    for n in names:
        rows, volumes = [], set()
        images: dict[str, int] = {}
        for c in conts[n]:
            if cpu0.get(c.id) is None or cpu1.get(c.id) is None or not mem[c.id]:
                raise RuntimeError(f"no cgroup counters for container {c.name}: cannot measure {n}")
            vol_bytes = 0
            for mount in c.attrs.get("Mounts", []):
                if mount.get("Type") == "volume" and mount.get("Name") not in volumes:
                    volumes.add(mount["Name"])
                    vol_bytes += _du(mount["Source"])
            image = c.attrs["Image"]
            if image not in images:
                images[image] = int(client.images.get(image).attrs.get("Size", 0))
            labels = c.labels
            rows.append(ContainerFigures(c.name, labels.get("municloud.component", ""),
                                         labels.get("municloud.lgcode", "shared"),
                                         (cpu1[c.id] - cpu0[c.id]) / 1e9, sum(mem[c.id]) / len(mem[c.id]),
                                         vol_bytes, image))
        out[n] = {"containers": rows, "image_bytes": images, "window_s": window, "load": load,
                  "meter": usage(n, start_dt, end_dt, path=meter_dir / f"{n}.sqlite"),
                  "window": f"{start_dt:%Y-%m-%d %H:%M:%S}–{end_dt:%H:%M:%S} UTC"}
    return out


def _remove_labelled(name: str) -> int:
    from support.stack import remove_labelled

    return remove_labelled(name)


def run_batch(batch, size: str, args, backend: Path, prices, client) -> list[StackFigures]:
    chosen: list[str] = []
    scratches = []
    for name, kind, members, config in batch:
        net = free_network_base(exclude=tuple(chosen))
        chosen.append(net)
        cfg = {**config, "municloud:network_base": net, "municloud:frontdoor_port": free_port(),
               "municloud:health_timeout_s": args.health_timeout}
        scratch = ScratchStack.create(name, cfg, backend_dir=backend / name)
        if size == "akita":  # a production stack refuses the documented development passphrase
            scratch.env["PULUMI_CONFIG_PASSPHRASE"] = secrets.token_urlsafe(32)
        scratches.append((name, kind, members, scratch, scratch.stack()))
    configs = {}
    for name, _k, _m, scratch, _s in scratches:
        configs[name] = yaml.safe_load((scratch.work_dir / f"Pulumi.{name}.yaml").read_text())["config"]
    from municloud_ops.images import STATE_DIR

    def quiet(name: str) -> dict:  # Pulumi's output goes to .state/logs/cost-bench-<stack>.log
        logfile = STATE_DIR / "logs" / f"cost-bench-{name}.log"
        logfile.parent.mkdir(parents=True, exist_ok=True)
        fh = logfile.open("a", encoding="utf-8")
        return {"on_output": lambda line: (fh.write(line + "\n"), fh.flush()), "color": "never",
                "suppress_progress": True}

    def up(entry):
        name, *_rest, stack = entry
        t0 = time.monotonic()
        log(f"up {name} …")
        scratch = entry[3]
        for attempt in (1, 2, 3):
            try:
                stack.up(**quiet(name))
                break
            except Exception as exc:
                log(f"up {name} failed after {time.monotonic() - t0:.0f} s: {str(exc)[-1500:]}")
                # another stack on the shared engine took the range between our look and our create
                if "Pool overlaps" not in str(exc) or attempt == 3:
                    raise
                stack.destroy(**quiet(name))
                net = free_network_base(exclude=tuple(chosen))
                chosen.append(net)
                scratch.write_config({**configs[name], "municloud:network_base": net})
                log(f"retrying {name} on {net}")
        log(f"{name} up in {time.monotonic() - t0:.0f} s")

    def down(entry):
        name, *_rest, stack = entry
        t0 = time.monotonic()
        try:
            stack.destroy(**quiet(name))
            stack.workspace.remove_stack(name)
        finally:
            left = _remove_labelled(name)
            log(f"destroyed {name} in {time.monotonic() - t0:.0f} s ({left} labelled leftovers removed)")

    try:
        with ThreadPoolExecutor(max_workers=len(scratches)) as pool:
            list(pool.map(up, scratches))
        figures = measure(client, [s[0] for s in scratches], args.settle, args.window, args.step,
                          backend / "meter")
    finally:
        with ThreadPoolExecutor(max_workers=len(scratches)) as pool:
            list(pool.map(down, scratches))
        for *_rest, scratch, _stack in scratches:
            shutil.rmtree(scratch.work_dir, ignore_errors=True)
    result = []
    for name, kind, members, _scratch, _stack in scratches:
        f = figures[name]
        meter = f["meter"]
        meter_yen = float(sum(meter.priced(o, prices) for o in meter.owners))
        result.append(StackFigures(name, kind, members, f["window_s"], f["containers"], f["image_bytes"],
                                   meter_yen, f["load"], {"window": f["window"], "meter_samples": meter.samples}))
    return result


def results_path(size: str) -> Path:
    return RESULTS / f"shared-vs-standalone-{size}.json"


def save(size: str, stacks: list[StackFigures], meta: dict) -> None:
    path = results_path(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**meta, "stacks": [s.to_dict() for s in stacks]}, ensure_ascii=False, indent=1))


def load(size: str) -> tuple[dict, list[StackFigures]]:
    raw = json.loads(results_path(size).read_text())
    return raw, [StackFigures.from_dict(s) for s in raw.pop("stacks")]


def render(size: str, prices) -> str:
    meta, stacks = load(size)
    begin, end = f"<!-- shared-vs-standalone:{size}:begin -->", f"<!-- shared-vs-standalone:{size}:end -->"
    config = f"Pulumi.{size}.yaml"
    consortium = next((s for s in stacks if s.kind == "consortium"), None)
    alone = [s for s in stacks if s.kind == "standalone"]
    members = meta["members"]
    head = (f"### {size} ({config}, {len(members)} members)\n\n"
            f"Measured {meta['started']}–{meta['finished']} UTC, commit `{meta['commit']}`, {meta['cores']} "
            f"cores; `uptime` at the start: `{meta['uptime_start']}`; at the end: `{meta['uptime_end']}`. "
            f"Idle stacks (no load sent), settle {meta['settle_s']:.0f} s after the batch was up, one "
            f"window of {meta['window_s']:.0f} s per batch shared by its stacks, memory sampled every "
            f"{meta['step_s']:.0f} s; at most {meta['max_up']} stacks up at once, batches: "
            f"{'; '.join(', '.join(b) for b in meta['batches'])}.\n\n")
    done = sorted(m for s in alone for m in s.members)
    if consortium is None or done != sorted(members):
        body = (f"**Incomplete**: measured {[s.stack for s in stacks]} (standalone members {done} of "
                f"{sorted(members)}); no saving is stated for this size, the figures measured are:\n\n"
                + per_stack(stacks))
    else:
        result = compare(consortium, alone, prices)
        body = (f"**Saving at the unit prices: {pct(result.priced_saving)}** (CPU {pct(result.saving['cpu'])}, "
                f"memory {pct(result.saving['memory'])}, storage {pct(result.saving['storage'])}, containers "
                f"{pct(result.saving['count'])}).\n\n" + markdown(result, consortium, alone))
    section = f"{begin}\n{head}{body}\n{end}"
    text = DOC.read_text(encoding="utf-8")
    if begin not in text:
        raise ValueError(f"{DOC}: the markers {begin} … {end} are missing")
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _m: section, text, flags=re.S)
    DOC.write_text(text, encoding="utf-8")
    return f"wrote the {size} comparison to {DOC.relative_to(ROOT)}"


def history(size: str, prices) -> str:
    from municloud_ops.loadtest import bench_history

    meta, stacks = load(size)
    consortium = next((s for s in stacks if s.kind == "consortium"), None)
    alone = [s for s in stacks if s.kind == "standalone"]
    if not bench_history.HISTORY.is_file() or consortium is None or \
            sorted(m for s in alone for m in s.members) != sorted(meta["members"]):
        return "benchmark history not appended (no history file, or the run is incomplete)"
    result = compare(consortium, alone, prices)
    figures = {"saving_priced_pct": round(float(result.priced_saving) * 100, 2),
               **{f"saving_{r}_pct": round(float(result.saving[r]) * 100, 2)
                  for r in ("cpu", "memory", "storage", "count")},
               "consortium_containers": int(result.consortium["count"]),
               "standalone_containers": int(result.standalone["count"])}
    bench_history.append(f"cost_shared_vs_standalone_{size}", figures,
                         note=f"idle, window {meta['window_s']:.0f} s per batch, cgroup CPU-s; batches "
                              f"{meta['batches']}")
    return "appended one line to reports/benchmarks.jsonl"


def _prices(size: str):
    from stacks.config import CostConfig

    return CostConfig.model_validate(stack_config(size)["municloud:cost"]).unit_prices


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("dev", "akita"), required=True)
    parser.add_argument("--window", type=float, default=180.0, help="seconds of the measuring window")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds idle before the window")
    parser.add_argument("--step", type=float, default=15.0, help="seconds between memory samples")
    parser.add_argument("--max-up", type=int, default=3, help="stacks of this benchmark up at once (≤ 3)")
    parser.add_argument("--health-timeout", type=int, default=900,
                        help="seconds a container may take to become healthy during up (a loaded machine "
                             "needs more than the default 180; the idle measurement does not depend on it)")
    parser.add_argument("--render-only", action="store_true", help="re-render docs/cost.md from the saved figures")
    args = parser.parse_args()
    if not 2 <= args.max_up <= 3:
        parser.error("--max-up: 2 or 3 (the consortium needs a standalone beside it; the machine is shared)")
    prices = _prices(args.size)
    if args.render_only:
        print(render(args.size, prices))
        return 0
    import docker

    from municloud_ops.loadtest.bench_history import commit

    from municloud_ops.images import ensure_image

    for image in ("postgres", "nginx", "haproxy", "python", "residents_registry", "tax", "nhi", "platform_hub"):
        ensure_image(image)  # built beforehand: image builds are the bootstrap's cost, not a stack's
    client = docker.from_env(timeout=120)
    stacks = plan(args.size)
    batches = [stacks[i:i + args.max_up] for i in range(0, len(stacks), args.max_up)]
    meta = {"size": args.size, "members": stacks[0][2], "commit": commit(),
            "started": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}", "finished": "",
            "uptime_start": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
            "uptime_end": "", "cores": os.cpu_count(), "settle_s": args.settle, "window_s": args.window,
            "step_s": args.step, "health_timeout_s": args.health_timeout, "max_up": args.max_up, "batches": [[b[0] for b in batch] for batch in batches]}
    backend = Path(tempfile.mkdtemp(prefix="mc-cst-"))
    measured: list[StackFigures] = []
    try:
        for batch in batches:
            measured += run_batch(batch, args.size, args, backend, prices, client)
            meta["finished"] = f"{dt.datetime.now(dt.UTC):%H:%M}"
            meta["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
            save(args.size, measured, meta)
            log(f"saved {len(measured)} of {len(stacks)} stacks to {results_path(args.size)}")
    finally:
        shutil.rmtree(backend, ignore_errors=True)
    print(render(args.size, prices))
    print(history(args.size, prices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
