"""What to label next: texts the model is unsure of, labels that look wrong, themes no topic covers.

Each finder returns a frame with a `text` and a Russian `reason` column, so any mix of them goes to
`to_label_file` and then to an analyst; `compare_models` says whether a retrained model is better.

    >>> todo = [uncertain(model, texts, k=50), leftover_clusters(model, texts)]   # doctest: +SKIP
    >>> to_label_file(todo, "to_label.xlsx", model=model)                          # doctest: +SKIP
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InputError, ModelError
from .evaluate import score_labels, split_topics
from .preprocess import PROCESSED
from .taxonomy import Taxonomy
from .train import LabelColumns, labelled_rows

__all__ = ["cluster_summary", "compare_models", "leftover_clusters", "suspect_labels", "to_label_file",
           "uncertain"]


def _closeness(p: np.ndarray, cut) -> np.ndarray:
    """1.0 at the decision threshold, 0.0 at a sure yes (p = 1) or a sure no (p = 0)."""
    cut = np.asarray(cut, dtype=float)
    above = (p - cut) / np.maximum(1 - cut, 1e-9)
    below = (cut - p) / np.maximum(cut, 1e-9)
    return 1.0 - np.clip(np.where(p >= cut, above, below), 0.0, 1.0)


def _usable(docs) -> np.ndarray:
    return np.array([d.status in PROCESSED and bool(d.features.strip()) for d in docs], dtype=bool)


def _checked_ids(ids, n: int) -> list | None:
    """The caller's id of each text (e.g. the survey's id column), so a row can be traced back."""
    if ids is None:
        return None
    ids = list(ids)
    if len(ids) != n:
        raise InputError(f"ids has {len(ids)} values but there are {n} texts; pass one id per text, in order")
    return ids


def _with_ids(frame: pd.DataFrame, ids: list | None) -> pd.DataFrame:
    """`frame`, indexed by positions in the input, with the caller's ids as a first column `id`."""
    if ids is not None:
        frame.insert(0, "id", [ids[i] for i in frame.index])
    return frame


def _same_words(docs) -> pd.Series:
    # "Шаблоны платежей экономят кучу времени)" and "=) шаблоны платежей экономят кучу времени)))" differ
    # only in case and emoji: the same set of lemmas and emoji words, so one text to label
    return pd.Series([" ".join(sorted(set(d.features.split()))) for d in docs])


# ---- uncertainty sampling ------------------------------------------------------------------------
def uncertain(model, texts: Iterable, k: int = 50, *, ids: Iterable | None = None,
              dedupe: bool = True) -> pd.DataFrame:
    """The k texts the model is least sure of, most unsure first (uncertainty sampling).

    Uncertainty is the largest of three: 1 - margin between the two most likely groups; closeness of
    the nearest topic probability to its threshold; closeness of is_general to its threshold (each 0..1).
    Empty or non-text cells are skipped, and with `dedupe` texts with the same words once prepared
    ("норм", "Норм!!!") count once. The index holds positions in `texts`; columns: id (with `ids`, one per
    text), text, group (the most likely one), second_group, group_margin, group_entropy, closest_topic,
    topic_closeness, general_closeness, uncertainty, reason.
    """
    texts = list(texts)
    ids = _checked_ids(ids, len(texts))
    scores = model.predict_scores(texts)
    docs = scores["docs"]
    group = scores["group"]
    order = np.argsort(-group, axis=1)
    top, second = order[:, 0], order[:, 1] if group.shape[1] > 1 else order[:, 0]
    rows = np.arange(len(texts))
    margin = group[rows, top] - group[rows, second]
    entropy = -(group * np.log(np.clip(group, 1e-12, 1))).sum(axis=1) / np.log(max(group.shape[1], 2))
    t_close = _closeness(scores["topics"], model.topic_thresholds_)
    t_idx = t_close.argmax(axis=1)
    g_close = _closeness(scores["general"], model.general_threshold_)
    u = np.column_stack([1 - margin, t_close[rows, t_idx], g_close])
    frame = pd.DataFrame({
        "text": texts,
        "group": [model.groups_[i] for i in top],
        "second_group": [model.groups_[i] for i in second],
        "group_margin": margin.round(3),
        "group_entropy": entropy.round(3),
        "closest_topic": [model.topics_[i] for i in t_idx],
        "topic_p": scores["topics"][rows, t_idx].round(3),
        "topic_threshold": model.topic_thresholds_[t_idx].round(3),
        "topic_closeness": u[:, 1].round(3),
        "general_closeness": u[:, 2].round(3),
        "uncertainty": u.max(axis=1).round(4),
        "why": u.argmax(axis=1),
    })
    frame = frame[_usable(docs)]
    if dedupe:
        frame = frame[~_same_words(docs).loc[frame.index].duplicated().to_numpy()]
    frame = frame.sort_values("uncertainty", ascending=False, kind="stable").head(int(k))
    tax = model.taxonomy_
    frame["reason"] = [_uncertain_reason(r, tax) for r in frame.itertuples()]
    return _with_ids(frame.drop(columns="why"), ids)


