"""Quality of predicted labels against true ones: groups, topics, is_general, is_repeat."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .labels import split_topics, to_bool  # noqa: F401  (re-exported: callers read labels through here)


def score_labels(pred: pd.DataFrame, groups: Sequence[str], topics: Sequence[Sequence[str]],
                 is_general: Sequence[bool], topic_ids: Sequence[str],
                 is_repeat: Sequence[bool] | None = None, min_group_support: int = 5) -> dict:
    """Accuracy and macro-F1 of groups (macro over groups with >= min_group_support true texts),
    micro/macro-F1 of topics with per-topic P/R/F1, F1 of is_general (and is_repeat), confusion.

    A figure the set cannot give (no group with enough texts; no text that has or is given a label) is
    None, and 'not_measured' says why."""
    y_true = list(groups)
    y_pred = list(pred["group"])
    labels = sorted(set(y_true) | set(y_pred))
    supported = [g for g in labels if y_true.count(g) >= min_group_support]
    T = np.array([[t in row for t in topic_ids] for row in topics], dtype=bool)
    P = np.array([[t in split_topics(row) for t in topic_ids] for row in pred["topics"]], dtype=bool)
    g_true, g_pred = np.array(list(map(bool, is_general)), dtype=bool), pred["is_general"].to_numpy(bool)
    p, r, f, s = precision_recall_fscore_support(T, P, average=None, zero_division=0)
    present = T.sum(axis=0) > 0
    seen = present | P.any(axis=0)  # a topic neither labelled nor predicted has no F1
    not_measured = {}

    def measured(name: str, value, why: str):
        if value is None:
            not_measured[name] = why
            return None
        return round(float(value), 4)

    out = {
        "n": len(y_true),
        "group_accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "group_macro_f1": measured("group_macro_f1", f1_score(y_true, y_pred, labels=supported, average="macro",
                                                              zero_division=0) if supported else None,
                                   f"no group has {min_group_support} texts in this set"),
        "group_macro_f1_groups": supported,
        "topic_micro_f1": measured("topic_micro_f1", f1_score(T, P, average="micro", zero_division=0)
                                   if (T | P).any() else None, "no text in this set has or is given a topic"),
        "topic_macro_f1": measured("topic_macro_f1", np.mean(f[present]) if present.any() else None,
                                   "no text in this set has a topic"),
        "general_f1": measured("general_f1", f1_score(g_true, g_pred, zero_division=0)
                               if (g_true | g_pred).any() else None,
                               "no text in this set is, or is called, too general"),
        "per_topic": {t: {"precision": round(float(p[i]), 3) if seen[i] else None,
                          "recall": round(float(r[i]), 3) if seen[i] else None,
                          "f1": round(float(f[i]), 3) if seen[i] else None, "support": int(s[i])}
                      for i, t in enumerate(topic_ids)},
        "group_confusion": {"labels": labels,
                            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }
    out["intervals_95"] = {name: ci for name, ci in bootstrap_intervals(
        np.array(y_true), np.array(y_pred), supported, T, P, g_true, g_pred).items() if out[name] is not None}
    if is_repeat is not None:
        r_true, r_pred = np.array(list(map(bool, is_repeat)), dtype=bool), pred["is_repeat"].to_numpy(bool)
        out["repeat_f1"] = measured("repeat_f1", f1_score(r_true, r_pred, zero_division=0)
                                    if (r_true | r_pred).any() else None,
                                    "no text in this set is, or is called, a repeat")
    if "needs_review" in pred:
        review = pred["needs_review"].to_numpy(bool)
        correct = np.array(y_true) == np.array(y_pred)
        out["needs_review_share"] = round(float(review.mean()), 4)
        out["group_accuracy_not_flagged"] = round(float(correct[~review].mean()), 4) if (~review).any() else None
    out["not_measured"] = not_measured
    return out


def bootstrap_intervals(y_true: np.ndarray, y_pred: np.ndarray, groups: Sequence[str], T: np.ndarray,
                        P: np.ndarray, g_true: np.ndarray, g_pred: np.ndarray, rounds: int = 1000,
                        seed: int = 0) -> dict:
    """95% intervals of group macro-F1, topic micro-F1 and is_general F1 from resampling the texts.

    On a few hundred labelled texts a figure moves by several points from one sample to the next:
    the interval says how far a difference between two models or a goal can be trusted."""
    n = len(y_true)
    if n == 0:
        return {}
    weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(float)

    def f1(tp: np.ndarray, predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
        total = weights @ predicted + weights @ true
        return np.divide(2 * (weights @ tp), total, out=np.zeros(rounds), where=total > 0)

    per_group = [f1((y_true == g) & (y_pred == g), y_pred == g, y_true == g) for g in groups]
    samples = {
        "group_macro_f1": np.mean(per_group, axis=0) if per_group else np.zeros(rounds),
        "topic_micro_f1": f1((T & P).sum(axis=1), P.sum(axis=1), T.sum(axis=1)),
        "general_f1": f1(g_true & g_pred, g_pred, g_true),
    }
    return {name: [round(float(v), 4) for v in np.percentile(values, [2.5, 97.5])]
            for name, values in samples.items()}


def format_metrics(metrics: dict) -> str:
    """A short human-readable summary (what the CLI prints)."""
    ci = metrics.get("intervals_95", {})
    why = metrics.get("not_measured", {})

    def figure(name: str) -> str:
        if metrics[name] is None:
            return f"n/a: {why.get(name, 'not measurable on this set')}"
        return f"{metrics[name]:.3f}" + (f" (95% CI {ci[name][0]:.3f}-{ci[name][1]:.3f})" if name in ci else "")

    def share(value) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    left_out = metrics.get("unlabelled_rows", 0)
    lines = [f"texts: {metrics['n']}" + (f" ({left_out} row(s) without a group left out: not labelled yet)"
                                         if left_out else ""),
             f"group accuracy {metrics['group_accuracy']:.3f}  macro-F1 {figure('group_macro_f1')}",
             f"topics micro-F1 {figure('topic_micro_f1')}  macro-F1 {figure('topic_macro_f1')}",
             f"is_general F1 {figure('general_f1')}"]
    if "repeat_f1" in metrics:
        lines.append(f"is_repeat F1 {figure('repeat_f1')}")
    lines.append("per topic (P / R / F1 / n):")
    for topic, m in metrics["per_topic"].items():
        lines.append(f"  {topic:<18} {share(m['precision'])} / {share(m['recall'])} / {share(m['f1'])} / "
                     f"{m['support']}")
    conf = metrics["group_confusion"]
    lines.append("group confusion (rows = true, columns = predicted): " + ", ".join(conf["labels"]))
    for label, row in zip(conf["labels"], conf["matrix"]):
        lines.append(f"  {label:<16} " + " ".join(f"{v:4d}" for v in row))
    return "\n".join(lines)
