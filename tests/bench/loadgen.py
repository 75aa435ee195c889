"""A lean, bounded HTTP/1.1 load generator for a server on loopback (used by bench_service.py).

Why not httpx: on a 2-core machine an httpx async client costs more CPU per request than the server
itself, so a closed loop of httpx clients measures the client. This one keeps one raw keep-alive
connection per simulated client, sends pre-encoded request bytes and parses each response for real:
status line, Content-Length (or chunked), then the JSON body, checking that the status is 200 and
that `items` holds the ids that were sent, in order. Anything else counts as an error.

Two kinds of load, both bounded by a request count and a time cap, and both stop by themselves:

- closed loop: `concurrency` clients, each sending its next request as soon as the previous answer
  arrives (no think time). Latency is from send to the last byte of the answer.
- open loop: requests are due at a fixed total `rate` (Poisson arrivals by default) and handed to
  whichever of the `concurrency` connections is free. Latency is counted from when a request was
  *due*, not when a connection became free, so a server that falls behind is not flattered
  (no coordinated omission).

Only loopback addresses are accepted as targets.

    .venv/bin/python tests/bench/loadgen.py --port 8000 --mode closed --items 1 --requests 5000
    .venv/bin/python tests/bench/loadgen.py --port 8000 --mode open --rate 500 --requests 5000
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import multiprocessing
import random
import resource
import sys
import time
from typing import Optional, Sequence

__all__ = ["encode_requests", "run", "summarise"]


# ---- requests -----------------------------------------------------------------------------
def encode_requests(host: str, port: int, path: str, bodies: Sequence[dict]) -> list[tuple[bytes, tuple]]:
    """(request bytes, expected ids) per body: everything the hot loop needs, encoded once."""
    out = []
    for body in bodies:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode("ascii")
        ids = tuple(None if i.get("id") is None else str(i["id"]) for i in body["items"])
        out.append((head + payload, ids))
    return out


# ---- one keep-alive connection ------------------------------------------------------------
class _Connection(asyncio.Protocol):
    """An HTTP/1.1 client connection that parses one response at a time."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.Transport] = None
        self.buffer = bytearray()
        self.waiter: Optional[asyncio.Future] = None
        self.head: Optional[tuple] = None  # (status, content_length, chunked, keep_alive, body_start)
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                done = self._parse()
            except ValueError as exc:
                self.waiter.set_exception(exc)
                return
            if done is not None:
                self.waiter.set_result(done)

    def _parse(self):
        buf = self.buffer
        if self.head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > 65536:
                    raise ValueError("response head over 64 KiB")
                return None
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise ValueError(f"bad status line {lines[0]!r}")
            length, chunked, keep_alive = None, False, parts[0] == "HTTP/1.1"
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "transfer-encoding":
                    chunked = "chunked" in value
                elif name == "connection":
                    keep_alive = value != "close"
            if length is None and not chunked:
                raise ValueError("response has neither Content-Length nor chunked encoding")
            self.head = (int(parts[1]), length, chunked, keep_alive, end + 4)
        status, length, chunked, keep_alive, start = self.head
        if chunked:
            body, pos = bytearray(), start
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
                if len(buf) < eol + 2 + size + 2:
                    return None
                if size == 0:  # no trailers expected
                    end = eol + 4
                    break
                body += buf[eol + 2:eol + 2 + size]
                pos = eol + 2 + size + 2
            body = bytes(body)
        else:
            if len(buf) < start + length:
                return None
            end = start + length
            body = bytes(buf[start:end])
        del buf[:end]
        self.head = None
        return status, body, keep_alive

    async def request(self, data: bytes, timeout: float):
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        try:
            return await asyncio.wait_for(self.waiter, timeout)
        finally:
            self.waiter = None


async def _connect(host: str, port: int) -> _Connection:
    _, conn = await asyncio.get_running_loop().create_connection(_Connection, host, port)
    return conn


def _check(status: int, body: bytes, ids: tuple) -> Optional[str]:
    """None for a right answer, else the kind of error."""
    if status != 200:
        return f"status {status}"
    try:
        items = json.loads(body)["items"]
    except (ValueError, KeyError, TypeError):
        return "bad json"
    if len(items) != len(ids):
        return "wrong item count"
    if any(item.get("id") != want for item, want in zip(items, ids)):
        return "wrong ids"
    return None


