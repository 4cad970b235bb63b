"""Run Locust headless on a plan, show progress, measure the generator's own CPU, collect the
results.

Locust runs as a child process (``python -m locust``; with ``processes > 1`` as one master and
N workers, one per core). While it runs, the runner samples the CPU time of the whole Locust
process tree and of the machine with psutil, so a saturated generator is never mistaken for a
slow system, and prints one progress line every few seconds (elapsed, users, req/s, p95, CPU).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import psutil

from municloud_ops.loadtest import history, stages
from municloud_ops.loadtest.targets import REPO_ROOT, LoadTarget

if TYPE_CHECKING:
    from municloud_ops.loadtest.cpu_budget import CpuBudget

LOADTESTS = REPO_ROOT / "loadtests"
ROLE_SERVICES = {"CounterClerk": "residents_registry", "ConvenienceStore": "residents_registry",
                 "TaxClerk": "tax", "NhiClerk": "nhi"}
SATURATED_PERCENT = 90.0  # of one core per generator process: the results are a lower bound
GRACE_S = 90.0  # on top of the plan: Locust's stop + report writing; then the run is killed


class RunError(RuntimeError):
    """Locust could not run (bad plan, crash); the message carries its last stderr lines."""


@dataclass
class CpuUsage:
    """CPU of the load generator (Locust process tree) and of the whole machine, in percent of
    one core (200 % = both cores of this machine)."""

    samples: int = 0
    generator_mean: float = 0.0
    generator_p90: float = 0.0
    generator_max: float = 0.0
    machine_mean: float = 0.0
    cores: int = field(default_factory=lambda: psutil.cpu_count() or 1)
    processes: int = 1
    load_average: float | None = None
    """1-minute load average at the end of the run (other work sharing the machine shows here)."""

    @property
    def saturated(self) -> bool:
        """One in ten seconds of load at >= 90 % of a core per process: Locust itself is the
        bottleneck for at least that long."""
        return self.generator_p90 >= SATURATED_PERCENT * self.processes

    def sentence(self) -> str:
        verdict = (" - GENERATOR SATURATED: the figures are a lower bound of the system"
                   if self.saturated else "")
        busy = (" - the machine was saturated: the system under test shared its cores"
                if self.machine_mean >= 0.9 * self.cores * 100 else "")
        return (f"generator CPU mean {self.generator_mean:.0f} % / p90 {self.generator_p90:.0f} % "
                f"/ max {self.generator_max:.0f} % of one core ({self.processes} process(es), "
                f"while users ran); machine mean {self.machine_mean:.0f} % of {self.cores * 100} %"
                + (f", load average {self.load_average:.1f}" if self.load_average is not None
                   else "") + f"{verdict}{busy}")


@dataclass
class RunResult:
    shape: str
    exit_code: int
    seconds: float
    out_dir: Path
    gate: dict
    cpu: CpuUsage
    steps: list[history.StepResult]
    budget: dict[str, float] = field(default_factory=dict)
    """CPU-ms per request of each process kind (``run(..., budget=...)``), else empty."""

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def sentence(self) -> str:
        return (f"{self.shape} run finished in {self.seconds:.0f} s (exit {self.exit_code}): "
                f"{self.gate.get('sentence', 'no gate verdict')}; {self.cpu.sentence()}")

    def to_json(self) -> str:
        return json.dumps({"shape": self.shape, "exit_code": self.exit_code,
                           "seconds": self.seconds, "gate": self.gate,
                           "cpu": {**asdict(self.cpu), "saturated": self.cpu.saturated},
                           "steps": [asdict(s) for s in self.steps],
                           "cpu_ms_per_request": self.budget},
                          ensure_ascii=False, indent=2)


def build_plan(kind: str, sla_users: int, duration_s: float | None = None,
               **overrides: float) -> dict:
    """Shape parameters from the SLA's concurrent users (defaults), overridable."""
    users = int(overrides.pop("users", sla_users))
    if kind == "steady":
        params = {"users": users, "duration_s": duration_s or 60.0,
                  "ramp_s": min(10.0, (duration_s or 60.0) / 4)}
    elif kind == "soak":
        params = {"users": users, "duration_s": duration_s or 1800.0}
    elif kind == "spike":
        params = {"base_users": max(users // 5, 1), "peak_users": users * 2,
                  "duration_s": duration_s or 90.0}
    elif kind == "step":
        step_users = max(users // 4, 5)
        params = {"start_users": step_users, "step_users": step_users, "step_s": 30.0,
                  "max_users": users * 4, "stop_on_breach": True}
    else:
        raise ValueError(f"shape: must be one of {', '.join(stages.SHAPES)}, got {kind!r}")
    params.update(overrides)
    return params


def plan_stages(kind: str, params: dict) -> tuple[stages.Stage, ...]:
    args = {k: v for k, v in params.items() if k != "stop_on_breach"}
    return {"steady": stages.steady, "soak": stages.soak, "spike": stages.spike,
            "step": stages.step}[kind](**args)


def user_classes(target: LoadTarget) -> list[str]:
    return [role for role, service in ROLE_SERVICES.items() if service in target.services]


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_seconds(procs: list[psutil.Process], cache: dict[int, float]) -> float:
    for p in procs:
        try:
            t = p.cpu_times()
            cache[p.pid] = t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass  # exited: keep its last reading
    return sum(cache.values())


def _last_sample(prefix: Path) -> history.Sample | None:
    samples = history.read_history(prefix)
    return samples[-1] if samples else None


def run(target: LoadTarget, kind: str, params: dict, out_dir: Path, *,
        data_manifest: Path | None = None, processes: int = 1,
        think_s: tuple[float, float] = (0.5, 1.5), check_throughput: bool | None = None,
        progress: Callable[[str], None] = print, progress_every_s: float = 5.0,
        scenario: str = "locustfile.py", classes: list[str] | None = None,
        budget: Callable[[int], "CpuBudget"] | None = None) -> RunResult:
    """Run one shape against ``target``; results go to ``out_dir`` (HTML, CSV, plan, summary).

    ``scenario`` is the locustfile under loadtests/ (the benchmarks use their own), ``classes``
    the user classes to run (default: the roles whose service the target has). ``budget``
    (given the Locust pid) profiles the run: CPU-ms per request of each process kind, from the
    first second with users to the last sample before the users stop
    (municloud_ops.loadtest.cpu_budget)."""
    plan_steps = plan_stages(kind, params)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_path = out_dir / "gate.json"
    summary_path.unlink(missing_ok=True)
    plan = {
        "target": json.loads(target.to_json()), "data": str(data_manifest) if data_manifest else "",
        "shape": {"kind": kind, "params": params}, "think_s": list(think_s),
        "summary": str(summary_path),
        "check_throughput": kind in ("steady", "soak") if check_throughput is None
        else check_throughput,
    }
    plan_path = out_dir / "plan.json"
    plan_path.write_text(json.dumps(plan, ensure_ascii=False, indent=2), encoding="utf-8")
    prefix = out_dir / "locust"
    cmd = [sys.executable, "-m", "locust",
           "-f", f"{LOADTESTS / scenario},{LOADTESTS / f'shape_{kind}.py'}",
           "--headless", "--mc-plan", str(plan_path), "--host", target.base_url,
           "--csv", str(prefix), "--csv-full-history", "--html", str(out_dir / "report.html"),
           "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
           "--exit-code-on-error", "1"]
    if processes > 1:
        cmd += ["--processes", str(processes)]
    cmd += classes if classes is not None else user_classes(target)
    bound = stages.duration(plan_steps) + GRACE_S
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(LOADTESTS), str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    progress(f"[{kind}] {stages.describe(plan_steps)}; {processes} generator process(es); "
             f"SLA {target.sla.describe()}")
    started = time.monotonic()
    cpu_cache: dict[int, float] = {}
    gen_samples: list[float] = []
    machine_samples: list[float] = []
    psutil.cpu_percent(None)
    with open(out_dir / "locust.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env=env)
        ps = psutil.Process(proc.pid)
        profiler = budget(proc.pid) if budget is not None else None  # idle measured by caller
        first_snap = last_snap = None
        first_requests = last_requests = 0
        last_cpu, last_t, last_report = 0.0, time.monotonic(), 0.0
        loading = False  # CPU counts only once users run (start-up imports are not load)
        try:
            while proc.poll() is None:
                time.sleep(1.0)
                now = time.monotonic()
                cpu = _cpu_seconds(_tree(ps), cpu_cache)
                if not loading:
                    first = _last_sample(prefix)
                    loading = first is not None and first.users > 0
                    if loading and profiler is not None:
                        first_snap, first_requests = profiler.snapshot(), first.requests
                elif now > last_t:
                    gen_samples.append(100.0 * (cpu - last_cpu) / (now - last_t))
                    machine_samples.append(psutil.cpu_percent(None) * (psutil.cpu_count() or 1))
                    if profiler is not None:
                        sample = _last_sample(prefix)
                        if sample is not None and sample.users > 0:
                            last_snap, last_requests = profiler.snapshot(), sample.requests
                last_cpu, last_t = cpu, now
                elapsed = now - started
                if elapsed > bound:
                    proc.kill()
                    raise RunError(f"locust ran past its bound of {bound:.0f} s and was killed")
                if elapsed - last_report >= progress_every_s:
                    last_report = elapsed
                    s = _last_sample(prefix)
                    live = (f"{s.users} users, {s.rps:.1f} req/s, p95 {s.p95:.0f} ms, "
                            f"{s.failures} failures" if s else "starting")
                    gen = f"{gen_samples[-1]:.0f} %" if gen_samples else "-"
                    progress(f"[{kind}] {elapsed:4.0f}/{stages.duration(plan_steps):.0f} s: "
                             f"{live}, generator CPU {gen}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    seconds = time.monotonic() - started
    gate = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    if not gate:
        tail = (out_dir / "locust.log").read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RunError(f"locust exited {proc.returncode} without a gate verdict:\n{tail}")
    ranked = sorted(gen_samples)
    cpu = CpuUsage(samples=len(gen_samples),
                   generator_mean=sum(ranked) / len(ranked) if ranked else 0.0,
                   generator_p90=ranked[int(0.9 * (len(ranked) - 1))] if ranked else 0.0,
                   generator_max=ranked[-1] if ranked else 0.0,
                   machine_mean=(sum(machine_samples) / len(machine_samples)
                                 if machine_samples else 0.0),
                   processes=max(processes, 1), load_average=os.getloadavg()[0])
    per_request = {}
    if first_snap is not None and last_snap is not None and last_requests > first_requests:
        per_request = profiler.per_request(first_snap, last_snap, last_requests - first_requests)
    result = RunResult(shape=kind, exit_code=proc.returncode, seconds=seconds, out_dir=out_dir,
                       gate=gate, cpu=cpu, steps=history.steps(history.read_history(prefix)),
                       budget=per_request)
    (out_dir / "result.json").write_text(result.to_json(), encoding="utf-8")
    progress(result.sentence())
    return result
