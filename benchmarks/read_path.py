"""住民票 read path benchmark: 50 / 100 / 200 concurrent users with no think time,
reading 住民票の写し (JSON) of seeded residents, spread over the dev municipalities by
population; req/s, p95 and errors per user count, and the ratio to each ceiling measured by
benchmarks/ceilings.py on the same machine (reports/ceilings.json).

Through the gateway (frontdoor https://127.0.0.1:8443) when the dev stack is up; otherwise
against residents_registry processes started here (no gateway, no TLS) — the output says which.

    .venv/bin/python benchmarks/read_path.py [--seconds 30] [--users 50 100 200] [--processes 1]
        [--profile]

--profile adds the CPU budget per hop: CPU-ms per request of each process kind (Locust,
docker-proxy, frontdoor, gateway, each service, PostgreSQL, the access-log appender's backend,
the DR standbys, the containers' shims), net of what the idle stack uses, from the kernel's
accounting (municloud_ops/loadtest/cpu_budget.py). Every run appends its figures with the commit to
reports/benchmarks.jsonl (municloud_ops/loadtest/bench_history.py).

Target (docs/benchmarks.md, "Read path"): >= 1,500 req/s at p95 <= 100 ms with 0 errors.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from municloud_ops.loadtest import bench_history, data, runner  # noqa: E402
from municloud_ops.loadtest.cpu_budget import table  # noqa: E402
from municloud_ops.loadtest.sla import SlaTargets  # noqa: E402
from municloud_ops.loadtest.targets import municipalities_and_sla, stack_target  # noqa: E402

TARGET = SlaTargets(concurrent_users=200, p95_ms=100, max_failure_ratio=0.0, min_rps=1500,
                    source="read-path target (docs/benchmarks.md)")


@contextlib.contextmanager
def target_for(stack: str, force_local: bool):
    municipalities, _, port = municipalities_and_sla(stack)
    up = False
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        up = True
    if up and not force_local:
        with tempfile.TemporaryDirectory() as keys:
            yield dataclasses.replace(stack_target(stack, Path(keys)), sla=TARGET), "gateway"
            return
    from municloud_ops.loadtest.local import local_target

    with local_target(municipalities, TARGET) as target:
        yield target, "direct to residents_registry (no gateway: dev stack not up)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--users", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seed-population", type=int, default=1000)
    parser.add_argument("--local", action="store_true", help="ignore a running dev stack")
    parser.add_argument("--profile", action="store_true",
                        help="CPU-ms per request of each process kind (from /proc and cgroups)")
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "read_path.json")
    args = parser.parse_args()
    ceilings_file = REPO / "reports" / "ceilings.json"
    ceilings = json.loads(ceilings_file.read_text()) if ceilings_file.is_file() else {}
    rows = []
    with target_for(args.stack, args.local) as (target, path):
        work = REPO / "reports" / time.strftime("read-path-%Y%m%dT%H%M%SZ", time.gmtime())
        loaded = data.seed_target(target, work / "data.json", population_cap=args.seed_population)
        print(loaded.sentence(), flush=True)
        for users in args.users:
            params = {"users": users, "duration_s": args.seconds, "ramp_s": 5.0}
            budget = None
            if args.profile:
                from municloud_ops.loadtest.cpu_budget import CpuBudget

                profiler = CpuBudget(args.stack if path == "gateway" else None,
                                     urlsplit(target.base_url).port)
                profiler.measure_idle(10.0)
                budget = profiler.for_generator
            result = runner.run(target, "steady", params, work / f"u{users}",
                                data_manifest=loaded.manifest, processes=args.processes,
                                scenario="bench_read_path.py", classes=["CertificateReader"],
                                check_throughput=True, budget=budget)
            o = result.gate["observed"]
            rows.append({"users": users, "rps": o["rps"], "p95_ms": o["p95_ms"],
                         "requests": o["requests"], "errors": o["failures"],
                         "meets_target": result.passed,
                         "generator_cpu_mean": result.cpu.generator_mean,
                         "generator_saturated": result.cpu.saturated,
                         "machine_cpu_mean": result.cpu.machine_mean,
                         "cpu_ms_per_request": result.budget})
            bench_history.append("read_path", {
                "users": users, "rps": round(o["rps"], 1), "p95_ms": o["p95_ms"],
                "errors": o["failures"],
                **{f"cpu_ms {k}": round(v, 2) for k, v in result.budget.items()}},
                note=path)
            time.sleep(3)
    out = {"path": path, "seconds": args.seconds, "processes": args.processes,
           "target": dataclasses.asdict(TARGET), "rows": rows,
           "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2), encoding="utf-8")
    n = ceilings.get("nginx_static", {}).get("rps")
    pg = ceilings.get("pgbench_select_only", {}).get("tps")
    lo = ceilings.get("locust_single", {}).get("rps")
    print(f"\npath: {path}\n")
    print("| users | req/s | p95 ms | errors | vs nginx | vs pgbench | vs 1 Locust | generator CPU |"
          " target met |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = lambda c: f"{r['rps'] / c:.1%}" if c else "n/a"  # noqa: E731
        print(f"| {r['users']} | {r['rps']:.0f} | {r['p95_ms']:.0f} | {r['errors']} | "
              f"{ratio(n)} | {ratio(pg)} | {ratio(lo)} | {r['generator_cpu_mean']:.0f} % | "
              f"{'yes' if r['meets_target'] else 'no'} |")
    if args.profile:
        print("\nCPU-ms per request, net of the idle stack:\n")
        print(table({f"{r['users']} users": r["cpu_ms_per_request"] for r in rows}))


if __name__ == "__main__":
    main()
