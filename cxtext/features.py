"""Text -> sparse features: lemma n-grams (meaning) plus character n-grams (robust to typos)."""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from .errors import ModelError
from .preprocess import Prepared

WORD_PARAMS = dict(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2), min_df=2,
                   sublinear_tf=True, max_features=60_000, dtype=np.float32)
CHAR_PARAMS = dict(analyzer="char_wb", lowercase=False, ngram_range=(2, 5), min_df=3,
                   sublinear_tf=True, max_features=120_000, dtype=np.float32)
_NUMERIC = 4  # length and shape features appended after the n-grams
_WORDS_PER_BLOCK = 100_000  # distinct words whose character n-grams are computed at once
_CACHED_WORDS = 100_000  # words whose n-gram vectors a model keeps (~30 MB), as preprocessing keeps lemmas
_generation = 0  # bumped by clear_cache: every model's cached words are then stale


def clear_cache() -> None:
    """Forget every model's cached character n-grams of words (benchmarks use it to start cold)."""
    global _generation
    _generation += 1


def word_counts(docs: Sequence[Prepared]) -> np.ndarray:
    """The number of feature words of each text."""
    return np.array([d.features.count(" ") + 1 if d.features else 0 for d in docs], dtype=np.float64)


def _numeric(docs: Sequence[Prepared]) -> np.ndarray:
    """Length and shape of each text as a dense (texts x 4) array."""
    features = [doc.features for doc in docs]  # words joined by single spaces
    n = word_counts(docs)
    negations = np.array([(g := " " + f).count(" не_") + g.count(" нет_") + g.count(" без_") if "_" in f else 0
                          for f in features], dtype=np.float64)  # "не_работать": a negation preprocessing joined
    questions = np.array([doc.text.count("?") for doc in docs], dtype=np.float64)
    return np.column_stack([
        np.log1p(n) / 6.0,                    # long letters vs one-word verdicts
        (n <= 3).astype(np.float64),          # "норм", "спасибо", "5"
        np.minimum(questions, 3) / 3.0,       # questions -> consultation
        negations / (n + 1.0),
    ]).astype(np.float32).reshape(len(docs), _NUMERIC)


def _tfidf(counts: sp.csr_matrix, vec: TfidfVectorizer, idf: np.ndarray, normalize: bool = True) -> sp.csr_matrix:
    """Term counts -> the fitted vectorizer's (sublinear) TF-IDF rows, l2-normalised unless told not to."""
    counts.sum_duplicates()
    if vec.sublinear_tf:
        np.log(counts.data, counts.data)
        counts.data += 1
    counts.data *= idf[counts.indices]
    return _l2_rows(counts) if normalize else counts


def _l2_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row scaled to unit length in place: the Cython routine sklearn's `normalize` runs, without
    its per-call checks that cost more than the arithmetic for a single text."""
    inplace_csr_row_normalize_l2(matrix)
    return matrix


# Tokens are found and told apart with numpy rather than str.split and dict look-ups, which cost ~1,500
# instructions a token: each whitespace token gets a 63-bit code of its characters, a polynomial hash
# modulo 2**64, sum(c_i * B**i), mixed. No two words of real text were found to share a code (tests: 378,000
# strings of up to 3 characters; a review: 80,000 corpus words, a million random ones), but strings built
# for it can (for any odd B, a Thue-Morse pair of 1,024 characters; for this B, shorter ones). Such a
# string is then read as another word, which anyone could have written instead: no harm beyond that.
_HASH_BASE = 0x9E3779B97F4A7C15  # odd, so it has an inverse modulo 2**64
_SPACE_LIMIT = 0x3001  # every Unicode whitespace character (str.isspace) lies below it
_CHARS_PER_BLOCK = 1 << 20  # characters coded at once: ~50 bytes each (a longer text is one block)
_FEW_CHARS = 300  # up to this many characters, tokens are coded in plain Python
_MASK = 2**64 - 1
_few_codes: dict[str, int] = {}  # word -> code, for `_coded_few`
_powers_cache = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(B**i, B**-i) modulo 2**64 for i < n at least; kept for blocks up to twice _CHARS_PER_BLOCK."""
    global _powers_cache
    if len(_powers_cache[0]) >= n:
        return _powers_cache
    pair = []
    for base in (_HASH_BASE, pow(_HASH_BASE, -1, 2**64)):
        power = np.full(max(n, min(2 * len(_powers_cache[0]), 2 * _CHARS_PER_BLOCK)), base, dtype=np.uint64)
        power[0] = 1
        pair.append(np.cumprod(power, out=power))  # wraps modulo 2**64, as meant
    if len(pair[0]) <= 2 * _CHARS_PER_BLOCK:  # one huge text's powers are not kept
        _powers_cache = (pair[0], pair[1])
    return pair[0], pair[1]


