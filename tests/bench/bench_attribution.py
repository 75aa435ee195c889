"""What `--explain` costs: texts per second of `predict` alone and of `predict` plus the words behind each
row's labels, on the same short feedback-like comments, one core.

    python tests/bench/bench_attribution.py  -> prints the figures, writes bench_results/attribution.json
"""
from __future__ import annotations

import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMENTS = Path(__file__).with_name("feedback_ru.txt")


def _rate(fn, texts: list[str], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main() -> None:
    from cxtext.classify import load_model
    from cxtext.attribution import evidence

    model = load_model()
    lines = [ln for ln in COMMENTS.read_text("utf-8").splitlines() if ln and not ln.startswith("#")]
    texts = [f"{line} ({i})" for i, line in enumerate(lines * 10)]  # distinct texts: none scored twice
    model.predict(texts[:50])  # load the lemmatiser and fill the first caches
    predict = _rate(model.predict_columns, texts)
    explained = _rate(lambda t: evidence(model, t), texts)
    words = sum(len(t.split()) for t in texts) / len(texts)
    figures = {"texts": len(texts), "mean_words": round(words, 1), "predict_texts_per_s": round(predict),
               "predict_and_evidence_texts_per_s": round(explained), "cost_ratio": round(predict / explained, 1)}
    print(json.dumps(figures, ensure_ascii=False))
    (ROOT / "bench_results").mkdir(exist_ok=True)
    (ROOT / "bench_results" / "attribution.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
