"""Why a text got its labels: the words whose removal lowers the score of its group and of each of its
topics most, so an analyst reading a row sees what the model went by («Дозвон: оператора, ждал»)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

import numpy as np

from .errors import many
from .mask import mask_text, name_kinds
from .preprocess import prepare

if TYPE_CHECKING:
    from .classify import TextClassifier

MAX_WORDS = 300  # distinct words tried per text: a long call costs at most this many extra predictions
MIN_WEIGHT = 0.5  # a word that moves a label's log-odds less is not named ("и", "в")
_CHARS_PER_CALL = 4_000_000  # variants scored at once, in characters: memory stays in the hundreds of MB
# a word, hyphenated words whole ("интернет-банк"), and a negation with its word ("не работает"), as the
# model reads them; placeholders of masked data (<PHONE>), words holding digits and names are never named
_WORD = re.compile(r"(?<![\w<>'-])(?:(?:не|ни)\s+)?[^\W\d_]+(?:[-'][^\W\d_]+)*(?![\w<>'-])", re.IGNORECASE)
_EPS = 1e-6
NONE_FOUND = "—"  # a label no single word carries (it rests on many, or on the text's length)


def explain(model: TextClassifier, texts: Iterable, top: int = 3, labels: dict | None = None) -> list[dict]:
    """Per text, the words that carry its labels, as `model.predict` gives them:
    {"group": group_id, "group_words": [(word, weight), ...], "topics": {topic_id: [(word, weight), ...]}},
    strongest first, at most `top` each. A weight is how much the label's log-odds fall when the word is
    taken out of what the model reads: the customer's words (a transcript's own turns), cut as the model
    cuts them, with cards, phones, e-mails, passports and full names masked; a word holding a
    digit is never named. `labels`: the text's `predict_columns`, when already computed.
    Texts that could not be processed, or are too general, have no topics; an empty text has nothing."""
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    many(texts)
    texts = list(texts)
    labels = labels if labels is not None else model.predict_columns(texts)
    explained = [{"group": g, "group_words": [], "topics": {t: [] for t in filter(None, ts.split(";"))}}
                 for g, ts in zip(labels["group"], labels["topics"])]
    jobs = [(row, *_variants(text)) for row, text in enumerate(texts) if labels["group"][row]]
    for part in _calls(jobs):
        scores = model.predict_scores([v for _, _, variants in part for v in variants])
        at = 0
        for row, words, variants in part:
            block = slice(at, at + len(variants))
            at += len(variants)
            item = explained[row]
            group = _log_odds(scores["group"][block, model.groups_.index(item["group"])])
            item["group_words"] = _strongest(words, group, top)
            for topic in item["topics"]:
                p = scores["topics"][block, model.topics_.index(topic)]
                item["topics"][topic] = _strongest(words, _log_odds(p), top)
    return explained


def evidence(model: TextClassifier, texts: Iterable, top: int = 3, labels: dict | None = None) -> list[str]:
    """`explain` as one readable cell per text: «Жалоба: нахамил; Вежливость и отношение персонала: нахамил».
    Every label of the row is named; one that no single word carries reads «—»."""
    tax = model.taxonomy_
    cells = []
    for item in explain(model, texts, top, labels):
        if not item["group"]:
            cells.append("")
            continue
        named = [(tax.group_name(item["group"]), item["group_words"])]
        named += [(tax.topic_name(t), words) for t, words in item["topics"].items()]
        cells.append("; ".join(f"{name}: {', '.join(w for w, _ in words) or NONE_FOUND}" for name, words in named))
    return cells


def _variants(value) -> tuple[list[str], list[str]]:
    """(the distinct words of what the model reads of a value, that text followed by one copy of it without
    each word). The words are the lower-case forms of whole tokens, at most MAX_WORDS."""
    text = mask_text(prepare(value).masked)
    spans: dict[str, list[tuple[int, int]]] = {}
    for match in _WORD.finditer(text):
        last = match.group().split()[-1]
        if last[0].isupper() and name_kinds(last) & {"Name", "Surn"}:
            continue  # "спасибо Дарье": a lone first name is not masked, and is not named as evidence either
        word = " ".join(match.group().lower().split())
        if word in spans or len(spans) < MAX_WORDS:
            spans.setdefault(word, []).append(match.span())
    return list(spans), [text] + [_cut(text, places) for places in spans.values()]


def _cut(text: str, places: list[tuple[int, int]]) -> str:
    """The text with these spans replaced by a space each."""
    pieces, last = [], 0
    for start, end in places:
        pieces += [text[last:start], " "]
        last = end
    return "".join(pieces) + text[last:]


def _calls(jobs: list) -> Iterable[list]:
    """Jobs grouped so that each scoring call holds about _CHARS_PER_CALL characters of variants."""
    part, size = [], 0
    for job in jobs:
        part.append(job)
        size += len(job[2][0]) * len(job[2])
        if size >= _CHARS_PER_CALL:
            yield part
            part, size = [], 0
    if part:
        yield part


def _strongest(words: list[str], log_odds: np.ndarray, top: int) -> list[tuple[str, float]]:
    """Words whose removal lowers the label's log-odds by MIN_WEIGHT or more (row 0: the whole text),
    strongest first; else the one that lowers it most, if any does."""
    drop = log_odds[0] - log_odds[1:]
    order = np.argsort(-drop, kind="stable")
    strong = [i for i in order[:top] if drop[i] >= MIN_WEIGHT] or [i for i in order[:1] if drop[i] > 0]
    return [(words[i], round(float(drop[i]), 2)) for i in strong]


def _log_odds(p: np.ndarray) -> np.ndarray:
    return np.log(p + _EPS) - np.log(1 - p + _EPS)