@lru_cache(maxsize=1)
def _word_character() -> np.ndarray:
    """Code point -> False for whitespace; points from _SPACE_LIMIT up read the last entry (True)."""
    table = np.ones(_SPACE_LIMIT + 1, dtype=bool)
    table[[point for point in range(_SPACE_LIMIT) if chr(point).isspace()]] = False
    return table


def _coded_tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """The whitespace tokens of texts (str.split's), coded: (the number of tokens of each text, each token's
    code, where it starts and ends in `joined`, joined: the texts joined by spaces)."""
    if sum(map(len, texts)) + len(texts) - 1 <= _FEW_CHARS:  # the joined length, without joining
        return _coded_few(texts)
    joined = " ".join(texts)
    bounds = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1) - 1
    parts, first = [], 0
    while first < len(joined):  # blocks of whole texts, so memory stays bounded
        last = bounds[min(np.searchsorted(bounds, first + _CHARS_PER_BLOCK), len(bounds) - 1)]
        codes, starts, ends = _code_block(joined[first:last])
        parts.append((codes, starts + first, ends + first))
        first = last + 1
    codes, starts, ends = (np.concatenate(arrays) for arrays in zip(*parts)) if parts else [np.zeros(0, np.int64)] * 3
    counts = np.searchsorted(starts, bounds)
    return np.diff(counts, prepend=0), codes, starts, ends, joined


