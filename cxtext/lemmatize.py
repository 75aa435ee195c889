"""pymorphy3 behind a lazy, cached, injectable analyzer; two paths to a lemma.

- ``lemma(word)`` is the fast path: one lower-case word (ё already folded to е) -> its lemma, from a
  plain dict cache (a hit costs ~0.2 µs). Domain overrides and abbreviations come first, then
  pymorphy3's first parse, whose normal form is read without building every Parse object: the
  same answer at about half the cost (``_FirstNormalForm``).
  **Preprocessing uses this path for bulk labelling.**
- ``lemmatize(words)`` is the contextual path: the words are one sentence in order, and for each
  word it chooses among pymorphy3's parses with grammar rules about the neighbours (a word after a
  preposition is a noun phrase in a case that preposition governs; an adjective agrees with the
  noun after it; after "не" or a subject pronoun comes a verb), then applies the lemma conventions
  of Universal Dependencies (prepositions keep their form, "должно" -> "должен", predicative
  "интересно" -> "интересный", possessive "его" stays "его", "т. е." -> "то быть").
  It is what lemma accuracy is measured on (``tests/bench/lemma_accuracy.py``: UD Taiga test,
  content words 94.95% against 92.81% for pymorphy3's first parse). It is slower: 3-4x
  ``lemma`` with cold caches (~15-25k vs ~60-130k words/s) and ~100x with warm ones (a
  sentence is re-read every time), so bulk labelling stays on ``lemma``.

Nothing is built at import: the analyzer is made on first use, once per process, and tests can
inject their own with ``set_analyzer``. The rule tables are data files in ``cxtext/data``.
"""
from __future__ import annotations

from importlib import resources
from typing import Any, Callable, Iterable, NamedTuple, Sequence

from .errors import InputError, many

_ANALYZER: Any = None
_FIRST_NORMAL_FORM: Callable[[str], str | None] | None = None  # see _first_normal_form
_CACHE: dict[str, str] = {}
_PARSES: dict[str, tuple["_Parse", ...]] = {}
_TABLES: dict[str, Any] = {}
_ON_CLEAR: list[Callable[[], None]] = []


class _Parse(NamedTuple):
    """One pymorphy3 parse, converted at the boundary."""

    pos: str  # pymorphy3 POS, or PNCT / NUMB / LATN / UNKN for tokens without one
    lemma: str
    score: float
    grams: frozenset[str]


# -- the analyzer and the tables ---------------------------------------------------------------


def get_analyzer() -> Any:
    """The process-wide pymorphy3 analyzer, built on first use."""
    global _ANALYZER
    if _ANALYZER is None:
        import pymorphy3

        _ANALYZER = pymorphy3.MorphAnalyzer()
    return _ANALYZER


def set_analyzer(analyzer: Any) -> None:
    """Use ``analyzer`` (anything with pymorphy3's ``parse``) from now on; None rebuilds lazily.

    The caches are emptied, since they hold the previous analyzer's answers.
    """
    global _ANALYZER, _FIRST_NORMAL_FORM
    _ANALYZER = analyzer
    _FIRST_NORMAL_FORM = None
    clear_cache()


def clear_cache() -> None:
    """Forget every cached lemma and parse (benchmarks use it to start cold), here and in the modules that
    cache the analyzer's answers themselves (`on_clear`)."""
    _CACHE.clear()
    _PARSES.clear()
    for clear in _ON_CLEAR:
        clear()


def on_clear(clear: Callable[[], None]) -> None:
    """Call `clear` whenever the caches are emptied (mask's names, which the analyzer told)."""
    _ON_CLEAR.append(clear)


