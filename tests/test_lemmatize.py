"""cxtext.lemmatize: the fast per-word path, the contextual path, overrides, laziness, injection."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import importlib

import pandas as pd
import pytest

from cxtext.errors import InputError

lm = importlib.import_module("cxtext.lemmatize")  # the package exports a function of the same name


@pytest.fixture(scope="session")
def morph():
    return lm.get_analyzer()


@pytest.fixture(autouse=True)
def real_analyzer(morph):
    # Every test starts from the real analyzer and empty caches, whatever the previous one did.
    lm.set_analyzer(morph)
    yield
    lm.set_analyzer(morph)


# -- the fast path ----------------------------------------------------------------------------

OVERRIDES = [
    ("приложуха", "приложуха"),  # pymorphy3: "приложух"
    ("приложуху", "приложуха"),
    ("кц", "кц"),
    ("смс", "смс"),
    ("смска", "смс"),
    ("смс-ку", "смс"),  # pymorphy3: an interjection
    ("пвз", "пвз"),
    ("лк", "лк"),
    ("сбп", "сбп"),
    ("госуслуги", "госуслуги"),
    ("госуслугах", "госуслуги"),
    ("сбера", "сбер"),
    ("тинькофф", "тинькофф"),
    ("тинька", "тинькофф"),
    ("мтс", "мтс"),
    ("билайне", "билайн"),
    ("мегафон", "мегафон"),
    ("теле2", "теле2"),
    ("вайлдберриз", "вайлдберриз"),
    ("вб", "вайлдберриз"),
    ("озоне", "озон"),
    ("авито", "авито"),  # pymorphy3: a participle of "авить"
    ("норм", "норм"),  # pymorphy3: "норма"
    ("оч", "очень"),
    ("щас", "сейчас"),
    ("ваще", "вообще"),  # pymorphy3: "ващий"
    ("пуши", "пуш"),  # pymorphy3: the verb "пушить"
    ("задолбали", "задолбать"),
    ("денег", "деньги"),  # pymorphy3: "деньга"
    ("задолбало", "задолбать"),
    ("руб", "рубль"),
    ("тыс.", "тысяча"),
]


@pytest.mark.parametrize(("word", "expected"), OVERRIDES)
def test_lemma_fast_path_uses_the_domain_overrides(word, expected):
    assert lm.lemma(word) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("работает", "работать"), ("приложения", "приложение"), ("елки", "елка"), ("123", "123")],
)
def test_lemma_fast_path_falls_back_to_the_first_parse(word, expected):
    assert lm.lemma(word) == expected


def test_lemma_is_cached():
    lm.lemma("операторы")
    assert lm._CACHE["операторы"] == "оператор"


def _varied_words(morph) -> list[str]:
    """Several thousand words of every shape lemma() meets, built from the dictionary at test time."""
    import random
    from itertools import islice, product

    rng = random.Random(3)
    forms = []
    for prefix in ("вс", "ст", "пере", "при", "об", "е", "ё", "за", "он", "мо", "кни", "до"):
        forms += [p.word for p in islice(morph.iter_known_word_parses(prefix), 300)]
    forms = sorted(set(forms))
    letters = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    words = list(forms)
    words += [f.replace("ё", "е") for f in forms if "ё" in f]  # ё typed as е
    words += ["".join(t) for n in (1, 2) for t in product(letters, repeat=n)]
    words += rng.sample(["".join(t) for t in product(letters, repeat=3)], 1500)
    words += list(letters.upper()) + [w.capitalize() for w in rng.sample(forms, 300)]  # initials
    words += [w.upper() for w in rng.sample(forms, 100)]

    def typo(w: str) -> str:
        i = rng.randrange(len(w))
        return w[:i] + rng.choice(letters) + w[i + 1:] if rng.random() < 0.5 else w[:i] + w[i + 1:]

    words += [typo(w) for w in rng.sample(forms, 400) if len(w) > 3]
    words += [f"{a}-{b}" for a, b in zip(rng.sample(forms, 200), rng.sample(forms, 200))]
    words += [f"{w}-{p}" for w, p in zip(rng.sample(forms, 120), ["то", "ка", "таки", "нибудь"] * 30)]
    words += ["кто-то", "из-за", "по-моему", "смс-ку", "wi-fi", "чат-бот", "сим-карту"]
    words += ["pdf", "iphone", "hello", "x", "123", "4.5", "2-х", "5-ти", "теле2", "v2", "х5"]
    words += ["", " ", "-", "—", "...", "ё", "Ё", "ёё", "\x00", "а\x01", "\u0301"]
    return words


def test_the_dictionary_shortcut_gives_the_first_parse_s_normal_form(morph):
    forms = lm._FirstNormalForm.of(morph)
    assert forms is not None
    words = _varied_words(morph)
    assert len(words) > 5000
    known = 0
    for word in words:
        got = forms.normal_form(word)
        if got is not None:
            known += 1
            assert got == morph.parse(word)[0].normal_form, word
        assert lm._new_lemma(word) == lm._fold(morph.parse(word)[0].normal_form) or word in lm._one_word_lemmas()
    assert known > len(words) / 2  # the shortcut is taken, not skipped


def test_the_shortcut_leaves_initials_to_parse_and_guesses_unknown_words_as_parse_does(morph):
    forms = lm._FirstNormalForm.of(morph)
    assert forms.normal_form("А") is None  # also an abbreviated first name or patronymic
    for unknown in ("превед", "wi-fi", "приложуха", "зделали", "123"):
        assert forms.normal_form(unknown) == morph.parse(unknown)[0].normal_form
    assert forms.normal_form("ежик") == "ёжик"
    assert forms.normal_form("стали") == morph.parse("стали")[0].normal_form


def test_the_dictionary_shortcut_is_only_for_stock_analyzers(morph):
    import pymorphy3

    class Subclass(pymorphy3.MorphAnalyzer):
        pass

    assert lm._FirstNormalForm.of(FakeAnalyzer()) is None
    assert lm._FirstNormalForm.of(object.__new__(Subclass)) is None
    patched = pymorphy3.MorphAnalyzer.__new__(pymorphy3.MorphAnalyzer)
    patched.__dict__.update(vars(morph), parse=lambda word: [])
    assert lm._FirstNormalForm.of(patched) is None
    no_initials = pymorphy3.MorphAnalyzer.__new__(pymorphy3.MorphAnalyzer)
    no_initials.__dict__.update(vars(morph), _units=morph._units[3:])  # numbers first
    assert lm._FirstNormalForm.of(no_initials) is None


def test_an_injected_analyzer_is_asked_even_for_dictionary_words():
    fake = FakeAnalyzer()
    lm.set_analyzer(fake)
    assert lm.lemma("работает") == "lemma-работает"
    assert fake.calls == 1


# -- the contextual path ----------------------------------------------------------------------

SENTENCES = [
    # ё folded, lower-cased, one lemma per word
    ("Ёлка и её игрушки", ["елка", "и", "ее", "игрушка"]),
    ("Не работает приложуха", ["не", "работать", "приложуха"]),
    ("задолбали смс-ки от Сбера", ["задолбать", "смс", "от", "сбер"]),
    # a word after a preposition is a noun phrase; after a subject pronoun, an agreeing verb
    ("в стекло попал камень", ["в", "стекло", "попасть", "камень"]),
    ("оно стекло на пол", ["оно", "стечь", "на", "пол"]),
    ("мы сели в поезд", ["мы", "сесть", "в", "поезд"]),
    # UD conventions
    ("во время звонка", ["во", "время", "звонок"]),
    ("со счета", ["со", "счет"]),
    ("его машина сломалась", ["его", "машина", "сломаться"]),
    ("я видел его", ["я", "видеть", "он"]),
    ("все деньги списали", ["весь", "деньги", "списать"]),
    ("все работает", ["все", "работать"]),
    ("мне интересно", ["я", "интересный"]),
    ("интересно работает", ["интересно", "работать"]),
    ("оператор должен перезвонить", ["оператор", "должен", "перезвонить"]),
    ("у меня есть карта", ["у", "я", "быть", "карта"]),
    ("хочу есть", ["хотеть", "есть"]),
    ("стоит 500 рублей", ["стоить", "500", "рубль"]),
    ("стоит попробовать", ["стоить", "попробовать"]),
    ("он стоит у двери", ["он", "стоять", "у", "дверь"]),
    ("звонят чаще", ["звонить", "часто"]),
    ("нашли ошибку", ["найти", "ошибка"]),
    # abbreviations
    ("т. е. все норм", ["то", "быть", "все", "норм"]),
    ("и т. д.", ["и", "так", "далее"]),
    ("в 2020 г.", ["в", "2020", "год"]),
    ("200 г муки", ["200", "грамм", "мука"]),
    ("А. С. Пушкин", ["а", "с", "пушкин"]),
]


@pytest.mark.parametrize(("text", "expected"), SENTENCES)
def test_lemmatize_reads_the_sentence(text, expected):
    assert lm.lemmatize(text.split()) == expected


@pytest.mark.parametrize(
    "words",
    [[], [""], ["", "работает", ""], ["!!!", ",", "."], ["123", "4.5", "2-х"], ["https://x.ru"],
     ["Hello", "world"], ["😀"], ["-", "—"]],
)
def test_lemmatize_gives_one_lower_case_lemma_per_word(words):
    got = lm.lemmatize(words)
    assert len(got) == len(words)
    assert all(isinstance(g, str) and g == g.lower() and "ё" not in g for g in got)


def test_lemmatize_keeps_negation_and_stop_words():
    assert lm.lemmatize(["не", "и", "а"]) == ["не", "и", "а"]


# -- laziness and injection -------------------------------------------------------------------


def test_import_builds_nothing():
    code = (
        "import sys, importlib; m = importlib.import_module('cxtext.lemmatize');"
        "assert m._ANALYZER is None and not m._TABLES;"
        "assert 'pymorphy3' not in sys.modules, 'pymorphy3 imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


class _Tag:
    def __init__(self, pos, text):
        self.POS = pos
        self._text = text

    def __str__(self):
        return self._text


class FakeAnalyzer:
    """Answers every word with one noun parse whose lemma is "lemma-" + the word."""

    def __init__(self):
        self.calls = 0

    def parse(self, word):
        self.calls += 1
        return [SimpleNamespace(normal_form=f"lemma-{word}", score=1.0,
                                tag=_Tag("NOUN", "NOUN,inan,masc sing,nomn"))]


def test_an_injected_analyzer_is_used_and_cached():
    fake = FakeAnalyzer()
    lm.set_analyzer(fake)
    assert lm.get_analyzer() is fake
    assert lm.lemma("тест") == "lemma-тест"
    assert lm.lemma("тест") == "lemma-тест"
    assert lm.lemmatize(["тест", "кц"]) == ["lemma-тест", "кц"]  # overrides still win
    calls = fake.calls
    assert lm.lemmatize(["тест", "кц"]) == ["lemma-тест", "кц"]
    assert fake.calls == calls  # the parses are cached too


def test_set_analyzer_none_rebuilds_lazily(morph):
    lm.set_analyzer(None)
    assert lm._ANALYZER is None
    assert lm.lemma("звонки") == "звонок"
    assert lm._ANALYZER is not None


# -- the dictionary shortcut on a cache miss ---------------------------------------------------

def _awkward_words(morph, n_forms: int = 4000) -> list[str]:
    """Dictionary forms of many lexemes plus the words that could trip a shortcut: ё typed or
    not, initials and other short words, hyphens, typos, capitals, Latin, digits."""
    import random
    from itertools import islice

    rng = random.Random(3)
    forms = [p.word for prefix in ("пр", "за", "не", "по", "сч", "ёл", "об", "ж", "у", "к")
             for p in islice(morph.iter_known_word_parses(prefix), n_forms // 10)]
    letters = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    typos = [w[:i] + rng.choice(letters) + w[i + 1:] for w in rng.sample(forms, 600)
             for i in [rng.randrange(len(w))]]
    short = list(letters) + [a + b for a in "аеоня" for b in letters]
    odd = ["все", "всё", "еще", "ещё", "ее", "её", "елка", "мед", "темно", "кто-то", "из-за", "интернет-банк",
           "сбер", "смс-ка", "ok", "iphone", "2fa", "123", "x5", "т.к", "-", "ё"]
    return forms + [w.replace("ё", "е") for w in forms if "ё" in w] + typos + short + odd + [
        w.capitalize() for w in forms[:300]]


def test_a_new_word_gets_exactly_the_first_parse(morph):
    # lemma() skips building pymorphy3's Parse objects for dictionary words: its answer must still
    # be the normal form of parse(word)[0] (ё folded) for every kind of word
    words = _awkward_words(morph)
    assert len(words) > 4000
    shortcut = lm._first_normal_form()
    wrong = []
    for word in words:
        expected = lm._fold(morph.parse(word)[0].normal_form)
        got = shortcut(word)
        if got is not None and lm._fold(got) != expected:
            wrong.append((word, got, expected))
    assert wrong == []
    assert sum(shortcut(w) is not None for w in words) > 0.8 * len(words)  # the shortcut is taken


def test_an_injected_analyzer_never_takes_the_shortcut():
    fake = FakeAnalyzer()
    lm.set_analyzer(fake)
    assert lm._first_normal_form()("звонки") is None
    assert lm.lemma("звонки") == "lemma-звонки"


def test_lemmatize_takes_any_sequence_of_words_and_refuses_what_is_not_one():
    assert lm.lemmatize(pd.Series(["ипотеку", "одобрили"], index=[10, 11])) == ["ипотека", "одобрить"]
    assert lm.lemmatize(w for w in ["ипотеку"]) == ["ипотека"]
    with pytest.raises(InputError, match="one string; wrap it in a list"):
        lm.lemmatize("ипотеку одобрили")
    with pytest.raises(InputError, match="word 2 is NoneType"):
        lm.lemmatize(["ипотеку", None])
