"""Text -> sparse features: lemma n-grams (meaning) plus character n-grams (robust to typos)."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .preprocess import Prepared

WORD_PARAMS = dict(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), min_df=2,
                   sublinear_tf=True, max_features=60_000, dtype=np.float32)
CHAR_PARAMS = dict(analyzer="char_wb", lowercase=False, ngram_range=(2, 5), min_df=3,
                   sublinear_tf=True, max_features=120_000, dtype=np.float32)
_NUMERIC = 4  # length and shape features appended after the n-grams
_NEGATIONS = (" не_", " нет_", " без_")


def _numeric(docs: Sequence[Prepared]) -> np.ndarray:
    """Length and shape of each text as a dense (texts x 4) array."""
    rows = []
    for doc in docs:
        n = len(doc.features.split())
        spaced = " " + doc.features  # feature strings are words joined by single spaces
        rows.append((
            math.log1p(n) / 6.0,                                   # long letters vs one-word verdicts
            1.0 if n <= 3 else 0.0,                                # "норм", "спасибо", "5"
            min(doc.text.count("?"), 3) / 3.0,                     # questions -> consultation
            sum(spaced.count(neg) for neg in _NEGATIONS) / (n + 1.0) if "_" in spaced else 0.0,
        ))
    return np.asarray(rows, dtype=np.float32).reshape(len(docs), _NUMERIC)


_WORD_CACHE_LIMIT = 1_000_000


def _char_ngrams(word: str, vocabulary: dict, low: int, high: int) -> tuple[int, ...]:
    """Vocabulary ids of the character n-grams of one word padded with spaces (sklearn's char_wb)."""
    padded = f" {word} "
    ids = []
    for n in range(low, high + 1):
        last = max(len(padded) - n, 0)
        for offset in range(last + 1):
            index = vocabulary.get(padded[offset:offset + n])
            if index is not None:
                ids.append(index)
        if last == 0:  # a word shorter than n counts once, as sklearn does
            break
    return tuple(ids)


def _rows(indices: list[int], indptr: list[int], n_columns: int) -> sp.csr_matrix:
    """A count matrix from the column ids of each row (an id twice counts twice)."""
    return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int32),
                          np.asarray(indptr, dtype=np.int64)), shape=(len(indptr) - 1, n_columns))


def _tfidf(counts: sp.csr_matrix, vec: TfidfVectorizer, idf: np.ndarray) -> sp.csr_matrix:
    """Term counts -> the fitted vectorizer's (sublinear) TF-IDF rows, l2-normalised."""
    counts.sum_duplicates()
    if vec.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1
    counts.data *= idf[counts.indices]
    return _l2_rows(counts)


def _l2_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row scaled to unit length in place (sklearn's normalize, without its per-call checks that
    cost more than the arithmetic for a single text)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.sqrt(np.bincount(rows, weights=matrix.data.astype(np.float64) ** 2, minlength=matrix.shape[0]))
    norms[norms == 0] = 1.0
    matrix.data /= norms[rows].astype(matrix.data.dtype)
    return matrix


