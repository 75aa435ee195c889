"""Quality of predicted labels against true ones: groups, topics, is_general, is_repeat."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .labels import split_topics, to_bool  # noqa: F401  (re-exported: callers read labels through here)


def score_labels(pred: pd.DataFrame, groups: Sequence[str], topics: Sequence[Sequence[str]],
                 is_general: Sequence[bool] | None, topic_ids: Sequence[str],
                 is_repeat: Sequence[bool] | None = None, min_group_support: int = 5) -> dict:
    """Accuracy and macro-F1 of groups (macro over groups with >= min_group_support true texts),
    micro/macro-F1 of topics with per-topic P/R/F1, F1 of is_general (and is_repeat), confusion.

    A figure the set cannot give (no group with enough texts; no text that has or is given a label; no
    too-general labels, `is_general` None) is None, and 'not_measured' says why."""
    y_true = list(groups)
    y_pred = list(pred["group"])
    labels = sorted(set(y_true) | set(y_pred))
    supported = [g for g in labels if y_true.count(g) >= min_group_support]
    T = np.array([[t in row for t in topic_ids] for row in topics], dtype=bool)
    P = np.array([[t in split_topics(row) for t in topic_ids] for row in pred["topics"]], dtype=bool)
    g_pred = pred["is_general"].to_numpy(bool)
    g_true = np.zeros(len(g_pred), dtype=bool) if is_general is None else np.array(list(map(bool, is_general)), dtype=bool)
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
                               if is_general is not None and (g_true | g_pred).any() else None,
                               "the set has no too-general column («Слишком общий», is_general)" if is_general is None
                               else "no text in this set is, or is called, too general"),
        "per_topic": {t: {"precision": round(float(p[i]), 3) if seen[i] else None,
                          "recall": round(float(r[i]), 3) if seen[i] else None,
                          "f1": round(float(f[i]), 3) if seen[i] else None, "support": int(s[i])}
                      for i, t in enumerate(topic_ids)},
        "group_confusion": {"labels": labels,
                            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }
    intervals = {name: ci for name, ci in bootstrap_intervals(np.array(y_true), np.array(y_pred), supported, T, P,
                                                              g_true, g_pred).items() if out[name] is not None}
    out["intervals_95"] = {name: ci for name, ci in intervals.items() if not isinstance(ci, str)}
    out["intervals_not_given"] = {name: why for name, why in intervals.items() if isinstance(why, str)}
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


MIN_INTERVAL_TEXTS = 10  # texts that have or are given a label, below which no interval is given


def bootstrap_intervals(y_true: np.ndarray, y_pred: np.ndarray, groups: Sequence[str], T: np.ndarray,
                        P: np.ndarray, g_true: np.ndarray, g_pred: np.ndarray, rounds: int = 1000,
                        seed: int = 0) -> dict:
    """95% intervals of group macro-F1, topic micro-F1 and is_general F1 from resampling the texts; a
    figure that fewer than MIN_INTERVAL_TEXTS texts have or are given gets, instead of an interval, the
    reason (str).

    On a few hundred labelled texts a figure moves by several points from one sample to the next:
    the interval says how far a difference between two models or a goal can be trusted. A resample in
    which a figure is undefined (no text has or is given the label) is left out, not counted as 0."""
    n = len(y_true)
    if n == 0:
        return {}
    weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(float)

    def f1(tp: np.ndarray, predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
        total = weights @ predicted + weights @ true
        return np.divide(2 * (weights @ tp), total, out=np.full(rounds, np.nan), where=total > 0)

    per_group = np.array([f1((y_true == g) & (y_pred == g), y_pred == g, y_true == g) for g in groups]).reshape(
        len(groups), rounds)
    samples = {  # (resampled figure, texts that have or are given the label)
        "group_macro_f1": (_mean_defined(per_group), int(np.isin(y_true, groups).sum())),
        "topic_micro_f1": (f1((T & P).sum(axis=1), P.sum(axis=1), T.sum(axis=1)), int((T | P).any(axis=1).sum())),
        "general_f1": (f1(g_true & g_pred, g_pred, g_true), int((g_true | g_pred).sum())),
    }
    out: dict = {}
    for name, (values, texts) in samples.items():
        if texts < MIN_INTERVAL_TEXTS:
            out[name] = f"no interval: only {texts} text(s) have or are given the label"
        else:
            defined = values[~np.isnan(values)]
            out[name] = [round(float(v), 4) for v in np.percentile(defined, [2.5, 97.5])]
    return out


def _mean_defined(per_label: np.ndarray) -> np.ndarray:
    """Mean over labels of each resample, of the labels defined in it (NaN when none is)."""
    count = (~np.isnan(per_label)).sum(axis=0)
    return np.divide(np.nansum(per_label, axis=0), count, out=np.full(count.shape, np.nan), where=count > 0)


def format_metrics(metrics: dict) -> str:
    """A short human-readable summary (what the CLI prints)."""
    ci = metrics.get("intervals_95", {})
    why = metrics.get("not_measured", {})
    no_ci = metrics.get("intervals_not_given", {})

    def figure(name: str) -> str:
        if metrics[name] is None:
            return f"n/a: {why.get(name, 'not measurable on this set')}"
        if name in ci:
            return f"{metrics[name]:.3f} (95% CI {ci[name][0]:.3f}-{ci[name][1]:.3f})"
        return f"{metrics[name]:.3f}" + (f" ({no_ci[name]})" if name in no_ci else "")

    def over_groups() -> str:
        conf = metrics["group_confusion"]
        labelled = {g for g, row in zip(conf["labels"], conf["matrix"]) if sum(row)}
        covered = metrics.get("group_macro_f1_groups")
        if covered is None or metrics["group_macro_f1"] is None or labelled <= set(covered):
            return ""
        return f" over {', '.join(covered)} (groups with enough texts)"

    def share(value) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    left_out = metrics.get("unlabelled_rows", 0)
    lines = [f"texts: {metrics['n']}" + (f" ({left_out} row(s) left out: without a group (not labelled yet), or not marked checked with --checked-only)"
                                         if left_out else ""),
             f"group accuracy {metrics['group_accuracy']:.3f}  macro-F1 {figure('group_macro_f1')}{over_groups()}",
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
