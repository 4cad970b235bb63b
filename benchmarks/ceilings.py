"""Ceilings of this machine, measured in one run: what the hardware gives before any
of our code is involved, so the read-path figures can be read as a ratio of it.

1. nginx static: an nginx container (the project's ``nginx`` image, a benchmark config serving
   its stock index page, published on 127.0.0.1) driven by wrk (2 threads, 100 connections).
2. pgbench select-only over TCP (TLS) against a PostgreSQL container of the project's image.
3. One Locust process (FastHttpUser, no think time) against the same nginx: the most one
   generator process can send.

    .venv/bin/python benchmarks/ceilings.py [--seconds 20] [--out reports/ceilings.json]

Writes the figures as JSON and prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

NGINX_CONF = """
worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy;
  fastcgi_temp_path /tmp/fastcgi; uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
  server { listen 127.0.0.1:__PORT__; root /var/www/html; }
}
"""


def _docker():
    import docker

    return docker.from_env(timeout=120)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def nginx_static(host_network: bool):
    """nginx in the project's image. ``host_network``: listening on the host's 127.0.0.1 itself
    (the ceiling); else on a published 127.0.0.1 port (the NAT path a frontdoor port takes)."""
    from municloud_ops.images import ensure_image

    client = _docker()
    image = ensure_image("nginx", client)
    port = _free_port() if host_network else 8080
    conf_dir = Path(tempfile.mkdtemp(prefix="mc-bench-nginx-"))
    (conf_dir / "nginx.conf").write_text(
        NGINX_CONF.replace("127.0.0.1:__PORT__", f"127.0.0.1:{port}" if host_network else "8080"),
        encoding="utf-8")
    os.chmod(conf_dir, 0o755)
    os.chmod(conf_dir / "nginx.conf", 0o644)
    container = client.containers.run(
        image, name=f"mc-bench-nginx-{os.getpid()}", detach=True, user="www-data",
        command=["nginx", "-c", "/etc/municloud/nginx.conf", "-g", "daemon off;"],
        volumes={str(conf_dir): {"bind": "/etc/municloud", "mode": "ro"}},
        healthcheck={"test": ["NONE"]},
        **({"network_mode": "host"} if host_network else {"ports": {"8080/tcp": ("127.0.0.1", None)}}),
        labels={"municloud.stack": "bench", "municloud.site": "bench",
                "municloud.lgcode": "shared", "municloud.component": "bench_nginx"})
    try:
        container.reload()
        if not host_network:
            port = int(container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"])
        url = f"http://127.0.0.1:{port}/index.nginx-debian.html"
        deadline = time.monotonic() + 30
        while subprocess.run(["curl", "-fsS", "-o", "/dev/null", url]).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx not serving: {container.logs(tail=20).decode()}")
            time.sleep(0.3)
        yield url
    finally:
        container.remove(force=True)
        for f in conf_dir.iterdir():
            f.unlink()
        conf_dir.rmdir()


def wrk(url: str, seconds: int) -> dict:
    out = subprocess.run(["wrk", "-t2", "-c100", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"tool": "wrk -t2 -c100", "rps": rps,
            "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None,
            "errors": int(errors.group(1)) if errors else 0}


def locust_single(url: str, seconds: int, users: int = 50) -> dict:
    base = url.rsplit("/", 1)[0]
    with tempfile.TemporaryDirectory(prefix="mc-bench-locust-") as tmp:
        prefix = Path(tmp) / "static"
        proc = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "bench_static.py"),
             "--headless", "--host", base, "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ps = psutil.Process(proc.pid)
        samples = []
        ps.cpu_percent(None)
        while proc.poll() is None:
            time.sleep(1)
            with contextlib.suppress(psutil.Error):
                samples.append(ps.cpu_percent(None))
        from municloud_ops.loadtest.history import read_totals

        total = read_totals(prefix)["Aggregated"]
    steady = samples[3:] or samples
    return {"tool": f"locust 1 process, FastHttpUser x{users}, no wait",
            "rps": float(total["Requests/s"]), "p95_ms": float(total["95%"]),
            "errors": int(total["Failure Count"]),
            "generator_cpu_mean": sum(steady) / len(steady) if steady else 0.0}


def pgbench_select_only(seconds: int, clients: int = 16) -> dict:
    from municloud_ops.scratch.postgres import postgres_container

    with postgres_container(("bench",)) as pg, tempfile.TemporaryDirectory() as tmp:
        passfile = Path(tmp) / "pgpass"
        passfile.write_text(f"127.0.0.1:{pg.port}:bench:bench:{pg.passwords['bench']}\n")
        passfile.chmod(0o600)
        env = {**os.environ, "PGPASSFILE": str(passfile), "PGSSLMODE": "verify-full",
               "PGSSLROOTCERT": str(pg.ca_file)}
        conn = ["-h", "127.0.0.1", "-p", str(pg.port), "-U", "bench", "bench"]
        subprocess.run(["pgbench", "-i", "-s", "10", "-q", *conn], env=env, check=True,
                       capture_output=True, timeout=300)
        out = subprocess.run(["pgbench", "-S", "-M", "prepared", "-c", str(clients), "-j", "2",
                              "-T", str(seconds), *conn], env=env, check=True,
                             capture_output=True, text=True, timeout=seconds + 120).stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    return {"tool": f"pgbench -S -M prepared -c {clients} -j 2, scale 10, TLS over TCP",
            "tps": tps, "latency_avg_ms": float(lat.group(1)) if lat else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "ceilings.json")
    args = parser.parse_args()
    results = {"machine": {"cores": psutil.cpu_count(), "memory_gib":
                           round(psutil.virtual_memory().total / 2**30, 1),
                           "python": platform.python_version(),
                           "load_before": os.getloadavg()},
               "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with nginx_static(host_network=True) as url:
        print("nginx static, host 127.0.0.1 (wrk) ...", flush=True)
        results["nginx_static"] = {**wrk(url, args.seconds), "load_after": os.getloadavg()}
        print("locust single process against nginx ...", flush=True)
        results["locust_single"] = {**locust_single(url, args.seconds),
                                    "load_after": os.getloadavg()}
    with nginx_static(host_network=False) as url:
        print("nginx static, published port (wrk) ...", flush=True)
        results["nginx_static_published"] = {**wrk(url, args.seconds),
                                             "load_after": os.getloadavg()}
    print("pgbench select-only ...", flush=True)
    results["pgbench_select_only"] = {**pgbench_select_only(args.seconds),
                                      "load_after": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    n, lo, pg = results["nginx_static"], results["locust_single"], results["pgbench_select_only"]
    np_ = results["nginx_static_published"]
    print(f"\n| ceiling | tool | result |\n|---|---|---:|\n"
          f"| nginx static, 127.0.0.1 (host network) | {n['tool']} | {n['rps']:,.0f} req/s "
          f"(p99 {n['p99_ms']} ms) |\n"
          f"| nginx static, published container port | {np_['tool']} | {np_['rps']:,.0f} req/s "
          f"(p99 {np_['p99_ms']} ms) |\n"
          f"| pgbench select-only | {pg['tool']} | {pg['tps']:,.0f} tps |\n"
          f"| one Locust process vs nginx | {lo['tool']} | {lo['rps']:,.0f} req/s "
          f"(generator CPU {lo['generator_cpu_mean']:.0f} %) |")
    print(f"load average before: {results['machine']['load_before']}")


if __name__ == "__main__":
    main()
