"""Speed of the classifier next to preprocessing alone, one core: short comments and 2 KB transcripts.

    python tests/bench/bench_classify.py      -> prints figures, writes bench_results/classify.json
"""
from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the issue asks
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[2]


def _texts() -> tuple[list[str], list[str]]:
    from cxtext.train import read_corpus

    corpus = read_corpus(ROOT / "models" / "default" / "corpus")
    rng = random.Random(0)
    short = [t for t in corpus["text"] if len(t) < 200]
    shorts = [rng.choice(short) for _ in range(20_000)]
    chats = [t for t in corpus["text"] if t.count("\n") >= 2]
    transcripts = []
    for _ in range(1_000):
        parts, size = [], 0
        while size < 2_000:
            piece = rng.choice(chats)
            parts.append(piece)
            size += len(piece) + 1
        transcripts.append("\n".join(parts)[:2_048])
    return shorts, transcripts


def _rate(fn, texts) -> float:
    start = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - start)


def main() -> dict:
    import importlib

    from cxtext.classify import load_model

    pre = importlib.import_module("cxtext.preprocess")
    lem = importlib.import_module("cxtext.lemmatize")
    feat = importlib.import_module("cxtext.features")

    def forget() -> None:  # cold: no word seen before, as a feature word, a lemma or a word's n-grams
        pre.clear_cache()
        lem.clear_cache()
        feat.clear_cache()

    shorts, transcripts = _texts()
    model = load_model()
    model.predict(shorts[:200])  # warm the analyzer once, as a long-running job is
    out = {}
    for name, texts in (("short_comments", shorts), ("transcripts_2kb", transcripts)):
        for state in ("cold", "warm"):  # cold: first pass over new words; warm: a long-running job
            prep, full = 0.0, 0.0
            for _ in range(4):  # alternate and keep the best of four: neither side gets the one-off costs, less noise
                if state == "cold":
                    forget()
                prep = max(prep, _rate(pre.prepare_many, texts))
                if state == "cold":
                    forget()
                full = max(full, _rate(model.predict, texts))
            out[f"{name}_{state}"] = {"texts": len(texts), "preprocess_per_s": round(prep),
                                      "predict_per_s": round(full),
                                      "classification_cost_vs_preprocessing": round(prep / full - 1, 3)}
            print(f"{name} ({state} caches): preprocess {prep:,.0f}/s, predict (preprocess + classify) "
                  f"{full:,.0f}/s; classification costs {prep / full - 1:.2f} x preprocessing")
    (ROOT / "bench_results").mkdir(exist_ok=True)
    (ROOT / "bench_results" / "classify.json").write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