def _uncertain_reason(r, tax: Taxonomy) -> str:
    if r.why == 0:
        return (f"модель не уверена в группе: «{tax.group_name(r.group)}» или «{tax.group_name(r.second_group)}» "
                f"(разница {r.group_margin:.2f})")
    if r.why == 1:
        return (f"тема «{tax.topic_name(r.closest_topic)}» на границе: вероятность {r.topic_p:.2f} "
                f"при пороге {r.topic_threshold:.2f}")
    return "модель не уверена, слишком ли общий это комментарий"


# ---- suspected label errors ----------------------------------------------------------------------
def suspect_labels(frame: pd.DataFrame, cols: LabelColumns = LabelColumns(), *, taxonomy: Taxonomy | None = None,
                   background: pd.DataFrame | None = None, model=None, cv: int = 5, min_confidence: float = 0.75,
                   random_state: int = 0) -> pd.DataFrame:
    """Labelled rows whose label the model, not having seen that row, confidently disagrees with.

    The idea of confident learning (cleanlab), done with the classifier's own out-of-fold probabilities:
    a group is suspect when another group is the most likely one among those above their per-class
    threshold (the mean probability the model gives texts labelled with that class) and has at least
    probability 0.5; a topic or is_general flag is suspect when its probability is on the other side of
    the decision threshold and at least `min_confidence` certain (0.5 = at the threshold, 1 = sure).
    A few hundred labels alone make a weak judge: pass `background`, trusted labelled rows with the
    same columns (e.g. a sample of the default corpus), to train on them too; only `frame` is checked.
    `model`, if given, must have been fitted with these rows last, in this order (its `oof_` is used);
    otherwise a model is fitted here with `cv` folds. One row per suspect text, most suspect first,
    with the given labels, the suggested ones, a score and a Russian `reason`.
    """
    from .classify import TextClassifier

    rows = labelled_rows(frame, cols)
    n = len(rows["texts"])
    if model is None:
        extra = labelled_rows(background, cols) if background is not None else \
            {k: [] for k in ("texts", "groups", "topics", "general")}
        model = TextClassifier(taxonomy=taxonomy, cv=cv, random_state=random_state)
        model.fit(extra["texts"] + rows["texts"], extra["groups"] + rows["groups"],
                  extra["topics"] + rows["topics"], extra["general"] + rows["general"])
    elif background is not None:
        raise InputError("pass either a fitted model or background rows to fit one on, not both")
    covered = len(getattr(model, "oof_", {}).get("general", []))
    if covered < n:
        raise ModelError(f"the model's out-of-fold predictions cover {covered} rows but the frame has {n}; "
                         "pass the model fitted on exactly these rows, or model=None to fit one here")
    tax = model.taxonomy_
    # the frame's rows come last (after any background) in the texts the model was fitted on
    oof = {key: value[-n:] for key, value in model.oof_.items()}
    P = oof["group"]
    y = np.array([model.groups_.index(g) for g in rows["groups"]])
    # confident learning: the threshold of class j is the mean probability of j among texts labelled j
    t = np.array([P[y == j, j].mean() if (y == j).any() else 1.0 for j in range(P.shape[1])])
    above = np.where(P >= t, P, -1.0)
    best = above.argmax(axis=1)
    group_bad = (above.max(axis=1) >= 0) & (best != y) & (P[np.arange(n), best] >= 0.5)
    group_score = np.where(group_bad, P[np.arange(n), best] - P[np.arange(n), y], 0.0)

    Y = np.array([[tp in r for tp in model.topics_] for r in rows["topics"]], dtype=bool)
    general = np.array(rows["general"], dtype=bool)
    cut = model.topic_thresholds_
    sure = 1 - _closeness(oof["topics"], cut)  # 0 at the threshold, 1 when sure
    need = 2 * (min_confidence - 0.5)
    extra = Y & (oof["topics"] < cut) & (sure >= need)
    missing = ~Y & (oof["topics"] >= cut) & (sure >= need) & ~general[:, None]  # a general text has no topics
    g_sure = 1 - _closeness(oof["general"], model.general_threshold_)
    g_pred = oof["general"] >= model.general_threshold_
    general_bad = (g_pred != general) & (g_sure >= need)
    topic_score = np.where(extra | missing, sure, 0.0).max(axis=1) if Y.shape[1] else np.zeros(n)
    score = np.maximum.reduce([group_score, topic_score, np.where(general_bad, g_sure, 0.0)])
    bad = group_bad | extra.any(axis=1) | missing.any(axis=1) | general_bad

    out = pd.DataFrame({
        "text": rows["texts"],
        "group": rows["groups"],
        "topics": [";".join(r) for r in rows["topics"]],
        "is_general": general,
        "suggested_group": [model.groups_[b] if g else "" for b, g in zip(best, group_bad)],
        "group_p": P[np.arange(n), y].round(3),
        "topics_extra": [";".join(tp for tp, on in zip(model.topics_, r) if on) for r in extra],
        "topics_missing": [";".join(tp for tp, on in zip(model.topics_, r) if on) for r in missing],
        "suggested_is_general": np.where(general_bad, g_pred, general),
        "score": score.round(3),
    }, index=frame.index)
    for col in ("row", "id"):
        if col in frame.columns and col not in out.columns:
            out.insert(0, col, frame[col].to_numpy())
    out["reason"] = [_suspect_reason(r, tax, P[i]) for i, r in enumerate(out.itertuples())]
    return out[bad].sort_values("score", ascending=False, kind="stable")