def _coded_few(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """`_coded_tokens` in plain Python, for a text or two: numpy's ~40 calls would cost ~100 µs."""
    split = [text.split() for text in texts]
    words = [word for text in split for word in text]
    codes = list(map(_few_codes.get, words))
    if None in codes:
        if len(_few_codes) > _CACHED_WORDS:
            _few_codes.clear()
        codes = [_new_code(word) if code is None else code for word, code in zip(words, codes)]
    sizes = np.array([len(word) + 1 for word in words], dtype=np.int64)
    ends = np.cumsum(sizes) - 1
    return (np.array([len(text) for text in split], dtype=np.int64), np.array(codes, dtype=np.int64),
            ends - sizes + 1, ends, " ".join(words))


def _new_code(word: str) -> int:
    """A word's code, as _code_block computes it, now kept for `_coded_few`."""
    code, power = 0, 1
    for ch in word:
        code = (code + (ord(ch) + 1) * power) & _MASK
        power = power * _HASH_BASE & _MASK
    code = _few_codes[word] = int(_mixed(np.array([code], dtype=np.uint64))[0])
    return code


def _mixed(codes: np.ndarray) -> np.ndarray:
    """splitmix64's mixer (one-to-one), then the top bit dropped: mixing first keeps one-letter words apart."""
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
        codes ^= codes >> np.uint64(shift)
        codes *= np.uint64(factor)
    codes ^= codes >> np.uint64(31)
    return (codes >> np.uint64(1)).astype(np.int64)


def _code_block(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code, start, end) of each whitespace token of a text."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    word = _word_character().take(points, mode="clip")
    padded = np.zeros(len(points) + 2, dtype=np.int8)
    padded[1:-1] = word
    edges = np.flatnonzero(padded[1:] != padded[:-1])  # a token's start, then its end, in turn
    starts, ends = edges[0::2], edges[1::2]
    power, inverse = _powers(len(points))
    total = np.zeros(len(points) + 1, dtype=np.uint64)  # total[j]: sum of (c_i + 1) * B**i over i < j
    np.multiply(points + np.uint32(1), word, out=total[1:], dtype=np.uint64)
    total[1:] *= power[:len(points)]
    np.cumsum(total, out=total)
    codes = (total[ends] - total[starts]) * inverse[starts]  # the token's own sum, as if it started at 0
    return _mixed(codes), starts, ends


def _csr(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A count matrix from (row, column) pairs sorted by row; a pair twice counts twice (sparse
    products and `_tfidf` add such duplicates up)."""
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), columns.astype(np.int32), indptr), shape=shape)


def _holds(lengths: np.ndarray, token_word: np.ndarray, n_words: int) -> sp.csr_matrix:
    """(texts x words) 1 where the text holds the word, from each text's number of tokens and each
    token's word."""
    holds = _csr(np.repeat(np.arange(len(lengths)), lengths), token_word, (len(lengths), n_words))
    holds.sum_duplicates()
    holds.data[:] = 1
    return holds


def _inverse_root(total: np.ndarray) -> np.ndarray:
    """1 / sqrt(total), and 0 where the total is 0 (a text with no known n-gram)."""
    return np.divide(1.0, np.sqrt(total), out=np.zeros_like(total), where=total > 0)


class _CodeTable:
    """Non-negative int64 codes -> ids, looked up for a whole array at once: an open-addressing hash
    table (linear probing, at most half full), about 2x faster than a binary search over sorted codes.
    Codes can be added; a table that would be over half full grows."""

    _MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing

    def __init__(self, codes: np.ndarray, ids: np.ndarray):
        self.size = 0
        self._empty(len(codes))
        self.add(codes, ids)

    def _empty(self, n: int) -> None:
        self.bits = max(4, int(2 * max(n, 1) - 1).bit_length())
        # one row per slot, (key, id): a look-up reads both from one cache line
        self.slots = np.full((1 << self.bits, 2), -1, dtype=np.int64)

    def add(self, codes: np.ndarray, ids: np.ndarray) -> None:
        """Hold codes not held yet, with their ids."""
        if 2 * (self.size + len(codes)) > len(self.slots):
            held = self.slots[self.slots[:, 0] >= 0]
            self._empty(2 * (self.size + len(codes)))
            codes, ids = np.concatenate([held[:, 0], codes]), np.concatenate([held[:, 1], ids])
            self.size = 0
        slot, pending = self._slot(codes), np.arange(len(codes))
        while len(pending):  # each round, every free slot takes the first code that wants it
            free = self.slots[slot[pending], 0] == -1
            taken, first = np.unique(slot[pending[free]], return_index=True)
            placed = pending[free][first]
            self.slots[taken, 0], self.slots[taken, 1] = codes[placed], ids[placed]
            pending = np.setdiff1d(pending, placed, assume_unique=True)
            slot[pending] = (slot[pending] + 1) & (len(self.slots) - 1)
        self.size += len(codes)

    def _slot(self, codes: np.ndarray) -> np.ndarray:
        mixed = codes.astype(np.uint64) * self._MIX
        return (mixed >> np.uint64(64 - self.bits)).astype(np.int64)

    def find(self, codes: np.ndarray) -> np.ndarray:
        """The id of each code, -1 for a code the table does not hold."""
        slot = self._slot(codes)
        entry = np.take(self.slots, slot, axis=0)  # most codes are settled by their first slot
        hit = entry[:, 0] == codes
        found = np.where(hit, entry[:, 1], -1)
        pending = np.flatnonzero(~hit & (entry[:, 0] != -1))  # an empty slot ends the search
        while len(pending):
            slot[pending] = (slot[pending] + 1) & (len(self.slots) - 1)
            entry = np.take(self.slots, slot[pending], axis=0)  # take: 10x faster than fancy rows
            hit = entry[:, 0] == codes[pending]
            found[pending[hit]] = entry[hit, 1]
            pending = pending[~hit & (entry[:, 0] != -1)]
        return found


class _WordNgrams:
    """The word 1-2-gram TF-IDF of a fitted vectorizer with numpy: each vocabulary word gets a number,
    a bigram is the integer pair of its words' numbers, looked up in a hash table. Equals
    TfidfVectorizer.transform (checked in tests) at a fraction of its cost."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self.idf = vectorizer.idf_.astype(np.float32)
        self._tables = None  # built on first use

    def _word_tables(self) -> tuple[_CodeTable, int, np.ndarray, _CodeTable]:
        """(the codes of the vocabulary's words -> their numbers, the number that stands for every other
        word, unigram term of each number (-1: none), bigram codes -> their terms)."""
        if self._tables is None:
            if tuple(self.vectorizer.ngram_range) != (1, 2):
                raise ModelError(f"word n-grams {self.vectorizer.ngram_range} are not supported: expected (1, 2)")
            vocabulary = self.vectorizer.vocabulary_
            words = list(dict.fromkeys(word for term in vocabulary for word in term.split(" ")))
            number = dict(zip(words, range(len(words))))
            other = len(words)
            unigram = np.full(other + 1, -1, dtype=np.int64)
            codes, terms = [], []
            for term, index in vocabulary.items():
                parts = term.split(" ")
                if len(parts) == 1:
                    unigram[number[term]] = index
                else:
                    codes.append(number[parts[0]] * (other + 1) + number[parts[1]])
                    terms.append(index)
            self._tables = (_code_table(words), other, unigram,
                            _CodeTable(np.asarray(codes, dtype=np.int64), np.asarray(terms, dtype=np.int64)))
        return self._tables

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        words, other, unigram, bigrams = self._word_tables()
        lengths, codes = _coded_tokens(texts)[:2]
        text_of = np.repeat(np.arange(len(texts)), lengths)
        number = words.find(codes)
        number[number < 0] = other
        terms = unigram[number]
        is_unigram = terms >= 0
        pair = number[:-1] * (other + 1) + number[1:]
        same_text = np.flatnonzero(text_of[:-1] == text_of[1:])
        bigram_terms = bigrams.find(pair[same_text])
        hit = bigram_terms >= 0
        rows = np.concatenate([text_of[is_unigram], text_of[same_text[hit]]])
        columns = np.concatenate([terms[is_unigram], bigram_terms[hit]])
        order = np.argsort(rows, kind="stable")
        counts = _csr(rows[order], columns[order], (len(texts), len(self.vectorizer.vocabulary_)))
        return _tfidf(counts, self.vectorizer, self.idf)


def _code_table(words: list[str]) -> _CodeTable:
    """The codes of distinct words (no whitespace in any) -> their positions in the list."""
    codes = _coded_tokens(words)[1]
    if len(np.unique(codes)) != len(words):  # by chance: ~2**-32 for a vocabulary of 60,000 words
        raise ModelError("two words of the vocabulary share a code; please report this vocabulary as a bug")
    return _CodeTable(codes, np.arange(len(words)))


class _CharNgrams:
    """Character n-grams, robust to typos: each distinct word of a text gets the char_wb n-grams a fitted
    vectorizer finds in it, weighted by sublinear tf x idf; a text's vector is the sum of its distinct
    words' vectors over the root of their summed squares (their l2 norm when no two words share an n-gram).

    Being a sum over words, a text's scores are (texts x words) @ (words' vectors @ weights): no
    (texts x n-grams) matrix is built to predict, and each word's vector is computed once and cached per
    model, as preprocessing caches lemmas. The n-grams of words are found with numpy: every character of
    the vocabulary gets a digit, so an n-gram is a base-B integer and the vocabulary a hash table of them;
    the distinct new words are joined by single spaces (each word's own padding), and the codes of all
    windows come out of shifted adds. Equal to sklearn's analyzer word by word (checked in tests)."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self.idf = vectorizer.idf_.astype(np.float32)
        self._codes = None  # built on first use: (digit of each code point, n-gram codes -> ids, base)
        self._lock = threading.Lock()
        self._forget()

    def __getstate__(self) -> dict:  # a model sent to a worker process travels without its lock and cache
        return {"vectorizer": self.vectorizer}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["vectorizer"])

    def _forget(self) -> None:
        """Empty the word cache: a word's code -> its number k; the n-grams of word k are
        ids[starts[k]:starts[k + 1]] with weights[...] alike, and its squared length is squares[k] (arrays
        with room to grow)."""
        self._known = _CodeTable(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))  # word code -> k
        self._starts = np.zeros(1024, dtype=np.int64)
        self._squares = np.zeros(1024, dtype=np.float32)
        self._ids = np.zeros(16_384, dtype=np.int32)
        self._weights = np.zeros(16_384, dtype=np.float32)
        self._fill = 0  # ids in use
        self._seen_generation = _generation
        self._scored_key = None  # the words' scores for one weight matrix (see _scores)

    def _code_tables(self) -> tuple[np.ndarray, _CodeTable, int]:
        if self._codes is None:
            vocabulary, high = self.vectorizer.vocabulary_, self.vectorizer.ngram_range[1]
            alphabet = sorted({ord(ch) for term in vocabulary for ch in term} | {ord(" ")})
            unknown = len(alphabet) + 1  # digits 1..len(alphabet); 0 is never a digit, so lengths differ
            base = unknown + 1
            if base ** high >= 2 ** 63:
                raise ModelError(f"the character n-grams hold {len(alphabet)} distinct characters, too many to "
                                 f"code {high}-grams in 64 bits; cxtext is built for alphabetic scripts: drop texts "
                                 "in scripts of thousands of characters (Chinese, Japanese) before training")
            digit = np.full(alphabet[-1] + 2, unknown, dtype=np.int64)
            digit[alphabet] = np.arange(1, len(alphabet) + 1)
            number = {chr(point): i for i, point in enumerate(alphabet, start=1)}
            codes = np.fromiter((_code(term, number, base) for term in vocabulary), dtype=np.int64,
                                count=len(vocabulary))
            ids = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(codes))
            self._codes = (digit, _CodeTable(codes, ids), base)
        return self._codes

    def _word_ngrams(self, words: Sequence[str]) -> sp.csr_matrix:
        """(words x vocabulary) counts of each word's n-grams, padded with spaces as char_wb does."""
        if len(words) > _WORDS_PER_BLOCK:  # memory stays bounded: ~40 bytes per character per block
            return sp.vstack([self._word_ngrams(words[i:i + _WORDS_PER_BLOCK])
                              for i in range(0, len(words), _WORDS_PER_BLOCK)], format="csr")
        digit, ngrams, base = self._code_tables()
        low, high = self.vectorizer.ngram_range
        # one code point per character; surrogatepass: a lone surrogate ("\ud800") is a character too
        points = np.frombuffer(f" {' '.join(words)} ".encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        size = len(points)
        digits = np.concatenate([digit[np.minimum(points, len(digit) - 1)], np.zeros(high, dtype=np.int64)])
        is_space = points == 32
        start = np.arange(size)
        # the first space after each position (the text ends with one): a minimum from the right
        next_space = np.empty(size, dtype=np.int64)
        next_space[-1] = size - 1
        next_space[:-1] = np.minimum.accumulate(np.where(is_space, start, size)[:0:-1])[::-1]
        # a window [i, i + n) is an n-gram of one padded word when it ends by the next space after i
        valid = np.arange(low, high + 1) <= (next_space - start + 1)[:, None]
        code = np.empty((size, high - low + 1), dtype=np.int64)
        window = digits[:size].copy()
        for n in range(2, high + 1):
            window = window * base + digits[n - 1:n - 1 + size]
            if n >= low:
                code[:, n - low] = window
        word_of = np.broadcast_to((np.cumsum(is_space) - 1)[:, None], code.shape)[valid]  # by start, so sorted
        ids = ngrams.find(code[valid])
        hit = ids >= 0
        return _csr(word_of[hit], ids[hit], (len(words), len(self.vectorizer.vocabulary_)))

    def _word_vectors(self, words: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        """(words x vocabulary) vectors of words, sublinear tf x idf, and their squared lengths."""
        vectors = _tfidf(self._word_ngrams(words), self.vectorizer, self.idf, normalize=False)
        return vectors, np.asarray(vectors.multiply(vectors).sum(axis=1), dtype=np.float32).reshape(-1)

    def _parts(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
        """(texts x words: 1 where the text holds the word, the words' vectors, 1 / each text's length)."""
        lengths, *tokens = _coded_tokens(texts)
        with self._lock:
            found = self._numbers(*tokens)
            token_word, vectors, squares = self._uncached(*tokens) if found is None else self._gather(found)
        holds = _holds(lengths, token_word, vectors.shape[0])
        return holds, vectors, _inverse_root(holds @ squares)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        holds, vectors, scale = self._parts(texts)
        matrix = (holds @ vectors).tocsr()
        matrix.data *= np.repeat(scale, np.diff(matrix.indptr))
        return matrix

    def dot(self, texts: Sequence[str], coef: np.ndarray) -> np.ndarray:
        """transform(texts) @ coef, summed per word: each cached word's score (its vector @ coef) is
        computed once per model, so a batch costs a look-up and a sum per word."""
        lengths, *tokens = _coded_tokens(texts)
        with self._lock:
            found = self._numbers(*tokens)
            if found is None:
                found, vectors, squares = self._uncached(*tokens)
                word_scores = np.asarray(vectors @ coef)
            else:
                word_scores, squares = self._scores(coef), self._squares[:self._known.size]
            holds = _holds(lengths, found, len(squares))
            scores, scale = np.asarray(holds @ word_scores), _inverse_root(holds @ squares)
        return scores * (scale[:, None] if scores.ndim == 2 else scale)

    def _numbers(self, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, joined: str) -> np.ndarray | None:
        """The cache number of each token's word (tokens as `_coded_tokens` gives them), new words computed
        and cached first; None when the batch alone holds more distinct words than the cache keeps. Called
        under the lock."""
        if self._seen_generation != _generation:
            self._forget()
        found = self._known.find(codes)
        new = found < 0
        if new.any():
            new_codes, first = np.unique(codes[new], return_index=True)
            at = np.flatnonzero(new)[first]
            if self._known.size + len(new_codes) > _CACHED_WORDS:  # full: start again with this batch's words
                self._forget()
                new_codes, at = np.unique(codes, return_index=True)
                if len(new_codes) > _CACHED_WORDS:  # one huge batch: its words would not fit
                    return None
                new = np.ones(len(codes), dtype=bool)
            first_number = self._known.size
            self._remember(_words(joined, starts[at], ends[at]), new_codes)
            # the new words took the next numbers in the order of their (sorted) codes
            found[new] = first_number + np.searchsorted(new_codes, codes[new])
        return found

    def _uncached(self, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  joined: str) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray]:
        """(the distinct word of each token, the distinct words' vectors, their squared lengths), computed
        without the cache."""
        _, at, token_word = np.unique(codes, return_index=True, return_inverse=True)
        return (token_word.reshape(-1), *self._word_vectors(_words(joined, starts[at], ends[at])))

    def _gather(self, found: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray]:
        """`_uncached` read from the cache, for tokens' cache numbers."""
        distinct, token_word = np.unique(found, return_inverse=True)
        starts, ends = self._starts[distinct], self._starts[distinct + 1]
        sizes = ends - starts
        indptr = np.zeros(len(distinct) + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        # the n-grams of all words one after the other: position p of word k reads [starts[k] + p]
        at = np.arange(indptr[-1]) + np.repeat(starts - indptr[:-1], sizes)
        vectors = sp.csr_matrix((self._weights[at], self._ids[at], indptr),
                                shape=(len(distinct), len(self.vectorizer.vocabulary_)))
        return token_word.reshape(-1), vectors, self._squares[distinct]

    def _scores(self, coef: np.ndarray) -> np.ndarray:
        """Each cached word's vector @ coef, for words cached since the last call computed now. The
        weights are held as they are while the same array is passed (a model's never change)."""
        key = (coef.__array_interface__["data"][0], coef.shape, coef.strides, coef.dtype.str)
        if self._scored_key != key:
            self._scored_key, self._scored_coef = key, coef  # held: its memory is not reused meanwhile
            self._scored = np.zeros((len(self._starts), *coef.shape[1:]), dtype=np.result_type(coef, np.float32))
            self._n_scored = 0
        done, n = self._n_scored, self._known.size
        if n > done:
            first = self._starts[done]
            vectors = sp.csr_matrix((self._weights[first:self._fill], self._ids[first:self._fill],
                                     self._starts[done:n + 1] - first),
                                    shape=(n - done, len(self.vectorizer.vocabulary_)))
            if n > len(self._scored):
                grown = np.zeros((max(n, 2 * len(self._scored)), *self._scored.shape[1:]), self._scored.dtype)
                grown[:done] = self._scored[:done]
                self._scored = grown
            self._scored[done:n] = vectors @ coef
            self._n_scored = n
        return self._scored[:n]

    def _remember(self, words: list[str], codes: np.ndarray) -> None:
        """Compute and cache the vectors of new words, given with their codes."""
        vectors, squares = self._word_vectors(words)
        first = self._known.size
        needed_words, needed_ids = first + len(words) + 1, self._fill + vectors.nnz
        if needed_words > len(self._starts):
            size = max(needed_words, 2 * len(self._starts))
            self._starts, self._squares = np.resize(self._starts, size), np.resize(self._squares, size)
        if needed_ids > len(self._ids):
            size = max(needed_ids, 2 * len(self._ids))
            self._ids, self._weights = np.resize(self._ids, size), np.resize(self._weights, size)
        self._ids[self._fill:needed_ids] = vectors.indices
        self._weights[self._fill:needed_ids] = vectors.data
        self._starts[first:needed_words] = self._fill + vectors.indptr
        self._squares[first:first + len(words)] = squares
        self._fill = needed_ids
        self._known.add(codes, np.arange(first, first + len(words)))


def _words(joined: str, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    """The tokens of a joined text at these places."""
    return [joined[start:end] for start, end in zip(starts.tolist(), ends.tolist())]


def _code(term: str, number: dict[str, int], base: int) -> int:
    """The base-`base` integer of a vocabulary term, one digit per character."""
    code = 0
    for ch in term:
        code = code * base + number[ch]
    return code


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
        stacked = sp.hstack([word, char, sp.csr_matrix(numeric)], format="csr")
        stacked.sort_indices()  # canonical for the solvers; prediction's `dot` needs no sorting
        return stacked

    def dot(self, docs: Sequence[Prepared], coef: np.ndarray) -> np.ndarray:
        """transform(docs) @ coef for a (features x outputs) matrix, without building the stacked matrix."""
        n_word, n_char = len(self.word.vocabulary_), len(self.char.vocabulary_)
        return (np.asarray(self._word.transform([d.features for d in docs]) @ coef[:n_word])
                + self._char.dot([d.text for d in docs], coef[n_word:n_word + n_char])
                + _numeric(docs) @ coef[n_word + n_char:])

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
