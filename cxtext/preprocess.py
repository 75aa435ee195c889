"""Raw feedback -> model features: the composition of transcript, mask, normalize and lemmatize.

    >>> preprocess("Клиент: ни разу не дозвонился, нет связи!!! 😡")
    'ни_раз не_дозвониться нет_связь emo_angry'

`preprocess` is for code that holds a str; `prepare` takes whatever a data frame cell holds and never
raises; `TextPreprocessor` is the same as a stateless scikit-learn step.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib.resources import files
from typing import Any, Collection, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from cxtext.errors import InputError, many
from cxtext.lemmatize import lemma
from cxtext.mask import mask_text
from cxtext.normalize import normalize, normalize_plain
from cxtext.transcript import split_customer

# Longer texts are cut before any heavy step, so a 5 MB cell costs as much as a 20 000 character
# one. Real comments are far shorter; call transcripts are a few thousand characters.
MAX_CHARS = 20_000
# A JSON transcript is parsed whole (at C speed) up to this size, then its customer text is cut.
_JSON_CHARS = 2_000_000
# A text transcript is split into turns up to this size (a long call runs to 20-30 000 characters, most
# of them the agent's), then its customer text is cut.
_TURNS_CHARS = 200_000

OK, EMPTY, NOT_TEXT, TRUNCATED = "ok", "empty text", "not text", "truncated"
NO_CUSTOMER = "no customer turn"  # speaker turns, none of them the customer's: the whole text is labelled
PROCESSED = (OK, TRUNCATED, NO_CUSTOMER)  # statuses of a text that was labelled

# A negation joins the next content word: "не работает" -> "не_работать", "нет связи" -> "нет_связь".
NEGATIONS = frozenset({"не", "ни", "нет", "без"})
# Placeholders and emoji words pass through; punctuation only ends a negation's reach.
# After normalisation \w is letters and "_" (digits became <num>).
_TOKEN = re.compile(r"<\w+>|\w+(?:-\w+)*|[.,!?;:]")
_BOUNDARIES = frozenset(".,!?;:")
_JSON_START = re.compile(r"\s*[\[{]")
# Control characters that never occur in typed text; a text full of them is binary junk.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
# What a simple text (see _simple_steps) may not contain.
_NOT_SIMPLE = re.compile(r"[^а-яёА-ЯЁ \t\n\r.,!?-]")
_NUMBER_TAIL = "0123456789 \t\r\n\u00a0()+-"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")  # a line break ends a sentence too
_REPEAT_CHARS = 120  # shorter texts are not checked for repeated sentences
# What exports and survey tools write in an empty cell ("NaN" from pandas, "#N/A" from Excel, "-" in a form)
EMPTY_MARKS = frozenset({"nan", "null", "none", "na", "n/a", "#n/a", "#н/д", "н/д", "-", "--", "—", "–", "."})


@dataclass(frozen=True)
class Prepared:
    """One raw value made ready for a model.

    features: lemmas with negation kept, stop words dropped (what `preprocess` returns);
    text: the masked, normalised, lower-case customer text (for character n-grams);
    masked: the customer text with its original case, cards, phones, e-mails and other numbers masked
        (names, birth dates and flats are masked where text is written out: `cxtext.mask_text`);
    status: "ok", "empty text", "not text", "truncated" (over MAX_CHARS, cut and still processed) or
    "no customer turn" (a transcript none of whose turns is the customer's: the whole text, processed).
    """

    features: str
    text: str
    masked: str
    status: str


_NOTHING = Prepared("", "", "", NOT_TEXT)
_EMPTY = Prepared("", "", "", EMPTY)


@lru_cache(maxsize=1)
def default_stop_words() -> frozenset[str]:
    """The package's stop words (cxtext/data/stopwords_ru.txt), loaded on first use."""
    lines = files("cxtext").joinpath("data/stopwords_ru.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def tokenize(text: str) -> list[str]:
    """Words, placeholders, emoji words and sentence punctuation of a normalised text."""
    return _TOKEN.findall(text)


# Per stop-word list, token -> its feature word: the lemma, "" for a stop word, the token itself for
# punctuation, negations and placeholders. A hit (~90% of words in real feedback) skips every check.
_CACHES: dict[frozenset[str], dict[str, str]] = {}
_CACHE_WORDS = 2_000_000  # ~200 MB at worst; real feedback has far fewer distinct words
_SPECIAL = _BOUNDARIES | NEGATIONS


def clear_cache() -> None:
    """Forget cached feature words (after `cxtext.lemmatize.set_analyzer`, say)."""
    _CACHES.clear()


def _cache(stop: frozenset[str]) -> dict[str, str]:
    cache = _CACHES.get(stop)
    if cache is None or len(cache) > _CACHE_WORDS:
        if len(_CACHES) > 8:  # a caller trying many stop-word lists
            _CACHES.clear()
        cache = _CACHES[stop] = {}
    return cache


def _word(token: str, stop: frozenset[str]) -> str:
    if token in _SPECIAL or token[0] == "<" or token.startswith("emo_"):
        return token
    if token in stop:
        return ""
    try:
        word = lemma(token)
    except ValueError:  # pymorphy3 fails on letters without a Unicode name ("𗀀", Tangut)
        return token
    return "" if word in stop else word


def features(text: str, stop_words: Collection[str] | None = None) -> str:
    """Space-separated lemmas of a normalised text: stop words dropped, negations joined."""
    return _features(text, _stop(stop_words))


def _features(text: str, stop: frozenset[str]) -> str:
    """`features` with the stop words already a frozenset."""
    return _feature_words(_TOKEN.findall(text), stop)


def _feature_words(tokens: list[str], stop: frozenset[str]) -> str:
    """The feature string of a text's tokens: one cache look-up per token, at C speed when all hit."""
    cache = _cache(stop)
    words = list(map(cache.get, tokens))
    if None in words:  # words seen for the first time
        words = [_new_word(t, cache, stop) if w is None else w for t, w in zip(tokens, words)]
    if NEGATIONS.isdisjoint(words):  # nothing to join: drop stop words and punctuation
        return " ".join([word for word in words if word and word not in _BOUNDARIES])
    return _join_negations(words)


def _new_word(token: str, cache: dict[str, str], stop: frozenset[str]) -> str:
    """The feature word of a token missing from the cache, now cached."""
    word = cache.get(token)  # a new word may occur twice in a text
    if word is None:
        word = cache[token] = _word(token, stop)
    return word


def _join_negations(words: list[str]) -> str:
    """Feature words with each negation joined to the content word after it ("не_работать")."""
    out: list[str] = []
    negation = ""
    for word in words:
        if not word:
            continue  # "не было связи" -> "не_связь": the negation waits for a content word
        if word in _SPECIAL:  # "нет, спасибо": punctuation ends a negation's reach
            if negation:
                out.append(negation)
            negation = word if word in NEGATIONS else ""
        elif negation:
            if word[0] == "<" or word.startswith("emo_"):  # placeholders stay as they are
                out.append(negation)
                out.append(word)
            else:
                out.append(f"{negation}_{word}")
            negation = ""
        else:
            out.append(word)
    if negation:
        out.append(negation)
    return " ".join(out)


def _cut(text: str, limit: int = MAX_CHARS) -> str:
    """The first `limit` characters, without a word or number cut in half.

    A card or e-mail cut in half no longer matches its masking rule, so the partial word and any
    trailing digits are dropped rather than leaked.
    """
    head = text[:limit]
    if not text[limit].isspace():
        space = max(head.rfind(" ", limit - 1000), head.rfind("\n", limit - 1000))
        if space > 0:
            head = head[:space]
    # a card or phone with separators is under 40 characters; keep numbers before that
    return head[:-40] + head[-40:].rstrip(_NUMBER_TAIL)


def _said_once(text: str) -> str:
    """The text with a sentence of three or more words said again dropped: a comment pasted ten times says
    no more than once, and must not read as a long, detailed one. Other texts come back as they were."""
    if len(text) < _REPEAT_CHARS:
        return text
    rough = (" " + text).replace("!", ".").replace("?", ".").replace("\n", ".").split(".")
    if len(set(rough)) == len(rough):  # no piece twice (a first sentence said again reads " a" both times)
        return text
    sentences = _SENTENCE_END.split(text)
    seen: set[str] = set()
    kept = []
    for sentence in sentences:
        key = sentence.strip()
        if key not in seen or key.count(" ") < 2:
            kept.append(sentence)
        seen.add(key)
    return text if len(kept) == len(sentences) else " ".join(kept)


def _lines_once(text: str) -> str:
    """`_said_once` before normalising, which joins lines: a line pasted again (no full stop to end it) is
    seen only here; sentences that differ in case only are seen after."""
    return _said_once(text) if "\n" in text else text


def _is_junk(text: str) -> bool:
    if not _CONTROL.search(text):
        return False
    sample = text[:2000]
    return "\x00" in sample or len(_CONTROL.findall(sample)) > len(sample) / 10


def _prepare_str(raw: str, stop: frozenset[str]) -> Prepared:
    return Prepared(*_steps(raw, stop))


def _steps(raw: str, stop: frozenset[str]) -> tuple[str, str, str, str]:
    """The chain, as a tuple: preprocess needs one field and a dataclass costs a microsecond."""
    if len(raw) <= 6 and raw.strip().lower() in EMPTY_MARKS:
        return "", "", "", EMPTY
    if len(raw) <= MAX_CHARS and not _NOT_SIMPLE.search(raw) and ".рф" not in raw:
        return _simple_steps(raw, stop)  # most feedback: one scan tells, and most steps are skipped
    cut = False
    if len(raw) > MAX_CHARS and not (len(raw) <= _JSON_CHARS and _JSON_START.match(raw)):
        limit = _TURNS_CHARS if ":" in raw[:_TURNS_CHARS] else MAX_CHARS
        if len(raw) > limit:
            raw, cut = _cut(raw, limit), True
    if _is_junk(raw):
        return "", "", "", NOT_TEXT
    said, unsure = split_customer(raw)
    if len(said) > MAX_CHARS:
        said, cut = _cut(said), True
    if not said or said.isspace():
        return "", "", "", EMPTY
    masked = mask_text(said, by_words=False)  # names and flats are masked where text is written out
    text = _said_once(normalize(_lines_once(masked)))
    return _features(text, stop), text, masked, NO_CUSTOMER if unsure else TRUNCATED if cut else OK  # review first


def _simple_steps(raw: str, stop: frozenset[str]) -> tuple[str, str, str, str]:
    """`_steps` of a short text of Cyrillic words and plain punctuation, most feedback.

    Such a text has no control characters, speaker labels (":"), personal data (no digits, no "@")
    or anything but case, ё, runs and spaces to normalise, so those steps are skipped.
    """
    if not raw or raw.isspace():
        return "", "", "", EMPTY
    text = _said_once(normalize_plain(_lines_once(raw)))
    return _feature_words(_simple_tokens(text), stop), text, raw, OK


def _simple_tokens(text: str) -> list[str]:
    """`tokenize` of a normalised simple text: lower-case Cyrillic words, single spaces, ". , ! ? -".

    The marks are spaced out and the text split, twice as fast as the regex. A hyphen joins words
    or stands alone, so a text with one goes to the regex.
    """
    if "-" in text:
        return _TOKEN.findall(text)
    for mark in ".,!?":
        text = text.replace(mark, f" {mark} ")
    return text.split()


_MISSING = object()


def _as_text(value: object) -> object:
    """A str, a list of turns, _MISSING for an empty cell, or None for values that are not text.

    A number is read as its digits, as a CSV or Excel cell holding it is: "5" is a survey comment too.
    """
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return _MISSING
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return bytes(value).decode("utf-8")  # UTF-8 bytes are text; anything else is not
        except UnicodeDecodeError:
            return None
    if isinstance(value, (list, tuple, np.ndarray)) and all(isinstance(v, dict) for v in value):
        # a turns column of Parquet or Spark (a list of structs) reads as an array; no turns, no text
        return list(value) if len(value) else _MISSING
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        if value != value:  # NaN: how pandas marks an empty cell
            return _MISSING
        if not math.isfinite(value):
            return None
        return str(int(value)) if value == int(value) and abs(value) < 1e18 else str(value)
    return None  # bools, dicts, other objects


def prepare(value: object, *, stop_words: Collection[str] | None = None) -> Prepared:
    """Prepare one raw value (str, UTF-8 bytes, list of turn dicts, or anything else). Never raises.

    A missing value (None, NaN, pd.NA) gives status "empty text", as an empty cell does; non-UTF-8
    bytes, binary junk, bools and other objects give "not text". Both come with empty strings.
    """
    stop = _stop(stop_words)
    text = _as_text(value)
    if text is None:
        return _NOTHING
    if text is _MISSING:
        return _EMPTY
    if isinstance(text, list):
        try:
            text, unsure = split_customer(text)
        except (TypeError, ValueError):
            return _NOTHING
        done = _prepare_str(text, stop)
        return Prepared(done.features, done.text, done.masked, NO_CUSTOMER) if unsure and done.status == OK else done
    return _prepare_str(text, stop)


def prepare_many(values: Iterable[object], *, stop_words: Collection[str] | None = None) -> list[Prepared]:
    """`prepare` for each value; repeated short texts ("Спасибо", "Всё хорошо") are done once."""
    unique, inverse = prepare_distinct(values, stop_words=stop_words)
    return [unique[k] for k in inverse]


def prepare_distinct(values: Iterable[object], *,
                     stop_words: Collection[str] | None = None) -> tuple[list[Prepared], list[int]]:
    """(the prepared distinct values, the index of each value's among them): a model scores each
    repeated short text ("Спасибо", "Всё хорошо") once. Long texts are not compared, each is its own."""
    many(values)
    stop = _stop(stop_words)
    seen: dict[str, int] = {}
    unique: list[Prepared] = []
    inverse: list[int] = []
    for value in values:
        if isinstance(value, str) and len(value) <= 200:
            k = seen.get(value)
            if k is None:
                k = seen[value] = len(unique)
                unique.append(_prepare_str(value, stop))
        else:
            k = len(unique)
            unique.append(prepare(value, stop_words=stop))
        inverse.append(k)
    return unique, inverse


def preprocess(text: str, *, stop_words: Collection[str] | None = None) -> str:
    """The feature string of one text: customer turns -> mask -> normalise -> lemmas.

    Raises InputError for anything but a str; use `prepare` for data frame cells.
    """
    if not isinstance(text, str):
        raise InputError(
            f"preprocess() expects a str, got {type(text).__name__} ({text!r:.40}); "
            "for None, NaN, numbers or bytes use cxtext.preprocess.prepare(), which never raises"
        )
    return _steps(text, _stop(stop_words))[0]


def _stop(stop_words: Collection[str] | None) -> frozenset[str]:
    return default_stop_words() if stop_words is None else frozenset(stop_words)


_OUTPUTS = ("features", "text", "masked")


class TextPreprocessor(TransformerMixin, BaseEstimator):
    """`prepare` as a stateless scikit-learn step: raw values in, one string per value out.

    output: "features" (lemmas, for word n-grams), "text" (normalised text, for character n-grams)
    or "masked". Values that are not text (None, NaN, numbers, bytes that are not UTF-8) give "".
    """

    def __init__(self, output: str = "features", stop_words: Collection[str] | None = None):
        self.output = output
        self.stop_words = stop_words

    def fit(self, X: Any, y: Any = None) -> "TextPreprocessor":
        """Check the parameters; there is nothing to learn."""
        self._check_output()
        return self

    def transform(self, X: Any) -> list[str]:
        """One string per value of X (a list, a Series, a 1-column frame or array)."""
        self._check_output()
        return [getattr(p, self.output) for p in prepare_many(_column(X), stop_words=self.stop_words)]

    def _check_output(self) -> None:
        if self.output not in _OUTPUTS:
            raise InputError(f"output must be one of {', '.join(_OUTPUTS)}; got {self.output!r}")

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _column(X: Any) -> Iterable[object]:
    """The values of a 1-d iterable, a Series, or a frame/array with one column."""
    if isinstance(X, (str, bytes)):
        raise InputError("TextPreprocessor expects a list or column of texts, got a single text; wrap it: [text]")
    ndim = getattr(X, "ndim", 1)
    if ndim == 2:
        if X.shape[1] != 1:
            raise InputError(f"TextPreprocessor expects one text column, got {X.shape[1]}; select the text column")
        return X.iloc[:, 0] if hasattr(X, "iloc") else X[:, 0]
    if ndim != 1:
        raise InputError(f"TextPreprocessor expects a 1-d list or column of texts, got {ndim} dimensions")
    return X