# ---- the load -----------------------------------------------------------------------------
async def _load(host: str, port: int, requests: list, mode: str, count: int, concurrency: int, seconds: float,
                rate: float, arrivals: str, timeout: float, seed: int) -> dict:
    conns = [await _connect(host, port) for _ in range(concurrency)]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    first = None
    for i, conn in enumerate(conns):  # warm-up: every connection once, not measured
        await conn.request(requests[i % len(requests)][0], timeout)

    async def one(conn_box: list, k: int, due: float) -> None:
        data, ids = requests[k % len(requests)]
        conn = conn_box[0]
        try:
            if conn.closed:
                conn = conn_box[0] = await _connect(host, port)
            status, body, keep_alive = await conn.request(data, timeout)
            error = _check(status, body, ids)
            if not keep_alive:
                conn.transport.close()
        except (OSError, ValueError, asyncio.TimeoutError) as exc:
            error = type(exc).__name__
            conn.transport.close()
            conn.closed = True
        latencies.append(time.perf_counter() - due)
        if error:
            errors[error] = errors.get(error, 0) + 1

    started = time.perf_counter()
    deadline = started + seconds
    if mode == "closed":
        issued = 0

        async def client(conn: _Connection) -> None:
            nonlocal issued
            box = [conn]
            while issued < count and time.perf_counter() < deadline:
                k = issued
                issued += 1
                await one(box, k, time.perf_counter())

        await asyncio.gather(*(client(c) for c in conns))
    else:
        queue: asyncio.Queue = asyncio.Queue()

        async def client(conn: _Connection) -> None:
            box = [conn]
            while True:
                job = await queue.get()
                if job is None:
                    return
                await one(box, *job)

        workers = [asyncio.ensure_future(client(c)) for c in conns]
        rng = random.Random(seed)
        due = started
        for k in range(count):
            due += rng.expovariate(rate) if arrivals == "poisson" else 1.0 / rate
            if due > deadline:
                break
            wait = due - time.perf_counter()
            if wait > 0.0005:
                await asyncio.sleep(wait)
            queue.put_nowait((k, due))
        for _ in workers:
            queue.put_nowait(None)
        await asyncio.gather(*workers)
    elapsed = time.perf_counter() - started
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def _run_in_process(args: tuple) -> dict:
    started_cpu = resource.getrusage(resource.RUSAGE_SELF)
    try:
        import uvloop  # the client should be as cheap as the server's loop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    out = runner(_load(*args))
    used = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = (used.ru_utime - started_cpu.ru_utime) + (used.ru_stime - started_cpu.ru_stime)
    return out


def _pct(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    return round(1000 * ordered[max(0, math.ceil(q * len(ordered)) - 1)], 2)


def summarise(parts: list[dict], items_per_request: float) -> dict:
    latencies = sorted(x for p in parts for x in p["latencies"])
    errors: dict[str, int] = {}
    for p in parts:
        for kind, n in p["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
    elapsed = max(p["elapsed"] for p in parts)
    n = len(latencies)
    if not n:
        return {"requests": 0, "errors": sum(errors.values()), "error_kinds": errors}
    return {"requests": n, "errors": sum(errors.values()), "error_kinds": errors, "seconds": round(elapsed, 2),
            "requests_per_s": round(n / elapsed, 1), "items_per_s": round(n * items_per_request / elapsed, 1),
            "p50_ms": _pct(latencies, 0.50), "p95_ms": _pct(latencies, 0.95), "p99_ms": _pct(latencies, 0.99),
            "max_ms": round(1000 * latencies[-1], 2),
            "client_cpu_ms_per_request": round(1000 * sum(p["cpu_s"] for p in parts) / n, 3)}


def run(host: str, port: int, path: str, bodies: Sequence[dict], *, mode: str = "closed", requests: int = 3000,
        concurrency: int = 50, seconds: float = 60.0, rate: float = 0.0, arrivals: str = "poisson",
        processes: int = 1, timeout: float = 30.0, seed: int = 0) -> dict:
    """Load a server on loopback from `processes` client processes (forked: the server is never this one)."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"{host} is not a loopback address: this load generator only targets 127.0.0.0/8 or ::1")
    if mode not in ("closed", "open") or (mode == "open" and rate <= 0):
        raise ValueError("mode is 'closed', or 'open' with a rate > 0")
    encoded = encode_requests(host, port, path, bodies)
    processes = max(1, min(processes, concurrency))
    jobs = []
    for p in range(processes):
        share = concurrency // processes + (p < concurrency % processes)
        jobs.append((host, port, encoded[p::processes] or encoded, mode,
                     requests // processes + (p < requests % processes), share, seconds, rate / processes,
                     arrivals, timeout, seed + p))
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.map(_run_in_process, jobs)
    items = sum(len(b["items"]) for b in bodies) / len(bodies)
    figures = summarise(parts, items)
    figures.update(mode=mode, concurrency=concurrency, client_processes=processes)
    if mode == "open":
        figures.update(offered_rate=rate, arrivals=arrivals)
    return figures


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/classify")
    parser.add_argument("--mode", choices=["closed", "open"], default="closed")
    parser.add_argument("--items", type=int, default=1, help="tickets per request")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: total requests per second")
    parser.add_argument("--arrivals", choices=["poisson", "uniform"], default="poisson")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args(argv)
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from bench_batch import short_comments, vary

    rng = random.Random(0)
    pool = short_comments()
    texts = [vary(rng, pool) for _ in range(5000)]
    bodies = [{"items": [{"id": f"R{b}-{i}", "text": texts[(b * args.items + i) % len(texts)]}
                         for i in range(args.items)]} for b in range(max(1, 5000 // args.items))]
    figures = run(args.host, args.port, args.path, bodies, mode=args.mode, requests=args.requests,
                  concurrency=args.concurrency, seconds=args.seconds, rate=args.rate, arrivals=args.arrivals,
                  processes=args.processes)
    print(json.dumps(figures))
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
