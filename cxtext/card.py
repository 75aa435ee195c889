"""The model card: what data a model saw, how well it did on data it did not see, with which versions."""
from __future__ import annotations

import json
from pathlib import Path

_SUMMARY = (("group_accuracy", "Группа: accuracy"), ("group_macro_f1", "Группа: macro-F1"),
            ("topic_micro_f1", "Темы: micro-F1"), ("topic_macro_f1", "Темы: macro-F1"),
            ("general_f1", "Слишком общий: F1"), ("repeat_f1", "Повтор: F1"))


def make_card(model, metrics: dict, data_note: str = "") -> dict:
    """A JSON-able card from a fitted model and the metrics train() returned."""
    from .persist import library_versions

    sets = {k: v for k, v in metrics.items() if isinstance(v, dict) and "group_accuracy" in v}
    return {
        "model": "cxtext TextClassifier (lemma 1-2-grams + char 2-5-grams summed per word, linear heads)",
        "taxonomy": {"name": model.taxonomy_.name, "version": model.taxonomy_.version,
                     "groups": model.groups_, "topics": model.topics_},
        "data": {"note": data_note, "rows": metrics.get("corpus_rows"),
                 "trained_on": metrics.get("trained_on"), "held_out": metrics.get("held_out"),
                 "sha256_16": metrics.get("corpus_sha256_16")},
        "trained_at": metrics.get("trained_at"),
        "versions": library_versions(),
        "params": {k: v for k, v in model.get_params().items() if k != "taxonomy"},
        "decision": {"temperature": model.temperature_, "general_threshold": model.general_threshold_,
                     "topic_thresholds": dict(zip(model.topics_, map(float, model.topic_thresholds_))),
                     "topic_fallback": bool(model.topic_fallback_)},
        "metrics": {name: {k: v for k, v in m.items() if k not in ("group_confusion",)}
                    for name, m in sets.items()},
    }


def write_card(card: dict, path: str | Path) -> None:
    """card.json (machine-readable) and card.md (for people) in a model directory."""
    path = Path(path)
    (path / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [f"# Model card: {card['taxonomy']['name']} {card['taxonomy']['version']}", "",
             card["model"], "", "## Data", "",
             f"- {card['data']['note']}".rstrip(),
             f"- rows: {card['data']['rows']}, trained on {card['data']['trained_on']}, "
             f"held out (never seen in training) {card['data']['held_out']}",
             f"- corpus hash (sha256, first 16 hex): `{card['data']['sha256_16']}`",
             f"- trained at {card['trained_at']}", "", "## Metrics (on data the model was not trained on)", ""]
    names = list(card["metrics"])
    lines.append("| metric | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for key, label in _SUMMARY:
        cells = [_cell(card["metrics"][n], key) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "`cross_validated`: 5-fold out-of-fold predictions on the training part; "
              "`held_out_metrics`: the held-out part of the corpus; other columns: external labelled sets "
              "(for the default model, `dev`: 300 real customer texts).", "", "## Versions", ""]
    lines += [f"- {k}: {v}" for k, v in card["versions"].items()]
    lines += ["", "## Limits", "",
              "- Trained on texts written for the project in the voice of customers; real text differs. "
              "Check `needs_review` rows and retrain on your own labels (notebooks/02_retrain.ipynb).",
              "- Topic thresholds were chosen on out-of-fold predictions of the training part."]
    (path / "card.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _cell(metrics: dict, key: str) -> str:
    """A figure, "n/a: why" when the texts could not give it, "-" when it was not asked for."""
    if metrics.get(key) is not None:
        return f"{metrics[key]:.3f}"
    why = (metrics.get("not_measured") or {}).get(key)
    return f"n/a: {why}" if why else "-"
