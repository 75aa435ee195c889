"""The classifier: one contact group, process topics, is_general, is_repeat and a confidence per text."""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from .errors import InputError
from .features import TextFeatures, word_counts
from .preprocess import NO_CUSTOMER, PROCESSED, Prepared, prepare_distinct, prepare_many
from .repeats import RepeatHistory, says_repeat_many
from .taxonomy import Taxonomy, load_taxonomy

LABEL_COLUMNS = ["group", "group_name", "topics", "topic_names", "is_general", "is_repeat",
                 "confidence", "needs_review", "status"]
_WORD = re.compile(r"[^\W\d_]{2,}")  # two letters in a row, any alphabet ("ок", "emo_like" for an emoji)
_PLACEHOLDER = re.compile(r"<\w+>")  # <num>, <card>, <url>... put in by preprocessing
_SCORE = re.compile(r"\s*(10|\d)\s*((/|из)\s*(10|5))?\s*[.!+)]*\s*")  # "5", "10/10", "9 из 10": a score as a comment


def _unreadable(doc: Prepared) -> bool:
    """A text with no word and no score in it ("x", "12345", "+"): labelled, but only a reader can say what it is."""
    return not _WORD.search(_PLACEHOLDER.sub(" ", doc.text)) and not _SCORE.fullmatch(doc.masked)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _linear(X, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    return np.asarray(X @ coef.T) + intercept


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability cut that maximises F1 on out-of-fold predictions (kept in a sane range)."""
    best, best_f1 = 0.5, -1.0
    for cut in np.arange(0.15, 0.71, 0.025):
        pred = p >= cut
        tp = float((pred & y).sum())
        f1 = 2 * tp / (pred.sum() + y.sum() + 1e-9)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(cut), f1
    return best


def _topics_on(topic_p: np.ndarray, thresholds: np.ndarray, general: np.ndarray, fallback: bool) -> np.ndarray:
    """Topics over their thresholds, none for a too-general text and, with `fallback`, the likeliest one
    for a specific text that clears none: a text that is not too general names some process."""
    on = (topic_p >= thresholds) & ~general[:, None]
    if fallback:
        bare = np.flatnonzero(~general & ~on.any(axis=1))
        on[bare, (topic_p[bare] / thresholds).argmax(axis=1)] = True
    return on


def _micro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    return 2 * float((truth & predicted).sum()) / max(float(truth.sum() + predicted.sum()), 1.0)


def _binary_heads(X, targets: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
    """One balanced logistic regression per column of a boolean target matrix; a column with a
    single class (a label nobody used) gets a head that always says no."""
    coef = np.zeros((targets.shape[1], X.shape[1]), dtype=np.float32)
    intercept = np.full(targets.shape[1], -30.0)
    for j in range(targets.shape[1]):
        if targets[:, j].any() and not targets[:, j].all():
            head = LogisticRegression(C=C, solver="liblinear", class_weight="balanced")
            head.fit(X, targets[:, j])
            coef[j], intercept[j] = head.coef_[0], head.intercept_[0]
    return coef, intercept


def _general_inputs(p_general: np.ndarray, topic_p: np.ndarray, thresholds: np.ndarray, docs,
                    group_p: np.ndarray) -> np.ndarray:
    """Stacked inputs for is_general: the text head, 'does the text name any process at all',
    and the group (a question or a request is rarely too general to act on)."""
    ratio = topic_p / thresholds
    n_words = word_counts(docs)
    return np.column_stack([group_p,
        np.log(np.clip(p_general, 1e-6, 1)) - np.log(np.clip(1 - p_general, 1e-6, 1)),
        np.log(np.clip(ratio.max(axis=1), 1e-3, None)),
        (ratio >= 1).sum(axis=1),
        np.log1p(n_words),
    ])


def _certainty(p: np.ndarray, cut) -> np.ndarray:
    """0.5 at the decision threshold, 1.0 at a sure yes or a sure no."""
    cut = np.asarray(cut, dtype=float)
    above = 0.5 + 0.5 * (p - cut) / np.maximum(1 - cut, 1e-9)
    below = 0.5 + 0.5 * (cut - p) / np.maximum(cut, 1e-9)
    return np.where(p >= cut, above, below)


class TextClassifier(BaseEstimator):
    """Lemma and character n-grams with linear heads: a calibrated group, topics with tuned thresholds,
    and an is_general detector stacked on 'names no process'. Learned state is plain arrays."""

    def __init__(self, taxonomy: Taxonomy | None = None, C_group: float = 4.0, C_topic: float = 4.0,
                 C_general: float = 8.0, review_threshold: float = 0.55,
                 cv: int = 5, random_state: int = 0):
        self.taxonomy = taxonomy
        self.C_group = C_group
        self.C_topic = C_topic
        self.C_general = C_general
        self.review_threshold = review_threshold
        self.cv = cv
        self.random_state = random_state

    # ---- fitting -------------------------------------------------------------------------
    def fit(self, texts: Iterable, groups: Sequence[str], topics: Sequence[Sequence[str]],
            is_general: Sequence[bool]) -> "TextClassifier":
        """Fit on raw texts and their labels (group ids, lists of topic ids, general flags)."""
        self.taxonomy_ = self.taxonomy if self.taxonomy is not None else load_taxonomy()
        texts = list(texts)
        groups, topics = list(groups), [list(t) for t in topics]
        self.taxonomy_.check_labels(groups, topics)
        docs = prepare_many(texts)
        self.features_ = TextFeatures.fit(docs)
        X = self.features_.transform(docs)
        self.groups_ = [g for g in self.taxonomy_.group_ids if g in set(groups)]
        self.topics_ = list(self.taxonomy_.topic_ids)
        y_group = np.array([self.groups_.index(g) for g in groups])
        Y = np.array([[t in row for t in self.topics_] for row in topics], dtype=bool)
        y_gen = np.asarray(is_general, dtype=bool)

        oof_group = np.zeros((len(texts), len(self.groups_)))
        oof_topic = np.zeros(Y.shape)
        oof_gen = np.zeros(len(texts))
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(X, y_group):
            heads = self._fit_heads(X[train], y_group[train], Y[train], y_gen[train])
            oof_group[test] = _linear(X[test], *heads["group"])
            oof_topic[test] = _sigmoid(_linear(X[test], *heads["topic"]))
            oof_gen[test] = _sigmoid(_linear(X[test], *heads["general"]))[:, 0]

        heads = self._fit_heads(X, y_group, Y, y_gen)
        self.group_coef_, self.group_intercept_ = heads["group"]
        self.topic_coef_, self.topic_intercept_ = heads["topic"]
        self.general_coef_, self.general_intercept_ = heads["general"]
        self.temperature_ = self._fit_temperature(oof_group, y_group)
        self.topic_thresholds_ = np.array([_best_threshold(Y[:, j], oof_topic[:, j])
                                           for j in range(len(self.topics_))])
        oof_group_p = _softmax(oof_group / self.temperature_)
        stacked = _general_inputs(oof_gen, oof_topic, self.topic_thresholds_, docs, oof_group_p)
        if y_gen.any() and not y_gen.all():
            stack = LogisticRegression(C=1.0, max_iter=1000).fit(stacked, y_gen)
            self.stack_coef_, self.stack_intercept_ = stack.coef_.astype(np.float64), stack.intercept_
        else:  # labels with no too-general text at all (or only such texts): the flag is constant
            self.stack_coef_ = np.zeros((1, stacked.shape[1]))
            self.stack_intercept_ = np.array([30.0 if y_gen.all() else -30.0])
        p_stack = _sigmoid(_linear(stacked, self.stack_coef_, self.stack_intercept_))[:, 0]
        self.general_threshold_ = _best_threshold(y_gen, p_stack)
        oof_general = p_stack >= self.general_threshold_
        self.topic_fallback_ = bool(_micro_f1(Y, _topics_on(oof_topic, self.topic_thresholds_, oof_general, True))
                                    > _micro_f1(Y, _topics_on(oof_topic, self.topic_thresholds_, oof_general, False)))
        self.oof_ = {"group": oof_group_p, "topics": oof_topic,
                     "general": p_stack}
        return self

    def _fit_heads(self, X, y_group, Y, y_gen) -> dict:
        # one-vs-rest heads for the group too: as accurate here as a multinomial fit and ~10x faster;
        # their logits go through one softmax whose temperature is fitted on out-of-fold predictions
        one_hot = y_group[:, None] == np.arange(len(self.groups_))[None, :]
        return {"group": _binary_heads(X, one_hot, self.C_group),
                "topic": _binary_heads(X, Y, self.C_topic),
                "general": _binary_heads(X, y_gen[:, None], self.C_general)}

    @staticmethod
    def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
        def nll(t: float) -> float:
            p = _softmax(logits / t)
            return -float(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1)).mean())
        return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)

    # ---- prediction ----------------------------------------------------------------------
    def predict_scores(self, texts: Iterable) -> dict:
        """Probabilities per head: 'group' (n x groups), 'topics' (n x topics), 'general' (n), and the
        prepared 'docs'."""
        unique, inverse, scores = self._distinct_scores(texts)
        return {**{head: p[inverse] for head, p in scores.items()}, "docs": [unique[k] for k in inverse]}

    def _distinct_scores(self, texts: Iterable) -> tuple[list[Prepared], np.ndarray, dict]:
        """(the distinct prepared texts, the index of each input's, the heads' probabilities per
        distinct text): a repeated text is scored once."""
        check_is_fitted(self, "features_")
        unique, inverse = prepare_distinct(texts)
        logits = self.features_.dot(unique, self._stacked_coef()) + self._stacked_intercept()
        n_g, n_t = len(self.groups_), len(self.topics_)
        group = _softmax(logits[:, :n_g] / self.temperature_)
        topic = _sigmoid(logits[:, n_g:n_g + n_t])
        p_text = _sigmoid(logits[:, n_g + n_t])
        general = _sigmoid(_linear(_general_inputs(p_text, topic, self.topic_thresholds_, unique, group),
                                   self.stack_coef_, self.stack_intercept_))[:, 0]
        return unique, np.asarray(inverse, dtype=np.intp), {"group": group, "topics": topic, "general": general}

    def _stacked_coef(self) -> np.ndarray:
        """All heads' weights as one contiguous (features x outputs) matrix: one sparse product per
        batch instead of three, and no transposed copy on every call."""
        cached = getattr(self, "_coef_t", None)
        if cached is None or cached[0] is not self.group_coef_:
            stacked = np.vstack([self.group_coef_, self.topic_coef_, self.general_coef_]).astype(np.float32)
            cached = (self.group_coef_, np.ascontiguousarray(stacked.T))
            self._coef_t = cached
        return cached[1]

    def _stacked_intercept(self) -> np.ndarray:
        return np.concatenate([self.group_intercept_, self.topic_intercept_, self.general_intercept_])

    def topics_on(self, topic_p: np.ndarray, general: np.ndarray) -> np.ndarray:
        """Which topics each text names, from the topic heads' probabilities and the is_general flags."""
        return _topics_on(topic_p, self.topic_thresholds_, general, self.topic_fallback_)

    def _topic_lists(self, on: np.ndarray) -> list[list[str]]:
        """Topic ids per row of a boolean matrix; rows with the same topics share one list."""
        codes = on.astype(np.int64) @ (1 << np.arange(on.shape[1], dtype=np.int64))
        lists = {int(c): [t for j, t in enumerate(self.topics_) if int(c) >> j & 1] for c in np.unique(codes)}
        return [lists[c] for c in codes.tolist()]

    def new_history(self) -> RepeatHistory:
        """An empty contact history, for repeats found across calls or file chunks."""
        return RepeatHistory(window_days=self.taxonomy_.repeat_window_days)

    def predict(self, texts: Iterable, customer_ids: Sequence | None = None,
                times: Sequence | None = None, history: RepeatHistory | None = None) -> pd.DataFrame:
        """One row of LABEL_COLUMNS per input text, in order; bad inputs get a status, never an error.
        A pandas Series keeps its index, so the labels join back to the frame it came from."""
        columns = self.predict_columns(texts, customer_ids, times, history)
        index = texts.index if isinstance(texts, pd.Series) else pd.RangeIndex(len(columns["status"]))
        return pd.DataFrame(columns, index=index)

    def predict_columns(self, texts: Iterable, customer_ids: Sequence | None = None,
                        times: Sequence | None = None, history: RepeatHistory | None = None) -> dict[str, list]:
        """`predict` as plain lists per column: for a service answering one ticket at a time, building a
        DataFrame costs more than classifying the text."""
        if (customer_ids is None) != (times is None):
            raise InputError("repeats from history need both customer_ids and times (or neither)")
        unique, inverse, scores = self._distinct_scores(texts)
        processed = np.array([d.status in PROCESSED and bool(d.features or d.text) for d in unique], dtype=bool)
        g_idx = scores["group"].argmax(axis=1)
        g_conf = scores["group"].max(axis=1)
        general = scores["general"] >= self.general_threshold_
        topic_on = self.topics_on(scores["topics"], general)
        t_cert = _certainty(scores["topics"], self.topic_thresholds_).min(axis=1)
        guessed = topic_on.any(axis=1) & ~(scores["topics"] >= self.topic_thresholds_).any(axis=1)
        t_cert[guessed] = np.minimum(t_cert[guessed], 0.5)  # a topic under its threshold is a guess: reviewed
        gen_cert = _certainty(scores["general"], self.general_threshold_)
        confidence = np.minimum(np.minimum(g_conf, t_cert), gen_cert)
        topic_lists = self._topic_lists(topic_on & processed[:, None])
        repeat = (np.array(says_repeat_many([d.masked for d in unique]), dtype=bool) & processed).tolist()
        # a text opening with two letters has a word: the regular expressions run only for the rest
        unreadable = np.array([not (len(d.text) > 1 and d.text[:2].isalpha()) and _unreadable(d) for d in unique],
                              dtype=bool)
        unsure_speaker = np.array([d.status == NO_CUSTOMER for d in unique], dtype=bool)  # whose words: a reader says

        # everything above is per distinct text; each input row takes its text's values
        rows = inverse.tolist()
        expand = lambda values: [values[k] for k in rows]  # noqa: E731
        tax = self.taxonomy_
        groups = [self.groups_[i] if ok else "" for i, ok in zip(g_idx.tolist(), processed.tolist())]
        names = {g: tax.group_name(g) if g else "" for g in set(groups)}
        joined = {key: (";".join(ts), "; ".join(tax.topic_name(t) for t in ts))
                  for key, ts in {id(ts): ts for ts in topic_lists}.items()}  # texts share their topic lists
        repeat = expand(repeat)
        if customer_ids is not None and times is not None:
            customer_ids, times = list(customer_ids), list(times)
            if not len(customer_ids) == len(times) == len(rows):
                raise InputError(f"{len(rows)} texts, {len(customer_ids)} customer ids and {len(times)} times: "
                                 "give one customer id and one time per text")
            history = history if history is not None else self.new_history()
            from_history = history.mark(customer_ids, times, expand(topic_lists))
            repeat = [a or b for a, b in zip(repeat, from_history)]
        return {
            "group": expand(groups),
            "group_name": expand([names[g] for g in groups]),
            "topics": expand([joined[id(ts)][0] for ts in topic_lists]),
            "topic_names": expand([joined[id(ts)][1] for ts in topic_lists]),
            "is_general": (general & processed)[inverse].tolist(),
            "is_repeat": repeat,
            "confidence": np.where(processed, np.round(confidence, 4), 0.0)[inverse].tolist(),
            "needs_review": (processed & ((confidence < self.review_threshold) | guessed | unreadable
                                          | unsure_speaker))[inverse].tolist(),
            "status": expand([d.status if ok or d.status not in PROCESSED else "empty text"
                              for d, ok in zip(unique, processed.tolist())]),
        }


def load_model(path=None) -> TextClassifier:
    """Load a saved model directory; None gives the default model that ships with cxtext."""
    from .persist import load

    return load(path)
