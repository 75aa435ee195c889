"""Latency and throughput of the HTTP service under a bounded local load.

    .venv/bin/python tests/bench/bench_service.py                    # workers 1 and 2
    .venv/bin/python tests/bench/bench_service.py --workers 2 --single 3000 --batches 200

Starts `cxtext.service.serve` on 127.0.0.1 (a free port) in a subprocess, waits for /health, then
runs 50 concurrent httpx async clients for a fixed number of requests (and at most --seconds per
scenario): single-ticket requests, then batches of 100 tickets. Only 127.0.0.1 is contacted; the
server is stopped at the end. Results go to bench_results/service.json. The load generator shares
the machine's cores with the server, so figures are a floor for a separate client.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import ROOT, short_comments, vary  # noqa: E402

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, model: str | None) -> subprocess.Popen:
    code = ("from cxtext.service import serve; "
            f"serve({model!r}, host={HOST!r}, port={port}, workers={workers}, access_log=False, "
            "log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=1).status_code == 200:
                if workers > 1:
                    time.sleep(3)  # every worker answers /health only once its model is loaded
                return proc
        except httpx.HTTPError:
            pass
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


async def load(url: str, bodies: list[dict], requests: int, concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal sent, errors
        while sent < requests and time.monotonic() < deadline:
            body = bodies[sent % len(bodies)]
            sent += 1
            start = time.perf_counter()
            try:
                response = await client.post(url, json=body)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok

    # one client (one keep-alive connection) per simulated user: a shared httpx pool serialises on
    # its own lock and measures the client rather than the server
    clients = [httpx.AsyncClient(limits=limits, timeout=30) for _ in range(concurrency)]
    try:
        await asyncio.gather(*(c.post(url, json=bodies[i % len(bodies)]) for i, c in enumerate(clients)))  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(c) for c in clients))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    latencies.sort()
    items = sum(len(b["items"]) for b in bodies) / len(bodies)

    def pct(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    return {"requests": len(latencies), "errors": errors, "seconds": round(elapsed, 2),
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "items_per_s": round(items * len(latencies) / elapsed, 1),
            "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": round(1000 * latencies[-1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--single", type=int, default=3000, help="single-ticket requests per run")
    parser.add_argument("--batches", type=int, default=200, help="requests of 100 tickets per run")
    parser.add_argument("--concurrency", default="50", help="comma-separated, e.g. 1,10,50")
    parser.add_argument("--seconds", type=float, default=60, help="time cap per scenario")
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", default=str(ROOT / "bench_results/service.json"))
    args = parser.parse_args()

    import random

    rng = random.Random(0)
    pool = short_comments()
    texts = [vary(rng, pool) for _ in range(5000)]
    singles = [{"items": [{"id": f"T-{i}", "text": t}]} for i, t in enumerate(texts)]
    batches = [{"items": [{"id": f"B-{b}-{i}", "text": texts[(b * 100 + i) % len(texts)]} for i in range(100)]}
               for b in range(50)]
    results: dict = {"machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
                     "runs": []}
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    for workers in [int(w) for w in args.workers.split(",")]:
        port = free_port()
        server = start_server(port, workers, args.model)
        try:
            url = f"http://{HOST}:{port}/v1/classify"
            scenarios = [("single", singles, args.single, c) for c in concurrencies]
            scenarios.append(("batch100", batches, args.batches, max(concurrencies)))
            for name, bodies, count, concurrency in scenarios:
                figures = asyncio.run(load(url, bodies, count, concurrency, args.seconds))
                figures.update(scenario=name, workers=workers, concurrency=concurrency)
                results["runs"].append(figures)
                print(f"workers={workers} {name} x{concurrency} concurrent: {figures['requests_per_s']} req/s, "
                      f"{figures['items_per_s']} items/s, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
                      f"errors {figures['errors']}", flush=True)
        finally:
            stop_server(server)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