class _WordNgrams:
    """The word 1-2-gram TF-IDF of a fitted vectorizer in plain dict lookups; equals
    TfidfVectorizer.transform (checked in tests) at a fraction of its cost."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self.idf = vectorizer.idf_.astype(np.float32)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        get = self.vectorizer.vocabulary_.get
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            tokens = text.split()
            for term in tokens:
                index = get(term)
                if index is not None:
                    indices.append(index)
            for first, second in zip(tokens, tokens[1:]):
                index = get(f"{first} {second}")
                if index is not None:
                    indices.append(index)
            indptr.append(len(indices))
        return _tfidf(_rows(indices, indptr, len(self.vectorizer.vocabulary_)), self.vectorizer, self.idf)


class _CharNgrams:
    """The char_wb TF-IDF of a fitted vectorizer, computed word by word with a cache.

    char_wb counts the n-grams of each word apart, so a text's counts are (texts x words) @ (words x
    n-grams): the n-grams of each distinct word are looked up once and the sum is one sparse product.
    The matrix equals TfidfVectorizer.transform (checked in tests) at a fraction of its cost."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self.idf = vectorizer.idf_.astype(np.float32)
        self.cache: dict[str, tuple[int, ...]] = {}

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        vec, cache = self.vectorizer, self.cache
        if len(cache) > _WORD_CACHE_LIMIT:
            cache.clear()
        vocabulary, (low, high) = vec.vocabulary_, vec.ngram_range
        words: dict[str, int] = {}  # the distinct words of these texts -> their column
        columns: list[int] = []
        indptr = [0]
        for text in texts:
            for word in text.split():
                column = words.get(word)
                if column is None:
                    column = words[word] = len(words)
                columns.append(column)
            indptr.append(len(columns))
        ngrams: list[int] = []
        word_indptr = [0]
        for word in words:  # in column order
            ids = cache.get(word)
            if ids is None:
                ids = cache[word] = _char_ngrams(word, vocabulary, low, high)
            ngrams.extend(ids)
            word_indptr.append(len(ngrams))
        counts = _rows(columns, indptr, len(words)) @ _rows(ngrams, word_indptr, len(vocabulary))
        return _tfidf(sp.csr_matrix(counts), vec, self.idf)


class TextFeatures:
    """Fitted vocabularies and idf weights; rebuilt from plain arrays, never unpickled."""

    def __init__(self, word: TfidfVectorizer, char: TfidfVectorizer):
        self.word = word
        self.char = char
        self._word = _WordNgrams(word)
        self._char = _CharNgrams(char)

    @classmethod
    def fit(cls, docs: Sequence[Prepared]) -> "TextFeatures":
        word = TfidfVectorizer(**WORD_PARAMS).fit([d.features for d in docs])
        char = TfidfVectorizer(**CHAR_PARAMS).fit([d.text for d in docs])
        return cls(word, char)

    @property
    def n_features(self) -> int:
        return len(self.word.vocabulary_) + len(self.char.vocabulary_) + _NUMERIC

    def blocks(self, docs: Sequence[Prepared]) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        """Word n-grams, character n-grams and the dense length/shape columns, in column order."""
        return (self._word.transform([d.features for d in docs]),
                self._char.transform([d.text for d in docs]),
                _numeric(docs))

    def transform(self, docs: Sequence[Prepared]) -> sp.csr_matrix:
        word, char, numeric = self.blocks(docs)
        return sp.hstack([word, char, sp.csr_matrix(numeric)], format="csr")

    def dot(self, docs: Sequence[Prepared], coef: np.ndarray) -> np.ndarray:
        """transform(docs) @ coef for a (features x outputs) matrix, without building the stacked matrix."""
        word, char, numeric = self.blocks(docs)
        n_word, n_char = word.shape[1], char.shape[1]
        return (np.asarray(word @ coef[:n_word]) + np.asarray(char @ coef[n_word:n_word + n_char])
                + numeric @ coef[n_word + n_char:])

    def to_state(self) -> tuple[dict, dict]:
        """JSON-able vocabularies and numpy arrays of idf weights."""
        meta = {name: _terms(vec) for name, vec in (("word", self.word), ("char", self.char))}
        arrays = {"word_idf": self.word.idf_, "char_idf": self.char.idf_}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> "TextFeatures":
        return cls(_rebuild(WORD_PARAMS, meta["word"], arrays["word_idf"]),
                   _rebuild(CHAR_PARAMS, meta["char"], arrays["char_idf"]))


def _terms(vec: TfidfVectorizer) -> list[str]:
    terms = [""] * len(vec.vocabulary_)
    for term, index in vec.vocabulary_.items():
        terms[index] = term
    return terms


def _rebuild(params: dict, terms: list[str], idf: np.ndarray) -> TfidfVectorizer:
    vec = TfidfVectorizer(**params)
    vec.vocabulary_ = {term: i for i, term in enumerate(terms)}
    vec.idf_ = np.asarray(idf, dtype=np.float64)
    return vec
