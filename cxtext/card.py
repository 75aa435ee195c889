"""The model card: what data a model saw, how well it did on data it did not see, with which versions."""
from __future__ import annotations

import json
from pathlib import Path

_SUMMARY = (("group_accuracy", "Группа: accuracy"), ("group_macro_f1", "Группа: macro-F1"),
            ("topic_micro_f1", "Темы: micro-F1"), ("topic_macro_f1", "Темы: macro-F1"),
            ("general_f1", "Слишком общий: F1"), ("repeat_f1", "Повтор: F1"))


def make_card(model, metrics: dict, data_note: str = "", project_corpus: bool = False) -> dict:
    """A JSON-able card from a fitted model and the metrics train() returned. `project_corpus`: the rows
    trained on are the default corpus itself (texts written for the project), not an analyst's labels."""
    from .persist import library_versions
    from .taxonomy import load_taxonomy

    sets = {k: v for k, v in metrics.items() if isinstance(v, dict) and "group_accuracy" in v}
    default = load_taxonomy()
    return {
        "model": "cxtext TextClassifier (lemma 1-2-grams + char 2-5-grams summed per word, linear heads)",
        "taxonomy": {"name": model.taxonomy_.name, "version": model.taxonomy_.version,
                     "groups": model.groups_, "topics": model.topics_,
                     "added_topics": {t: model.taxonomy_.topic_name(t) for t in model.topics_
                                      if t not in default.topic_ids},
                     "left_out_topics": [t for t in default.topic_ids if t not in model.topics_]},
        "data": {"note": data_note, "rows": metrics.get("corpus_rows"),
                 "trained_on": metrics.get("trained_on"), "held_out": metrics.get("held_out"),
                 "sha256_16": metrics.get("corpus_sha256_16"),
                 "background_rows": metrics.get("background_rows", 0),
                 "background_sha256_16": metrics.get("background_sha256_16"),
                 "eval_sources": metrics.get("eval_sources", {})},
        "limits": _limits(metrics, project_corpus),
        "trained_at": metrics.get("trained_at"),
        "versions": library_versions(),
        "params": {k: v for k, v in model.get_params().items() if k != "taxonomy"},
        "decision": {"temperature": model.temperature_, "general_threshold": model.general_threshold_,
                     "topic_thresholds": dict(zip(model.topics_, map(float, model.topic_thresholds_))),
                     "topic_fallback": bool(model.topic_fallback_)},
        "metrics": {name: {k: v for k, v in m.items() if k not in ("group_confusion",)}
                    for name, m in sets.items()},
    }


def _limits(metrics: dict, project_corpus: bool) -> list[str]:
    """What the figures do not say, for this model's data."""
    extra = metrics.get("background_rows", 0)
    own = metrics.get("trained_on", 0) - extra  # the user's rows trained on (the held-out part is not)
    held = metrics.get("held_out", 0)
    if project_corpus:
        lines = ["Trained on texts written for the project in the voice of customers; real text differs. Check "
                 "`needs_review` rows and retrain on your own labels (notebooks/02_retrain.ipynb)."]
    elif extra:
        lines = [f"Trained on {own} labelled rows of yours and {extra} texts of the default corpus (written for "
                 "the project in the voice of customers); the cross-validated and held-out figures are on your "
                 "rows only."]
    else:
        lines = [f"Trained on {own} labelled rows only" + (
            f"; the held-out figures rest on {held} texts, so a difference of a few points between models can be "
            "chance (see the 95% intervals of `cxtext evaluate`)." if held else
            "; nothing was held out, so only the cross-validated figures say how it does on unseen texts.")]
    if metrics.get("thin_labels"):
        lines.append(" ".join(line.strip() for line in metrics["thin_labels"].splitlines()))
    return lines + ["Topic thresholds were chosen on out-of-fold predictions of the training part."]


def write_card(card: dict, path: str | Path) -> None:
    """card.json (machine-readable) and card.md (for people) in a model directory."""
    path = Path(path)
    (path / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [f"# Model card: {card['taxonomy']['name']} {card['taxonomy']['version']}", "",
             card["model"], "", "## Data", "",
             f"- {card['data']['note']}".rstrip(),
             f"- rows: {card['data']['rows']}, trained on {card['data']['trained_on']}, "
             f"held out (never seen in training) {card['data']['held_out']}",
             f"- corpus hash (sha256, first 16 hex): `{card['data']['sha256_16']}`"]
    if card["data"].get("background_rows"):
        lines.append(f"- plus {card['data']['background_rows']} rows of the default corpus (hash "
                     f"`{card['data']['background_sha256_16']}`), trained on, never measured on")
    lines += [f"- trained at {card['trained_at']}", "", "## Taxonomy", "",
              f"- {card['taxonomy']['name']} {card['taxonomy']['version']}: {len(card['taxonomy']['groups'])} "
              f"groups, {len(card['taxonomy']['topics'])} topics"]
    if card["taxonomy"].get("added_topics"):
        lines.append("- topics not in the default taxonomy: " + ", ".join(
            f"{t} ({name})" for t, name in card["taxonomy"]["added_topics"].items()))
    if card["taxonomy"].get("left_out_topics"):
        lines.append("- default topics left out: " + ", ".join(card["taxonomy"]["left_out_topics"]))
    lines += ["", "## Metrics (on data the model was not trained on)", ""]
    names = list(card["metrics"])
    lines.append("| metric | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for key, label in _SUMMARY:
        cells = [_cell(card["metrics"][n], key) for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    sources = card["data"].get("eval_sources") or {}
    lines += ["", "`cross_validated`: out-of-fold predictions on the training part; `held_out_metrics`: the "
              "held-out part, never trained on" + "".join(
                  f"; `{name}`: {source} ({card['metrics'].get(name, {}).get('n', '?')} texts)"
                  for name, source in sources.items())
              + ".", "", "## Versions", ""]
    lines += [f"- {k}: {v}" for k, v in card["versions"].items()]
    lines += ["", "## Limits", ""] + [f"- {line}" for line in card["limits"]]
    (path / "card.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _cell(metrics: dict, key: str) -> str:
    """A figure, "n/a: why" when the texts could not give it, "-" when it was not asked for."""
    if metrics.get(key) is not None:
        return f"{metrics[key]:.3f}"
    why = (metrics.get("not_measured") or {}).get(key)
    return f"n/a: {why}" if why else "-"