def _read_tsv(name: str) -> list[list[str]]:
    text = resources.files("cxtext").joinpath("data", name).read_text(encoding="utf-8")
    return [
        line.split("\t")
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _table(name: str) -> Any:
    """A rule table from cxtext/data, read on first use."""
    got = _TABLES.get(name)
    if got is None:
        rows = _read_tsv(name)
        if name == "lemma_overrides.tsv":
            got = {_fold(w): _fold(lem) for w, lem in rows}
        elif name == "lemma_abbreviations.tsv":
            got = {tuple(_fold(w).split(" ")): tuple(_fold(lem).split(" ")) for w, lem in rows}
        else:  # tagger_prepositions.tsv
            got = {_fold(w): frozenset(cases.split(",")) for w, cases in rows}
        _TABLES[name] = got
    return got


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


# -- the fast path -----------------------------------------------------------------------------


def lemma(word: str) -> str:
    """Cached lemma of one lower-case word (ё folded to е), without context."""
    got = _CACHE.get(word)
    if got is None:
        got = _CACHE[word] = _new_lemma(word)
    return got


def _new_lemma(word: str) -> str:
    """`lemma` of a word not in the cache: an override or abbreviation, else the first parse."""
    got = _one_word_lemmas().get(word)
    if got is None:
        form = _first_normal_form()(word)
        got = _fold(get_analyzer().parse(word)[0].normal_form if form is None else form)
    return got


def _one_word_lemmas() -> dict[str, str]:
    """The overrides and the one-word abbreviations ("руб" -> "рубль"), overrides first."""
    got = _TABLES.get("one word")
    if got is None:
        abbreviations = _table("lemma_abbreviations.tsv")
        got = {words[0]: lemmas[0] for words, lemmas in abbreviations.items() if len(words) == 1}
        got = _TABLES["one word"] = {**got, **_table("lemma_overrides.tsv")}
    return got


def _first_normal_form() -> Callable[[str], str | None]:
    """The current analyzer's `_FirstNormalForm.normal_form`, made on first use.

    An analyzer that has no such shortcut gets a function that always says None (parse the word).
    """
    global _FIRST_NORMAL_FORM
    if _FIRST_NORMAL_FORM is None:
        forms = _FirstNormalForm.of(get_analyzer())
        _FIRST_NORMAL_FORM = _no_normal_form if forms is None else forms.normal_form
    return _FIRST_NORMAL_FORM


def _no_normal_form(word: str) -> None:
    return None


class _FirstNormalForm:
    """The normal form of pymorphy3's first parse of a word, without making Parse objects.

    For a word the dictionary knows, ``MorphAnalyzer.parse`` makes a Parse (tag, normal form, method
    stack) of every (paradigm, form) pair the dictionary gives, scores each by P(tag | word) and
    sorts them, stably, most likely first (all in dictionary order when no probability is known). Only the first normal
    form is wanted here: it is the normal form of the first pair with the highest P(tag | word), and
    finding it takes half the time. A word the dictionary does not know (a typo, a rare word, a
    number, Latin) goes through the guessing units as ``parse`` runs them, and only the first guess
    is kept. Initials ("А", which pymorphy3 also reads as an abbreviated name) give None: the caller
    parses them.
    """

    def __init__(self, morph: Any, initials: frozenset[str], guessers: list[tuple[Any, bool]]) -> None:
        dictionary = morph.dictionary
        self.words = dictionary.words
        self.substitutes = morph.char_substitutes  # "е" may stand for "ё"
        self.substituted = frozenset(key.decode("utf-8") for key in self.substitutes)
        self.paradigms = dictionary.paradigms
        self.tags = [str(tag) for tag in dictionary.gramtab]
        self.build_normal_form = dictionary.build_normal_form
        estimator = morph.prob_estimator
        self.p_t_given_w = None if estimator is None else estimator.p_t_given_w
        self.initials = initials
        self.guessers = guessers  # the units after the dictionary's group, in parse's order

    @classmethod
    def of(cls, morph: Any) -> "_FirstNormalForm | None":
        """The shortcut for ``morph``, or None unless it is a stock pymorphy3 analyzer.

        Stock means: parse not replaced, the standard probability estimator, and a first
        (terminal) group of units that is the dictionary followed by the initials units. Any other
        analyzer (a fake, a subclass, other units) is always asked through its own ``parse``.
        """
        import pymorphy3
        from pymorphy3.analyzer import ProbabilityEstimator
        from pymorphy3.units import (
            AbbreviatedFirstNameAnalyzer, AbbreviatedPatronymicAnalyzer, DictionaryAnalyzer,
        )

        if type(morph) is not pymorphy3.MorphAnalyzer or "parse" in vars(morph):
            return None
        if type(morph.prob_estimator) not in (type(None), ProbabilityEstimator):
            return None
        units = morph._units
        ends = [i for i, unit in enumerate(units) if unit.is_terminal]
        group = [unit.analyzer for unit in units[: ends[0] + 1]] if ends else []
        if not group or type(group[0]) is not DictionaryAnalyzer:
            return None
        initials_units = (AbbreviatedFirstNameAnalyzer, AbbreviatedPatronymicAnalyzer)
        if any(type(unit) not in initials_units for unit in group[1:]):
            return None
        initials = frozenset(letter for unit in group[1:] for letter in unit.letters)
        return cls(morph, initials, [(unit.analyzer, unit.is_terminal) for unit in units[ends[0] + 1:]])

    def normal_form(self, word: str) -> str | None:
        """The normal form of pymorphy3's first parse of ``word`` (None for an initial: parse it)."""
        if word in self.initials:
            return None
        word_lower = word.lower()
        items = self._similar_items(word_lower)
        if not items:
            return self._guess(word, word_lower)
        if len(items) == 1 and len(items[0][1]) == 1:
            fixed_word, ((para_id, idx),) = items[0]
            return self.build_normal_form(para_id, idx, fixed_word)
        probabilities = self._probabilities(word_lower)
        if not probabilities:  # parse keeps the dictionary's order: the first pair
            fixed_word, ((para_id, idx), *_) = items[0]
            return self.build_normal_form(para_id, idx, fixed_word)
        pairs = ((self._tag(para_id, idx), (para_id, idx, fixed_word))
                 for fixed_word, found in items for para_id, idx in found)
        return self.build_normal_form(*self._likeliest(probabilities, pairs))

    def _guess(self, word: str, word_lower: str) -> str | None:
        """The first guess of the units after the dictionary (numbers, Latin, hyphens, prefixes,
        suffixes by analogy), as ``parse`` ranks them, without making Parse objects of them all.

        ``parse`` keeps the units' order when no guess has a P(tag | word), which is the case for
        almost every word the dictionary lacks: then the first guess is final, and the costly
        suffix analogy after a prefix guess is skipped."""
        guesses: list = []
        seen: set = set()
        probabilities = None
        for unit, is_terminal in self.guessers:
            guesses.extend(unit.parse(word, word_lower, seen))
            if guesses and probabilities is None:
                probabilities = self._probabilities(word_lower)
            if guesses and (is_terminal or not probabilities):
                break
        if not guesses:
            return None
        return self._likeliest(probabilities, ((str(tag), form) for _, tag, form, *_ in guesses))

    def _similar_items(self, word_lower: str) -> list:
        """``words.similar_items(word_lower, substitutes)``, what pymorphy3 reads: [(the word with
        "ё" restored, [(paradigm, form index), ...]), ...]. A word with no "е" has no variants to
        try, so a plain look-up answers it at half the cost."""
        if self.substituted.isdisjoint(word_lower):
            pairs = self.words.get(word_lower)
            return [(word_lower, pairs)] if pairs else []
        return self.words.similar_items(word_lower, self.substitutes)

    def _tag(self, para_id: int, idx: int) -> str:
        paradigm = self.paradigms[para_id]
        return self.tags[paradigm[len(paradigm) // 3 + idx]]

    def _probabilities(self, word_lower: str) -> dict[str, int]:
        """P(tag | word) * 10**6 of each tag the estimator knows for the word ({} for most words)."""
        if self.p_t_given_w is None:
            return {}
        start = len(word_lower) + 1
        return {key[start:]: p for key, p in self.p_t_given_w.items(f"{word_lower}:")}

    @staticmethod
    def _likeliest(probabilities: dict[str, int], candidates: Any) -> Any:
        """The value of the first (tag, value) candidate with the highest P(tag | word): parse's
        stable sort by probability, or its order when no probability is known."""
        best, best_p = None, -1
        for tag, value in candidates:
            p = probabilities.get(tag, 0)
            if p > best_p:
                best, best_p = value, p
        return best


# -- the contextual path -----------------------------------------------------------------------

_NOMINAL = frozenset({"NOUN", "ADJF", "PRTF", "NPRO", "NUMR"})
_VERBAL = frozenset({"VERB", "INFN", "GRND", "PRTS", "ADJS", "PRED", "COMP"})
_FINITE = frozenset({"VERB", "INFN", "GRND"})
# subject pronoun -> (number, person, gender) its verb agrees with
_SUBJECT_FEATURES = {
    "я": ("sing", "1per", None), "ты": ("sing", "2per", None), "он": ("sing", "3per", "masc"),
    "она": ("sing", "3per", "femn"), "оно": ("sing", "3per", "neut"),
    "мы": ("plur", "1per", None), "вы": ("plur", "2per", None), "они": ("plur", "3per", None),
}
_SUBJECTS = frozenset(_SUBJECT_FEATURES)
_CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct", "voct", "gen2", "acc2", "loc2")
_NUMBERS = ("sing", "plur")
_GENDERS = ("masc", "femn", "neut")
_COPULAS = frozenset({"быть", "стать", "становиться", "являться", "казаться"})
# comparatives that are lemmas of their own when they are adverbs ("больше не буду")
_OWN_COMPARATIVES = frozenset({"больше", "меньше", "раньше", "позже", "дальше"})
# "стоит" is "стоить" with an infinitive, a price or "того"; otherwise "стоять"
_PRICE_WORDS = frozenset({"того", "денег", "дорого", "дешево", "копейки", "копейку", "сколько"})
_CLAUSE_ENDS = frozenset({",", ".", "!", "?", ";", ":", "-", "--", "—", "–", "...", "…", "(", ")"})


def _parses(word: str) -> tuple[_Parse, ...]:
    got = _PARSES.get(word)
    if got is None:
        out = []
        for p in get_analyzer().parse(word):
            grams = frozenset(str(p.tag).replace(" ", ",").split(","))
            pos = p.tag.POS or next(
                (g for g in ("PNCT", "NUMB", "LATN", "ROMN") if g in grams), "UNKN"
            )
            out.append(_Parse(str(pos), _fold(p.normal_form), float(p.score), grams))
        got = _PARSES[word] = tuple(out)
    return got


def _gram(p: _Parse, values: Sequence[str]) -> str | None:
    return next((g for g in values if g in p.grams), None)


def _agree(a: _Parse, b: _Parse) -> bool:
    """Do two nominal parses agree in case, number and (in the singular) gender?"""
    ca, cb = _gram(a, _CASES), _gram(b, _CASES)
    na, nb = _gram(a, _NUMBERS), _gram(b, _NUMBERS)
    if ca != cb or na != nb or ca is None:
        return False
    ga, gb = _gram(a, _GENDERS), _gram(b, _GENDERS)
    return na == "plur" or ga is None or gb is None or ga == gb or "Ms-f" in b.grams


def _subject_agrees(pronoun: str, verb: _Parse) -> bool:
    """Does a finite verb agree with a subject pronoun ("мы сели", "оно стекло")?"""
    number, person, gender = _SUBJECT_FEATURES[pronoun]
    if "indc" not in verb.grams or number not in verb.grams:
        return False
    if "past" in verb.grams:
        return number == "plur" or gender is None or gender in verb.grams
    return person in verb.grams


def _noun_follows(p: _Parse, nxt: Sequence[_Parse], pos: frozenset[str]) -> bool:
    return any(n.pos in pos and _agree(p, n) for n in nxt)


class _Sentence:
    """The words of one sentence with their parses, and the rules that read neighbours."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = [_fold(w) for w in words]
        self.raw = list(words)
        self.parses = [_parses(w) if w else () for w in self.words]

    def top(self, i: int) -> str:
        """pymorphy3's first POS for the word at i ('' outside the sentence)."""
        if 0 <= i < len(self.words) and self.parses[i]:
            return self.parses[i][0].pos
        return ""

    def word(self, i: int) -> str:
        return self.words[i] if 0 <= i < len(self.words) else ""

    def neighbour(self, i: int, step: int, skip: frozenset[str] = frozenset({"не"})) -> int:
        j = i + step
        while 0 <= j < len(self.words) and self.words[j] in skip:
            j += step
        return j

    def score(self, i: int, p: _Parse) -> float:
        s = p.score
        prev = self.word(i - 1)
        prev_parses = self.parses[i - 1] if i > 0 else ()
        next_parses = self.parses[i + 1] if i + 1 < len(self.words) else ()
        if self.top(i - 1) == "PREP":
            cases = _table("tagger_prepositions.tsv").get(prev)
            if p.pos in _NOMINAL:
                s *= 4.0 if cases is None or _gram(p, _CASES) in cases else 1.0
            elif p.pos in _VERBAL:
                s *= 0.05
        elif (self.top(i - 1) in ("ADJF", "PRTF") and p.pos in _FINITE | {"ADVB"}
              and self.parses[i - 1][0].lemma != "который"):  # "которым дам доступ"
            s *= 0.3
        if p.pos == "NOUN" and any(q.pos in ("ADJF", "PRTF") and _agree(q, p) for q in prev_parses):
            s *= 3.0
        if p.pos in ("ADJF", "PRTF") and _noun_follows(p, next_parses, frozenset({"NOUN"})):
            s *= 2.0
        if prev in _SUBJECTS and any(q.pos == "VERB" and _subject_agrees(prev, q)
                                     for q in self.parses[i]):
            # "оно стекло" is the verb "стечь", "мы сели" is "сесть"
            s *= 10.0 if p.pos == "VERB" and _subject_agrees(prev, p) else 0.3
        elif prev in _SUBJECTS or prev == "не":
            s *= 3.0 if p.pos in _VERBAL or p.pos in _FINITE else 0.5 if p.pos == "NOUN" else 1.0
        indicative = any(q.pos == "VERB" and "impr" not in q.grams for q in self.parses[i])
        if "impr" in p.grams and indicative:
            s *= 0.3  # "нашли" is "найти" far more often than the imperative of "наслать"
        if p.pos == "NOUN" and "ь" in self.words[i] and p.lemma.endswith("ие"):
            s *= 0.3  # "варенья" is "варенье", not the archaic "варение"
        if p.lemma == "стоить":
            j = self.neighbour(i, 1, frozenset({"не", "ли", "бы", "же"}))
            price = self.top(j) in ("INFN", "NUMB", "NUMR") or self.word(j) in _PRICE_WORDS
            s *= 3.0 if price or self.word(i - 1) in _PRICE_WORDS else 0.3
        return s

    def choose(self, i: int) -> _Parse:
        return max(self.parses[i], key=lambda p: self.score(i, p))

    def near_verb(self, i: int) -> bool:
        """Is a (non-copula) verb right before or after the word at i?"""
        skip = frozenset({"не", "все", "еще", "гораздо", "намного", "чуть", "бы"})
        for j in (self.neighbour(i, -1, skip), self.neighbour(i, 1, skip)):
            if 0 <= j < len(self.words) and self.top(j) in _FINITE:
                if self.parses[j][0].lemma not in _COPULAS:
                    return True
        return False

    def predicative(self, i: int) -> bool:
        """"всё отлично." or "мне нужно уйти": a short adjective as the predicate of a clause.

        The adverb reading wins whenever the clause (between punctuation marks) has a verb of its
        own other than a copula ("тщательно перемешать", "работает хорошо"); an infinitive is the
        subject of a predicative only after a dative or for words pymorphy3 calls PRED.
        """
        lo = i
        while lo > 0 and self.words[lo - 1] not in _CLAUSE_ENDS:
            lo -= 1
        hi = i
        while hi + 1 < len(self.words) and self.words[hi + 1] not in _CLAUSE_ENDS:
            hi += 1
        dative = self.top(i - 1) in ("NPRO", "NOUN") and "datv" in self.parses[i - 1][0].grams
        subject = self.top(i + 1) == "INFN" and (dative or self.parses[i][0].pos == "PRED")
        if not (hi == i or subject or self.word(i + 1) in ("что", "как", "ли")):
            return False  # "довольно обычная", "хорошо урегулированного": it modifies what follows
        for j in range(lo, hi + 1):
            if j == i or self.top(j) not in _FINITE or self.parses[j][0].lemma in _COPULAS:
                continue
            if not (subject and j == i + 1):
                return False
        return True

    def lemma(self, i: int, p: _Parse) -> str:
        """UD's lemma conventions on top of the chosen parse."""
        w = self.words[i]
        nxt = self.parses[i + 1] if i + 1 < len(self.words) else ()
        attributive = any(q.pos in ("NOUN", "ADJF", "PRTF") for q in nxt)
        if p.pos == "PREP":
            return w  # "со", "во", "об" are lemmas of their own
        if p.lemma == "должный" and p.pos == "ADJS":
            return "должен"
        if p.pos in ("ADVB", "PRED") and w.endswith("о"):
            adj = next((q for q in self.parses[i] if q.pos == "ADJS" and "neut" in q.grams
                        and q.lemma[-2:] in ("ый", "ий", "ой")), None)
            if adj is not None and self.predicative(i):
                return "должен" if adj.lemma == "должный" else adj.lemma
        if p.pos == "COMP" and self.near_verb(i):
            return w if w in _OWN_COMPARATIVES else _adverb(p.lemma)
        if p.pos == "INFN" and p.lemma == "есть":
            j = self.neighbour(i, -1)
            governed = self.top(j) in ("VERB", "INFN", "PRED") or self.word(j) == "нечего"
            return "есть" if governed else "быть"
        if p.lemma in ("весь", "все") and w != "весь":
            noun = any(q.pos in ("NOUN", "ADJF", "PRTF") and _agree(_as_adj(self.parses[i], q), q)
                       for q in nxt)
            return "весь" if noun else "все"
        if p.lemma == "тот" or (w in ("тем", "том", "того", "тому") and p.pos == "CONJ"):
            if attributive:
                return "тот"
            return "то" if w in ("то", "того", "тому", "тем", "том") else "тот"
        if w == "это" and nxt and nxt[0].pos == "NOUN" and "neut" in nxt[0].grams:
            return "этот"
        if w in ("его", "ее", "их"):
            return w if attributive or self.top(i - 1) == "PREP" else p.lemma
        if w in ("нем", "ним") and self.top(i - 1) == "PREP":
            return "он"
        if w == "чем":
            before = [self.top(j) for j in range(max(0, i - 4), i)]
            if self.top(i - 1) == "PREP" or not ("COMP" in before or self.top(i - 1) == "PNCT"):
                return "что"
            return "чем"
        return p.lemma


def _as_adj(parses: Sequence[_Parse], noun: _Parse) -> _Parse:
    """The attributive parse of "всего" that agrees with ``noun``, if there is one."""
    return next((p for p in parses if p.pos == "ADJF" and _agree(p, noun)), parses[0])


def _adverb(adjective: str) -> str:
    """The adverb of a qualitative adjective: "частый" -> "часто", "хороший" -> "хорошо"."""
    for end in ("ый", "ий", "ой"):
        if adjective.endswith(end):
            stem = adjective[: -len(end)]
            return stem + ("е" if stem[-1:] in "жчщц" else "о")
    return adjective


def _abbreviations(words: list[str], raw: Sequence[str]) -> dict[int, str]:
    """Lemmas of abbreviations in the sentence, by position ("т. е." -> "то", "быть")."""
    table = _table("lemma_abbreviations.tsv")
    longest = max(len(k) for k in table)
    out: dict[int, str] = {}
    i = 0
    while i < len(words):
        token = raw[i]
        for n in range(min(longest, len(words) - i), 0, -1):
            if n == 1 and len(token) == 2 and token[1] == "." and token[0].isupper():
                out[i] = words[i][0]  # an initial: "А. С. Пушкин", not "в." (век)
                i += 1
                break
            lemmas = table.get(tuple(words[i: i + n]))
            if lemmas is not None and len(lemmas) == n:
                out.update(zip(range(i, i + n), lemmas))
                i += n
                break
        else:
            i += 1
    return out


def _year_or_gram(sentence: _Sentence, i: int) -> str | None:
    """"2020 г." is a year, "200 г" is grams."""
    if sentence.words[i] not in ("г", "г.") or i == 0 or not sentence.words[i - 1].isdigit():
        return None
    return "год" if 1000 <= int(sentence.words[i - 1]) <= 2100 else "грамм"


def lemmatize(words: Iterable[str]) -> list[str]:
    """Exactly one lemma per input word, lower case, ё -> е; the words are read as one sentence.

    No stop words are removed and "не" is not merged: that is preprocessing's business.
    """
    many(words, "words")
    words = list(words)
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise InputError(f"word {i + 1} is {type(w).__name__}, not a string: lemmatize takes words as strings")
    sentence = _Sentence(words)
    overrides = _table("lemma_overrides.tsv")
    abbreviations = _abbreviations(sentence.words, words)
    out = []
    for i, w in enumerate(sentence.words):
        fixed = overrides.get(w) or _year_or_gram(sentence, i) or abbreviations.get(i)
        if fixed is not None:
            out.append(fixed)
        elif not sentence.parses[i]:
            out.append(w)
        else:
            out.append(sentence.lemma(i, sentence.choose(i)))
    return out
