"""Why a text got its labels: the words whose removal lowers the score of its group and of each of its
topics most, so an analyst reading a row sees what the model went by ("Дозвон: оператора, ждал")."""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np

from .mask import mask_text

MAX_WORDS = 300  # distinct words tried per text: a long call costs at most this many extra predictions
_BATCH = 20_000  # texts (with their variants) scored per call
_WORD = re.compile(r"<[A-Z]+>|[^\W_]+(?:[-'][^\W_]+)*")
_SPEAKER = re.compile(r"(?m)(?:^|\]\s*|\d\d:\d\d\s+)([^\W\d_]+)(?:\s+[^\W_]+)?\s*:")
_EPS = 1e-6
MIN_WEIGHT = 0.5  # a word that moves the log-odds less is not shown ("и", "в")


def explain(model, texts: Iterable, top: int = 3) -> list[dict]:
    """Per text, the words that carry its labels, as `model.predict` gives them:
    {"group": group_id, "group_words": [(word, weight), ...], "topics": {topic_id: [(word, weight), ...]}},
    strongest first, at most `top` each. A weight is how much the label's log-odds fall when every occurrence of the word is taken
    out (the words are found in the masked text, so no personal data shows). A text that could not be
    processed, or that is too general, has no topics; an empty text has nothing."""
    texts = list(texts)
    labels = model.predict_columns(texts)
    explained: list[dict] = [{"group": group, "group_words": [], "topics": {}} for group in labels["group"]]
    jobs = []  # (row, masked text, its words' surface forms, the variants without each word)
    for row, (text, group) in enumerate(zip(texts, labels["group"])):
        if not group or not isinstance(text, str):
            continue
        masked = mask_text(text)
        forms = _distinct_words(masked)
        jobs.append((row, forms, [masked] + [_without(masked, form) for form in forms]))
    for start in range(0, len(jobs), max(1, _BATCH // (MAX_WORDS + 1))):
        part = jobs[start:start + max(1, _BATCH // (MAX_WORDS + 1))]
        scores = model.predict_scores([v for _, _, variants in part for v in variants])
        at = 0
        for row, forms, variants in part:
            block = slice(at, at + len(variants))
            at += len(variants)
            group_p, topic_p = scores["group"][block], scores["topics"][block]
            g = model.groups_.index(labels["group"][row])
            explained[row]["group_words"] = _strongest(forms, _log_odds(group_p[:, g]), top)
            for topic in filter(None, labels["topics"][row].split(";")):
                explained[row]["topics"][topic] = _strongest(forms, _log_odds(topic_p[:, model.topics_.index(topic)]),
                                                             top)
    return explained


def evidence(model, texts: Iterable, top: int = 3) -> list[str]:
    """`explain` as one readable cell per text: "Жалоба: нахамил; Вежливость и отношение персонала: нахамил"."""
    tax = model.taxonomy_
    cells = []
    for item in explain(model, texts, top):
        parts = []
        if item["group_words"]:
            parts.append(f"{tax.group_name(item['group'])}: {', '.join(w for w, _ in item['group_words'])}")
        parts += [f"{tax.topic_name(t)}: {', '.join(w for w, _ in words)}" for t, words in item["topics"].items()
                  if words]
        cells.append("; ".join(parts))
    return cells


def _distinct_words(text: str) -> list[str]:
    """The text's words, each once (case aside), in order of first appearance, at most MAX_WORDS; speaker
    labels of a transcript ("Клиент:", "Оператор 2:") are not words of what was said."""
    seen: dict[str, str] = {}
    labels = {m.lower() for m in _SPEAKER.findall(text)}
    for match in _WORD.finditer(text):
        if match.group().lower() in labels:
            continue
        seen.setdefault(match.group().lower(), match.group())
        if len(seen) >= MAX_WORDS:
            break
    return list(seen.values())


def _without(text: str, form: str) -> str:
    """The text with every occurrence of a word (any case) taken out."""
    return re.sub(rf"(?<![\w<]){re.escape(form)}(?![\w>])", " ", text, flags=re.IGNORECASE)


def _strongest(forms: list[str], log_odds: np.ndarray, top: int) -> list[tuple[str, float]]:
    """Words whose removal lowers the label's log-odds (row 0 is the whole text), strongest first."""
    drop = log_odds[0] - log_odds[1:]
    order = np.argsort(-drop, kind="stable")[:top]
    return [(forms[i], round(float(drop[i]), 2)) for i in order if drop[i] >= MIN_WEIGHT]


def _log_odds(p: np.ndarray) -> np.ndarray:
    return np.log(p + _EPS) - np.log(1 - p + _EPS)
