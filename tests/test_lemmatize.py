"""cxtext.lemmatize: the fast per-word path, the contextual path, overrides, laziness, injection."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

import importlib

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
