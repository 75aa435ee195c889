"""Latency and throughput of the HTTP service under a bounded local load.

    .venv/bin/python tests/bench/bench_service.py                      # 1 worker, every scenario, 3 repeats
    .venv/bin/python tests/bench/bench_service.py --workers 1,2 --repeat 5
    .venv/bin/python tests/bench/bench_service.py --scenarios single,open200 --repeat 1
    .venv/bin/python tests/bench/bench_service.py --port 8000          # a server you started yourself

Starts `cxtext.service.serve` on 127.0.0.1 (a free port) in a subprocess, waits for /health, then runs
the load generator of loadgen.py (raw keep-alive HTTP/1.1, every response parsed and checked: status
200 and the ids sent, in order) from its own process, 50 connections, a fixed number of requests and
at most --seconds per scenario:

- single:    closed loop, 50 clients sending one ticket each, no think time
- batch100:  closed loop, 50 clients sending 100 tickets each
- open200, open500: open loop, single tickets due at 200 / 500 requests per second in total (Poisson
  arrivals) over the 50 connections; latency counts from when a request was due

The server is warmed up first (6,000 comments, as a long-running server would have seen); each run
then sends comments varied with a seed of its own, so the caches see new texts and new typos.

With a closed loop of 50 clients, latency is about 50 / throughput whatever the server does, so the
open loop is the one that shows the latency a CRM sees at its real ticket rate. Each scenario is run
--repeat times; the medians of each figure are reported (every run is kept in the JSON). Server and
client CPU per request come from /proc and getrusage. Only 127.0.0.1 is contacted; the server is
stopped at the end. Results go to bench_results/service.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import ROOT, short_comments, vary  # noqa: E402
from loadgen import run  # noqa: E402

HOST = "127.0.0.1"
GOAL_P99_MS = 50.0
SCENARIOS = {  # name: (items per request, mode, offered rate, default request count)
    "single": (1, "closed", 0, 5000),
    "batch100": (100, "closed", 0, 300),
    "open200": (1, "open", 200, 3000),
    "open500": (1, "open", 500, 5000),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_server(port: int, workers: int, model: str | None) -> subprocess.Popen:
    code = ("from cxtext.service import serve; "
            f"serve({model!r}, host={HOST!r}, port={port}, workers={workers}, access_log=False, "
            "log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        if healthy(port):
            if workers > 1:
                time.sleep(5)  # every worker answers /health only once its model is loaded
            return proc
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit("server did not become healthy in 90 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group (start_new_session)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def cpu_seconds(group: int) -> float:
    """User + system CPU of every live process in a process group (the server and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # fields after the name: state ppid pgrp ... utime(11) stime(12)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def bodies_for(items: int, seed: int, count: int = 5000) -> list[dict]:
    """Requests of `items` tickets from `count` comments varied with `seed` (a new seed, new texts)."""
    rng = random.Random(seed)
    pool = short_comments()
    texts = [vary(rng, pool) for _ in range(count)]
    return [{"items": [{"id": f"R{b}-{i}", "text": texts[(b * items + i) % count]} for i in range(items)]}
            for b in range(max(50, count // items))]


def median_figures(runs: list[dict]) -> dict:
    keys = ["requests_per_s", "items_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", "server_cpu_ms_per_request",
            "client_cpu_ms_per_request"]
    out = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys if all(k in r for r in runs)}
    out["errors"] = sum(r["errors"] for r in runs)
    out["requests"] = sum(r["requests"] for r in runs)
    out["repeats"] = len(runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=0, help="per run (default: per scenario)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30, help="time cap per run")
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--model", default=None)
    parser.add_argument("--port", type=int, default=0,
                        help="load a server already running on 127.0.0.1:PORT instead of starting one")
    parser.add_argument("--server-pgid", type=int, default=0, help="with --port: its process group, for CPU")
    parser.add_argument("--out", default=str(ROOT / "bench_results/service.json"))
    args = parser.parse_args()

    results: dict = {"machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
                     "goal": f"single tickets, 50 clients: p99 < {GOAL_P99_MS:.0f} ms, 0 errors", "runs": [],
                     "medians": []}
    for workers in [int(w) for w in args.workers.split(",")]:
        if args.port:
            port, server, group, workers = args.port, None, args.server_pgid, 0
        else:
            port = free_port()
            server = start_server(port, workers, args.model)
            group = server.pid
        try:
            # a server that has run a while knows the common words (its lemma and n-gram caches are warm);
            # every measured run then sends comments it has not seen (other seeds), typos and all
            run(HOST, port, "/v1/classify", bodies_for(100, seed=1000), requests=60, concurrency=4)
            for s_index, name in enumerate(args.scenarios.split(",")):
                items, mode, rate, count = SCENARIOS[name]
                runs = []
                for repeat in range(args.repeat):
                    bodies = bodies_for(items, seed=10 * s_index + repeat)
                    load_before = os.getloadavg()[0]
                    cpu_before = cpu_seconds(group) if group else 0.0
                    figures = run(HOST, port, "/v1/classify", bodies, mode=mode, requests=args.requests or count,
                                  concurrency=args.concurrency, seconds=args.seconds, rate=rate,
                                  processes=args.client_processes, seed=repeat)
                    figures.update(scenario=name, workers=workers, repeat=repeat, load_average_1m=load_before)
                    if group:
                        server_cpu = cpu_seconds(group) - cpu_before
                        figures["server_cpu_ms_per_request"] = round(1000 * server_cpu / max(1, figures["requests"]), 3)
                    runs.append(figures)
                    results["runs"].append(figures)
                summary = median_figures(runs)
                summary.update(scenario=name, workers=workers, mode=mode, concurrency=args.concurrency,
                               offered_rate=rate or None, items_per_request=items)
                if items == 1:
                    summary["meets_goal"] = summary["p99_ms"] < GOAL_P99_MS and summary["errors"] == 0
                results["medians"].append(summary)
                goal = "" if items != 1 else ("  (meets the goal)" if summary["meets_goal"] else "  (misses the goal)")
                print(f"workers={workers or 'ext'} {name:8s} {mode:6s} {summary['requests_per_s']:8.1f} req/s "
                      f"{summary['items_per_s']:8.1f} items/s  p50 {summary['p50_ms']:7.1f}  p95 {summary['p95_ms']:7.1f}"
                      f"  p99 {summary['p99_ms']:7.1f}  max {summary['max_ms']:7.1f} ms  errors {summary['errors']}"
                      f"  server {summary.get('server_cpu_ms_per_request', float('nan')):.2f} / client "
                      f"{summary['client_cpu_ms_per_request']:.2f} CPU ms/req  (median of {len(runs)}, "
                      f"load {statistics.median(r['load_average_1m'] for r in runs):.1f}){goal}",
                      flush=True)
        finally:
            if server is not None:
                stop_server(server)
        if args.port:
            break
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
