"""Throughput and peak memory of `cxtext label` (batch.label_file), file in to file out.

    .venv/bin/python tests/bench/bench_batch.py                 # 100k short comments, jobs 1 and 2
    .venv/bin/python tests/bench/bench_batch.py --million       # + 1,000,000 rows with jobs 2

Comments are sampled from the default model's training corpus (short ones, lightly varied: case,
punctuation, openers, emoji, typos, two joined) so the lemma cache sees realistic variety. Each run
is a fresh process; peak memory is the highest total PSS of it and its workers (psutil when
installed; getrusage's largest single process is reported too). Results go to bench_results/batch.json.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FALLBACK = ["не дозвониться до банка", "спасибо, все отлично", "приложение вылетает", "верните деньги",
            "как сменить тариф?", "долго ждал оператора", "норм", "карту заблокировали без причины"]
OPENERS = ["", "", "", "добрый день, ", "здравствуйте! ", "ну ", "короче ", "честно говоря "]
TAILS = ["", "", "", "!", "!!!", ".", " 👍", " 😡", " спасибо", " уже третий раз", "??"]


def short_comments(max_len: int = 140) -> list[str]:
    texts = []
    for file in sorted(glob.glob(str(ROOT / "models/default/corpus/*.jsonl"))):
        with open(file, encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f if line.strip()]
    short = [t for t in texts if isinstance(t, str) and 0 < len(t) <= max_len]
    return short or FALLBACK


def vary(rng: random.Random, pool: list[str]) -> str:
    text = rng.choice(pool)
    if rng.random() < 0.15:
        text = f"{text}. {rng.choice(pool)}"
    text = rng.choice(OPENERS) + text + rng.choice(TAILS)
    if rng.random() < 0.2:
        text = text.lower() if rng.random() < 0.7 else text.upper()
    if rng.random() < 0.1 and len(text) > 5:  # a typo: two letters swapped
        i = rng.randrange(len(text) - 1)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if rng.random() < 0.01:
        text = rng.choice(["", "NA", "-", "   "])
    return text


def make_csv(path: Path, rows: int, seed: int = 0) -> dict:
    import pandas as pd

    rng = random.Random(seed)
    pool = short_comments()
    step, lengths = 100_000, 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        for start in range(0, rows, step):
            n = min(step, rows - start)
            texts = [vary(rng, pool) for _ in range(n)]
            lengths += sum(map(len, texts))
            frame = pd.DataFrame({"id": [f"{i:08d}" for i in range(start, start + n)], "comment": texts,
                                  "score": [str(rng.randrange(11)) for _ in range(n)]})
            frame.to_csv(f, index=False, header=start == 0)
    return {"rows": rows, "mean_chars": round(lengths / rows, 1), "distinct_sources": len(pool),
            "file_mb": round(path.stat().st_size / 2**20, 1)}


def run_once(src: str, dst: str, jobs: int, chunk_size: int, model: str | None) -> dict:
    """One label_file run in this (fresh) process; prints the summary as JSON."""
    from cxtext.batch import label_file

    summary = label_file(src, dst, text_col="comment", id_col="id", jobs=jobs, chunk_size=chunk_size, quiet=True,
                         model=model or None)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary["rusage_max_process_mb"] = round(max(own, kids), 1)
    return summary


def _pss(process) -> int:
    try:
        return process.memory_full_info().pss
    except (AttributeError, OSError):
        return process.memory_info().rss


def measure(src: Path, dst: Path, jobs: int, chunk_size: int, model: str | None) -> dict:
    """Run in a subprocess and sample the total RSS of it and its workers."""
    try:
        import psutil
    except ImportError:
        psutil = None
    cmd = [sys.executable, __file__, "--run", str(src), str(dst), str(jobs), str(chunk_size), model or ""]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0.0
    if psutil is not None:
        top = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [top] + top.children(recursive=True)
                # PSS: forked workers share the parent's pages, which RSS would count once per process
                peak = max(peak, sum(_pss(p) for p in tree if p.is_running()) / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.1)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"run with jobs={jobs} failed (exit {proc.returncode})")
    summary = json.loads(out.strip().splitlines()[-1])
    summary["peak_total_pss_mb"] = round(peak, 1) if psutil is not None else None
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--million", action="store_true", help="also label 1,000,000 rows with 2 jobs")
    parser.add_argument("--out", default=str(ROOT / "bench_results/batch.json"))
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--run", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        src, dst, jobs, chunk, model = args.run
        print(json.dumps(run_once(src, dst, int(jobs), int(chunk), model), ensure_ascii=False))
        return

    results: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                                 "load_average_at_start": os.getloadavg()}, "model": args.model or "default",
                     "runs": []}
    with tempfile.TemporaryDirectory(prefix="cxtext-bench-") as tmp:
        src = Path(tmp) / "comments.csv"
        results["data"] = make_csv(src, args.rows)
        for jobs in [int(j) for j in args.jobs.split(",")]:
            summary = measure(src, Path(tmp) / f"labels_{jobs}.csv", jobs, args.chunk_size, args.model)
            results["runs"].append(summary)
            print(f"{args.rows:,} rows, jobs={jobs}: {summary['rows_per_s']:,.0f} rows/s, "
                  f"peak {summary['peak_total_pss_mb']} MB (PSS of all processes)", flush=True)
        if args.million:
            big = Path(tmp) / "million.csv"
            results["million_data"] = make_csv(big, 1_000_000, seed=1)
            src.unlink()
            summary = measure(big, Path(tmp) / "million_labels.csv", 2, args.chunk_size, args.model)
            results["million"] = summary
            print(f"1,000,000 rows, jobs=2: {summary['rows_per_s']:,.0f} rows/s, "
                  f"peak {summary['peak_total_pss_mb']} MB (PSS of all processes)", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
