"""Lemma accuracy of cxtext.lemmatize.lemmatize on UD Russian-Taiga (test) vs pymorphy3's first parse.

    .venv/bin/python tests/bench/lemma_accuracy.py [path/to/file.conllu]

Each sentence's word forms go to ``lemmatize`` in one call. Both sides are lower-cased with ё folded
to е; punctuation (UPOS PUNCT) is not scored. "content" means UPOS NOUN, VERB, ADJ, ADV. The
baseline is ``parse(w)[0].normal_form`` from the same analyzer in the same run. Speeds are words
per second on the whole file: the contextual ``lemmatize`` (cold caches, then warm) and the fast
per-word ``lemma`` (cold, then warm). Results go to bench_results/lemma_accuracy.json.

The test file is for evaluation only: nothing in cxtext is trained on it.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "ud_taiga_test.conllu"
OUT = Path("bench_results/lemma_accuracy.json")
CONTENT = frozenset({"NOUN", "VERB", "ADJ", "ADV"})

Token = tuple[str, str, str]  # form, gold lemma, UPOS


def read_conllu(path: Path) -> list[list[Token]]:
    """Sentences of (form, lemma, upos); multi-word token lines and empty nodes are skipped."""
    sentences: list[list[Token]] = []
    current: list[Token] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
        elif not line.startswith("#"):
            cols = line.split("\t")
            if cols[0].isdigit():
                current.append((cols[1], cols[2], cols[3]))
    if current:
        sentences.append(current)
    return sentences


def _fold(text: str) -> str:
    return text.lower().replace("ё", "е")


def score(sentences: list[list[Token]], predicted: list[list[str]]) -> dict[str, float | int]:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for sentence, lemmas in zip(sentences, predicted):
        for (_, gold, upos), lemma in zip(sentence, lemmas):
            if upos == "PUNCT":
                continue
            ok = _fold(lemma) == _fold(gold)
            for key in ("all", "content") if upos in CONTENT else ("all",):
                totals[key] += 1
                hits[key] += ok
    return {
        "all_words": round(100 * hits["all"] / totals["all"], 2),
        "content_words": round(100 * hits["content"] / totals["content"], 2),
        "n_all": totals["all"],
        "n_content": totals["content"],
    }


def _timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT
    if not path.exists():
        print(f"skipped: {path} not found (UD Russian-Taiga test set; pass another .conllu path)")
        return 0
    import importlib

    lm = importlib.import_module("cxtext.lemmatize")

    sentences = read_conllu(path)
    forms = [[form for form, _, _ in s] for s in sentences]
    n_words = sum(len(f) for f in forms)
    morph = lm.get_analyzer()

    baseline = [[morph.parse(_fold(w))[0].normal_form for w in f] for f in forms]

    lm.set_analyzer(morph)  # empties the caches: the first pass below is cold
    ours, cold = _timed(lambda: [lm.lemmatize(f) for f in forms])
    _, warm = _timed(lambda: [lm.lemmatize(f) for f in forms])
    folded = [[_fold(w) for w in f] for f in forms]
    lm.set_analyzer(morph)
    _, fast_cold = _timed(lambda: [[lm.lemma(w) for w in f] for f in folded])
    fast, fast_warm = _timed(lambda: [[lm.lemma(w) for w in f] for f in folded])

    result = {
        "data": str(path),
        "sentences": len(sentences),
        "lemmatize": score(sentences, ours),
        "fast_lemma": score(sentences, fast),
        "baseline_first_parse": score(sentences, baseline),
        "words_per_second": {
            "lemmatize_cold": round(n_words / cold),
            "lemmatize_warm": round(n_words / warm),
            "lemma_cold": round(n_words / fast_cold),
            "lemma_warm": round(n_words / fast_warm),
        },
    }
    for key in ("all_words", "content_words"):
        result[f"delta_{key}"] = round(
            result["lemmatize"][key] - result["baseline_first_parse"][key], 2
        )
    print(f"{path.name}: {len(sentences)} sentences, {result['lemmatize']['n_all']} words "
          f"({result['lemmatize']['n_content']} content), punctuation excluded")
    print(f"{'':28}{'all words':>10}{'content':>10}")
    for name, key in (("pymorphy3 first parse", "baseline_first_parse"),
                      ("cxtext lemma (fast path)", "fast_lemma"),
                      ("cxtext lemmatize (context)", "lemmatize")):
        r = result[key]
        print(f"{name:28}{r['all_words']:>9.2f}%{r['content_words']:>9.2f}%")
    print(f"{'delta lemmatize - baseline':28}{result['delta_all_words']:>+9.2f} "
          f"{result['delta_content_words']:>+9.2f}")
    speeds = result["words_per_second"]
    print("words/s: " + ", ".join(f"{k} {v:,}" for k, v in speeds.items()))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
