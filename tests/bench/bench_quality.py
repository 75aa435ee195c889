"""Quality of the default model on real customer texts it never saw (../shared/data/dev_labelled.jsonl).

    python tests/bench/bench_quality.py       -> prints the metrics, writes bench_results/quality.json
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "data" / "dev_labelled.jsonl"


def main() -> dict:
    from cxtext.classify import load_model
    from cxtext.evaluate import format_metrics
    from cxtext.train import LabelColumns, evaluate_model, read_corpus

    if not DEV.exists():
        print(f"skipped: {DEV} not found")
        return {}
    dev = read_corpus(DEV)
    model = load_model()
    cols = LabelColumns(repeat="is_repeat")
    metrics = {"all": evaluate_model(model, dev, cols)}
    for source, part in dev.groupby("source"):
        metrics[source] = evaluate_model(model, part, cols)
    print(format_metrics(metrics["all"]))
    figure = lambda value: "n/a" if value is None else f"{value:.3f}"  # noqa: E731  (no text has or gets it)
    for source in sorted(set(dev["source"])):
        m = metrics[source]
        print(f"{source:>14}: group acc {m['group_accuracy']:.3f}, topics micro-F1 {figure(m['topic_micro_f1'])}, "
              f"general F1 {figure(m['general_f1'])}")
    (ROOT / "bench_results").mkdir(exist_ok=True)
    (ROOT / "bench_results" / "quality.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1))
    return metrics


if __name__ == "__main__":
    main()