def _suspect_reason(r, tax: Taxonomy, p_groups: np.ndarray) -> str:
    parts = []
    if r.suggested_group:
        parts.append(f"группа «{tax.group_name(r.group)}», а модель уверена в «{tax.group_name(r.suggested_group)}»")
    for tp in split_topics(r.topics_extra):
        parts.append(f"тема «{tax.topic_name(tp)}» стоит, но по тексту её не видно")
    for tp in split_topics(r.topics_missing):
        parts.append(f"похоже на тему «{tax.topic_name(tp)}», а её нет")
    if r.suggested_is_general != r.is_general:
        parts.append("похоже на слишком общий комментарий" if r.suggested_is_general
                     else "отмечен как слишком общий, но называет процесс")
    return "проверьте разметку: " + "; ".join(parts)


# ---- themes no topic covers --------------------------------------------------------------------
def _terms(features: str) -> str:
    # placeholders ("<num>") and emoji words ("emo_angry") say nothing about a theme
    return " ".join(w for w in features.split() if not w.startswith(("<", "emo_")))


def _idf(model, terms, words: list[str]) -> np.ndarray:
    """Inverse document frequency of each term in the model's training texts, so words every comment
    uses ("опять", "уже", "очень") weigh little; a word the training texts never had ("кешбэк" before
    the analyst's topic) gets the highest weight. Falls back to the leftovers' own idf."""
    word = getattr(getattr(model, "features_", None), "word", None)
    vocab, idf = getattr(word, "vocabulary_", None), getattr(word, "idf_", None)
    if vocab is None or idf is None or not len(idf):
        df = np.array([sum(t in w.split() for w in words) for t in terms], dtype=float)
        return np.log((1 + len(words)) / (1 + df)) + 1
    top = float(np.max(idf))
    return np.array([idf[vocab[t]] if t in vocab else top for t in terms])


