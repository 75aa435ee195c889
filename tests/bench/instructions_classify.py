"""Classification's cost next to preprocessing's, counted in CPU instructions (valgrind cachegrind), which
unlike seconds do not swing with a shared machine's load. Needs valgrind; takes ~5 minutes.

    python tests/bench/instructions_classify.py      -> prints the four counts and the two ratios

Each run is one process: load the model, then some steps on 5,000 bench short comments ('p': prepare,
'c': predict), from cold caches. Differences of runs give each part:
cold preprocessing = p - nothing, cold classification = c - p, warm preprocessing = cp - c,
warm classification = cc - cp.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_STEP = """
import importlib, json, sys
sys.path.insert(0, {root!r})
from cxtext.classify import load_model
texts = json.load(open({texts!r}, encoding="utf-8"))
model = load_model()
model.predict(["прогрев: приложение не работает"])  # tables built once, as in any job
for name in ("cxtext.preprocess", "cxtext.lemmatize", "cxtext.features"):
    importlib.import_module(name).clear_cache()
pre = importlib.import_module("cxtext.preprocess")
for step in {steps!r}:
    pre.prepare_many(texts) if step == "p" else model.predict(texts)
"""


def _instructions(script: Path) -> int:
    # a fixed hash seed: str hashing, and so dict and set probing, costs the same in every run; with random
    # seeds the counts of runs differ by ~1%, as much as a part being measured
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           sys.executable, str(script)], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    return int(re.search(r"I\s+refs:\s+([\d,]+)", done.stderr).group(1).replace(",", ""))


def main() -> dict:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: this benchmark counts instructions with it (apt install valgrind)")
        return {}
    sys.path.insert(0, str(ROOT / "tests" / "bench"))
    from bench_classify import _texts

    with tempfile.TemporaryDirectory() as tmp:
        texts = Path(tmp) / "texts.json"
        texts.write_text(json.dumps(_texts()[0][:5_000], ensure_ascii=False), encoding="utf-8")
        scripts = {}
        for steps in ("", "p", "c", "cp", "cc"):
            scripts[steps] = Path(tmp) / f"run_{steps or 'none'}.py"
            scripts[steps].write_text(_STEP.format(root=str(ROOT), texts=str(texts), steps=steps), encoding="utf-8")
        with ThreadPoolExecutor(2) as pool:
            count = dict(zip(scripts, pool.map(_instructions, scripts.values())))
    out = {"cold_preprocess": count["p"] - count[""], "cold_classify": count["c"] - count["p"],
           "warm_preprocess": count["cp"] - count["c"], "warm_classify": count["cc"] - count["cp"]}
    for state in ("cold", "warm"):
        out[f"{state}_ratio"] = round(out[f"{state}_classify"] / out[f"{state}_preprocess"], 3)
        print(f"5,000 short comments, {state}: preprocessing {out[f'{state}_preprocess'] / 1e9:.3f}G instructions, "
              f"classification {out[f'{state}_classify'] / 1e9:.3f}G = {out[f'{state}_ratio']:.2f} x preprocessing")
    (ROOT / "bench_results").mkdir(exist_ok=True)
    (ROOT / "bench_results" / "classify_instructions.json").write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