def leftover_clusters(model, texts: Iterable, n_clusters: int = 8, *, ids: Iterable | None = None,
                      top_terms: int = 6, min_size: int = 2, random_state: int = 0) -> pd.DataFrame:
    """Texts that name a process but fall in no topic, grouped into candidate new topics.

    Leftovers are texts the model calls not too general but whose topics all stay under their thresholds
    (with the topic fallback, those whose one topic is a guess). Their lemmas are
    weighted by TF-IDF (idf from the model's training texts) and clustered with k-means (seeded, so the same input gives the same clusters).
    Clusters are numbered from the largest (0); texts sharing no word with any other are cluster -1,
    as are clusters smaller than `min_size`. The index holds positions in `texts`; columns: id (with
    `ids`, one per text), text, cluster, cluster_size, cluster_terms (top lemmas), similarity (to the
    cluster centre), reason.
    """
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    texts = list(texts)
    ids = _checked_ids(ids, len(texts))
    columns = (["id"] if ids is not None else []) + ["text", "cluster", "cluster_size", "cluster_terms",
                                                      "similarity", "reason"]
    scores = model.predict_scores(texts)
    docs = scores["docs"]
    general = scores["general"] >= model.general_threshold_
    named = (scores["topics"] >= model.topic_thresholds_).any(axis=1)  # a guessed topic does not count
    left = np.flatnonzero(~general & ~named & _usable(docs))
    if len(left) < 2:
        return pd.DataFrame(columns=columns)
    words = [_terms(docs[i].features) for i in left]
    vec = TfidfVectorizer(token_pattern=r"\S+", lowercase=False, min_df=2 if len(left) >= 10 else 1,
                          sublinear_tf=True, use_idf=False, norm=None)
    try:
        X = vec.fit_transform(words)
    except ValueError:  # no word occurs twice: nothing to group
        return pd.DataFrame(columns=columns)
    # idf squared: in a few hundred comments "опять" and "очень" otherwise outweigh "ипотека" and "лимит"
    X = normalize(X.multiply(_idf(model, vec.get_feature_names_out(), words) ** 2).tocsr())
    has_terms = np.asarray(X.sum(axis=1)).ravel() > 0
    k = max(1, min(int(n_clusters), int(has_terms.sum()) // 2))
    labels = np.full(len(left), -1)
    similarity = np.zeros(len(left))
    terms = np.array(vec.get_feature_names_out())
    names: dict[int, str] = {}
    if has_terms.sum() >= 2:
        km = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(X[has_terms])
        centres = km.cluster_centers_
        sizes = np.bincount(km.labels_, minlength=k)
        rank = {old: new for new, old in enumerate(np.argsort(-sizes, kind="stable"))}
        labels[has_terms] = [rank[c] for c in km.labels_]
        norms = np.linalg.norm(centres, axis=1) + 1e-12
        sims = np.asarray(X[has_terms].multiply(centres[km.labels_]).sum(axis=1)).ravel() / norms[km.labels_]
        similarity[has_terms] = sims
        for old, new in rank.items():
            top = np.argsort(-centres[old])[:top_terms]
            names[new] = ", ".join(terms[i] for i in top if centres[old][i] > 0)
    sizes = pd.Series(labels).map(pd.Series(labels).value_counts())
    small = (sizes < min_size).to_numpy() | (labels < 0)
    labels[small] = -1
    out = pd.DataFrame({"text": [texts[i] for i in left], "cluster": labels,
                        "cluster_terms": [names.get(c, "") if c >= 0 else "" for c in labels],
                        "similarity": similarity.round(3)}, index=left)
    out.insert(2, "cluster_size", out.groupby("cluster")["text"].transform("size").to_numpy())
    out["reason"] = [f"кандидат в новую тему №{c}: {t}" if c >= 0 else "не попал ни в одну тему"
                     for c, t in zip(out["cluster"], out["cluster_terms"])]
    out["_last"] = out["cluster"] < 0
    out = out.sort_values(["_last", "cluster_size", "cluster", "similarity"],
                          ascending=[True, False, True, False], kind="stable")
    return _with_ids(out.drop(columns="_last"), ids)[columns]


def cluster_summary(clusters: pd.DataFrame, examples: int = 3) -> pd.DataFrame:
    """One row per candidate topic of `leftover_clusters`: size, top lemmas, the most typical texts."""
    found = clusters[clusters["cluster"] >= 0]
    rows = []
    for c, part in found.groupby("cluster", sort=True):
        best = part.sort_values("similarity", ascending=False).head(examples)
        rows.append({"cluster": int(c), "size": len(part), "terms": part["cluster_terms"].iloc[0],
                     "examples": " | ".join(best["text"].astype(str))})
    return pd.DataFrame(rows, columns=["cluster", "size", "terms", "examples"])


# ---- the file an analyst labels ------------------------------------------------------------------
_LABELS = ["group", "topics", "is_general", "is_repeat"]


def to_label_file(parts: pd.DataFrame | Sequence[pd.DataFrame], path: str | os.PathLike, *, model=None,
                  taxonomy: Taxonomy | None = None, text_col: str = "text") -> Path:
    """Write the texts of one or more finder frames to an .xlsx/.csv labelling file (see labels_io).

    A text found by several finders appears once, with their reasons joined. Labels a part carries (a
    part with group and topics columns: suspect_labels gives the analyst's own) are kept; the rest, e.g.
    uncertain's rows, whose `group` is only the model's guess, are prefilled from `model`'s predictions,
    so the analyst corrects rather than types. «ID» holds each part's `id` (see `ids=` of the finders),
    or 'строка N' for a suspect row of a labelled file without ids. Texts are written with their personal
    data masked. Read the file back with `labels_io.read_labels`.
    """
    from .batch import masked_value
    from .labels_io import write_labels

    parts = [parts] if isinstance(parts, pd.DataFrame) else list(parts)
    if not parts:
        raise InputError("nothing to write: pass the frames of uncertain/suspect_labels/leftover_clusters")
    frame = pd.concat([_file_rows(p, text_col) for p in parts], ignore_index=True)
    frame["text"] = [masked_value(t) for t in frame["text"]]  # before merging: the file holds masked texts
    # per text, the first id and labels any part gives (a part without labels has none, not empty ones)
    how = dict.fromkeys(["id", *_LABELS], "first") | {"reason": _joined}
    frame = frame.groupby("text", sort=False).agg(how).reset_index()
    if model is not None:
        pred = model.predict(frame["text"].tolist())
        given = frame["group"].notna() & frame["group"].ne("")
        for col in _LABELS:
            frame[col] = frame[col].where(given, pred[col].to_numpy())
        frame["confidence"] = pred["confidence"].to_numpy()
        taxonomy = taxonomy or model.taxonomy_
    return write_labels(frame, path, taxonomy=taxonomy, id_col="id" if frame["id"].notna().any() else None)


def _file_rows(part: pd.DataFrame, text_col: str) -> pd.DataFrame:
    """A finder frame as rows of the labelling file: text, id, reason, and the labels if it carries any."""
    if text_col not in part.columns:
        raise InputError(f"a part has no '{text_col}' column (columns: {', '.join(map(str, part.columns))}); "
                         "pass text_col=")
    out = pd.DataFrame({"text": part[text_col].to_numpy(), "id": _source_ids(part),
                        "reason": part["reason"].fillna("").astype(str).to_numpy() if "reason" in part else ""})
    if {"group", "topics"} <= set(part.columns):  # uncertain's lone `group` is a guess, not a label
        for col in _LABELS:
            if col in part.columns:
                out[col] = part[col].to_numpy()
    return out.reindex(columns=["text", "id", "reason", *_LABELS])


def _source_ids(part: pd.DataFrame) -> list:
    """Where each row comes from: the part's `id`, else its row in the labelled file suspect_labels read."""
    if "id" in part.columns:
        return part["id"].tolist()
    if "row" in part.columns:
        return [f"строка {r}" for r in part["row"]]
    return [None] * len(part)


def _joined(reasons: pd.Series) -> str:
    return " | ".join(dict.fromkeys(r for r in reasons if r))


# ---- is the new model better? -------------------------------------------------------------------
_SUMMARY = (("group_accuracy", "Группа: accuracy"), ("group_macro_f1", "Группа: macro-F1"),
            ("topic_micro_f1", "Темы: micro-F1"), ("topic_macro_f1", "Темы: macro-F1"),
            ("general_f1", "Слишком общий: F1"))


def compare_models(models: Mapping[str, object], frame: pd.DataFrame, cols: LabelColumns = LabelColumns(),
                   *, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Headline metrics and per-topic F1 of several models on the same labelled frame, side by side.

    Topics are those of `taxonomy` (default: all topics of the models, in order); a model that does not
    know a topic scores 0 on it. Measure on texts none of the models was trained on. With two models a
    'разница' column holds second minus first. `attrs['metrics']` keeps the full metrics per model.
    """
    if not models:
        raise InputError("compare_models needs at least one model: {'name': model}")
    rows = labelled_rows(frame, cols)
    topic_ids = list(taxonomy.topic_ids) if taxonomy is not None else \
        list(dict.fromkeys(t for m in models.values() for t in m.topics_))
    names = taxonomy or max(models.values(), key=lambda m: len(m.topics_)).taxonomy_
    metrics = {}
    for name, model in models.items():
        pred = model.predict(rows["texts"])
        metrics[name] = score_labels(pred, rows["groups"], rows["topics"], rows["general"], topic_ids)
    table = [{"metric": key, "Показатель": label, **{n: m[key] for n, m in metrics.items()},
              "n": len(rows["texts"])} for key, label in _SUMMARY]
    first = next(iter(metrics.values()))
    for t in topic_ids:
        table.append({"metric": f"f1:{t}", "Показатель": f"F1: {names.topic_name(t)}",
                      **{n: m["per_topic"][t]["f1"] for n, m in metrics.items()},
                      "n": first["per_topic"][t]["support"]})
    out = pd.DataFrame(table).set_index("metric")
    if len(models) == 2:
        a, b = list(models)
        out["разница"] = (out[b] - out[a]).round(3)
    out.attrs["metrics"] = metrics
    return out
