"""The preprocessing chain, prepare's statuses, stop words and the scikit-learn contract."""
import math
import pickle
from decimal import Decimal

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from cxtext.errors import InputError
from cxtext.preprocess import (
    MAX_CHARS,
    Prepared,
    TextPreprocessor,
    default_stop_words,
    prepare,
    prepare_many,
    preprocess,
    tokenize,
)

MEANINGFUL = "не нет ни без все весь хорошо плохо очень еще уже опять снова спасибо никогда всегда почему".split()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Не работает приложение", "не_работать приложение"),
        ("ни разу не дозвонился", "ни_раз не_дозвониться"),
        ("нет связи", "нет_связь"),
        ("без ответа уже неделю", "без_ответ уже неделя"),
        ("не было связи", "не_связь"),  # the negation waits past stop words
        ("нет, спасибо", "нет спасибо"),  # punctuation ends a negation
        ("не не", "не не"),
        ("Спасибо, всё хорошо!", "спасибо все хорошо"),
        ("опять снова плохо", "опять снова плохо"),
        ("очень долго ждал", "очень долго ждать"),
        ("не 5 раз", "не <num> раз"),  # placeholders are never joined
        ("Всё супер)))", "все супер emo_happy"),
        ("ужас 😡😡", "ужас emo_angry"),
        ("карта 4276 3800 1234 5679 заблокирована", "карта <card> заблокировать"),
        ("Перезвоните на +7 912 345-67-89", "перезвонить <phone>"),
        ("ссылка https://bank.ru/x", "ссылка <url>"),
        ("Клиент: не могу войти\nОператор: уточните номер", "не_мочь войти"),
        ("", ""),
    ],
)
def test_preprocess(text, expected):
    assert preprocess(text) == expected


@pytest.mark.parametrize("word", MEANINGFUL)
def test_stop_words_keep_what_feedback_means(word):
    assert word not in default_stop_words()


def test_stop_words_can_be_overridden():
    assert preprocess("я позвонил в банк") == "позвонить банк"
    assert preprocess("я позвонил в банк", stop_words=set()) == "я позвонить в банк"
    assert preprocess("я позвонил в банк", stop_words=default_stop_words() | {"банк"}) == "позвонить"
    # negations are never stop words, even when listed
    assert preprocess("не работает", stop_words={"не"}) == "не_работать"


def test_tokenize_keeps_placeholders_emoji_and_hyphens():
    assert tokenize("какой-то <num> emo_sad, wi-fi.") == ["какой-то", "<num>", "emo_sad", ",", "wi-fi", "."]


@pytest.mark.parametrize("value", [True, b"\xff\xfe", [1], {}, object(), float("inf")])
def test_prepare_not_text(value):
    assert prepare(value) == Prepared("", "", "", "not text")


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_a_missing_value_is_an_empty_text_as_an_empty_csv_cell_is(value):
    assert prepare(value) == Prepared("", "", "", "empty text")


@pytest.mark.parametrize("value, digits", [(3, "3"), (5.0, "5"), (2.5, "2.5"), (Decimal("10"), "10"), (np.int64(7), "7")])
def test_a_number_reads_as_its_digits_as_in_a_csv_cell(value, digits):
    assert prepare(value) == prepare(digits) and prepare(value).status == "ok"


def test_prepare_binary_junk_is_not_text():
    assert prepare("\x00\x01\x02abc\x00").status == "not text"
    assert prepare(bytes(range(256))).status == "not text"


@pytest.mark.parametrize("value", ["", "   ", "\n\t", b""])
def test_prepare_empty(value):
    assert prepare(value).status == "empty text"


def test_prepare_fields():
    got = prepare("Клиент: Карта 4276 3800 1234 5679 НЕ работает!!!\nОператор: ок")
    assert got.status == "ok"
    assert got.masked == "Карта <CARD> НЕ работает!!!"
    assert got.text == "карта <card> не работает!"
    assert got.features == "карта <card> не_работать"


def test_prepare_utf8_bytes_and_turn_lists():
    assert prepare("не работает".encode()).features == "не_работать"
    turns = [{"role": "client", "text": "нет связи"}, {"role": "agent", "text": "перезагрузите"}]
    assert prepare(turns).features == "нет_связь"


def test_long_text_is_cut_and_reported():
    got = prepare("плохо " * 1_000_000)  # 6 MB
    assert got.status == "truncated"
    assert len(got.masked) <= MAX_CHARS
    assert got.features.startswith("плохо плохо")


def test_cut_never_leaves_half_a_card():
    card = "4276 3800 1234 5679"
    text = "а" * (MAX_CHARS - 10) + " " + card + " конец"
    got = prepare(text)
    assert got.status == "truncated"
    assert "4276" not in got.masked and "3800" not in got.masked


def test_prepare_many_matches_prepare():
    values = ["Спасибо", "Спасибо", None, "нет связи", b"\xff", 5]
    assert prepare_many(values) == [prepare(v) for v in values]


def test_preprocess_rejects_non_text_with_a_fix():
    with pytest.raises(InputError, match="expects a str.*prepare"):
        preprocess(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        preprocess(b"bytes")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_preprocess_and_prepare_never_raise(text):
    assert isinstance(preprocess(text), str)
    got = prepare(text)
    assert got.status in {"ok", "empty text", "not text", "truncated"}


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.booleans(), st.lists(st.dictionaries(st.text(), st.text()))))
def test_prepare_never_raises_on_anything(value):
    assert isinstance(prepare(value), Prepared)


# --- the scikit-learn contract --------------------------------------------------------------------

TEXTS = [
    "Не работает приложение, ошибка при входе",
    "Приложение вылетает, не могу войти",
    "Спасибо, всё отлично, оператор помог",
    "Очень вежливый оператор, спасибо",
    "Нет связи третий день",
    "Связь пропадает постоянно, нет сети",
]
LABELS = ["app", "app", "thanks", "thanks", "network", "network"]


def test_transform_gives_one_string_per_value():
    values = [TEXTS[0], None, float("nan"), 7, b"\xff", "", "нет связи"]
    got = TextPreprocessor().fit_transform(values)
    assert got == ["не_работать приложение ошибка вход", "", "", "<num>", "", "", "нет_связь"]  # 7 reads as "7"
    assert TextPreprocessor(output="text").transform(["НЕТ связи!!!"]) == ["нет связи!"]
    assert TextPreprocessor(output="masked").transform(["тел 89123456789"]) == ["тел <PHONE>"]


@pytest.mark.parametrize(
    "column",
    [pd.Series(TEXTS), pd.DataFrame({"comment": TEXTS}), np.array(TEXTS, dtype=object), np.array(TEXTS)[:, None], tuple(TEXTS)],
    ids=["series", "frame", "array", "column", "tuple"],
)
def test_transform_accepts_columns(column):
    assert TextPreprocessor().transform(column) == [preprocess(t) for t in TEXTS]


@pytest.mark.parametrize("bad", ["один текст", pd.DataFrame({"a": ["x"], "b": ["y"]})])
def test_transform_rejects_wrong_shapes(bad):
    with pytest.raises(InputError):
        TextPreprocessor().transform(bad)


def test_bad_output_fails_on_fit_not_init():
    step = TextPreprocessor(output="lemmas")
    with pytest.raises(InputError, match="features, text, masked"):
        step.fit(TEXTS)


def test_clone_and_params_round_trip():
    step = TextPreprocessor(output="text", stop_words=("банк",))
    assert step.get_params() == {"output": "text", "stop_words": ("банк",)}
    twin = clone(step)
    assert twin is not step and twin.get_params() == step.get_params()
    twin.set_params(output="features")
    assert twin.output == "features" and step.output == "text"


def test_pickle_and_joblib_give_identical_output(tmp_path):
    step = TextPreprocessor().fit(TEXTS)
    path = tmp_path / "step.joblib"
    joblib.dump(step, path)
    assert joblib.load(path).transform(TEXTS) == step.transform(TEXTS)
    assert pickle.loads(pickle.dumps(step)).transform(TEXTS) == step.transform(TEXTS)


def test_pipeline_and_grid_search(tmp_path):
    pipe = Pipeline(
        [
            ("prep", TextPreprocessor()),
            ("tfidf", TfidfVectorizer(token_pattern=r"\S+")),
            ("model", LogisticRegression(max_iter=200)),
        ]
    )
    pipe.fit(TEXTS, LABELS)
    assert list(pipe.predict(["приложение не работает", "нет связи"])) == ["app", "network"]
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    assert list(joblib.load(path).predict(TEXTS)) == list(pipe.predict(TEXTS))

    search = GridSearchCV(pipe, {"prep__output": ["features", "text"]}, cv=2)
    search.fit(TEXTS, LABELS)
    assert search.best_params_["prep__output"] in {"features", "text"}


def test_nan_is_not_text_even_inside_a_frame():
    frame = pd.DataFrame({"comment": ["нет связи", None, math.nan]})
    assert TextPreprocessor().transform(frame) == ["нет_связь", "", ""]


_SIMPLE_ALPHABET = "аеёоыйъяАЕЁОЙЯ .,!?-\t\n\r"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_SIMPLE_ALPHABET))
def test_simple_texts_take_a_shortcut_to_the_same_result(text):
    # _simple_steps skips transcript, junk, masking and most of normalisation for such texts
    from cxtext.mask import mask_text
    from cxtext.normalize import normalize
    from cxtext.preprocess import _features, _simple_steps, _simple_tokens

    stop = default_stop_words()
    masked = mask_text(text)
    normal = normalize(masked)
    if text.strip():
        assert _simple_steps(text, stop) == (_features(normal, stop), normal, masked, "ok")
    assert _simple_tokens(normal) == tokenize(normal)


def test_the_dictionary_shortcut_does_not_change_any_feature_string(monkeypatch):
    """preprocess with lemmatize's dictionary shortcut equals preprocess with pymorphy3's parse."""
    import importlib
    from pathlib import Path

    from cxtext.preprocess import clear_cache

    lm = importlib.import_module("cxtext.lemmatize")
    lines = (Path(__file__).parent / "bench" / "feedback_ru.txt").read_text(encoding="utf-8").splitlines()
    texts = [line for line in lines if line and not line.startswith("#")]
    texts += ["Всё ОК, ёлки! ЗВОНИЛ 3 раза, не дозвонился :(", "А. С. Пушкин не отвечает", "смс-ку не прислали"]
    lm.set_analyzer(lm.get_analyzer())  # empty caches; the stock analyzer has the shortcut
    clear_cache()
    fast = [preprocess(t) for t in texts]
    assert lm._FIRST_NORMAL_FORM not in (None, lm._no_normal_form)
    lm._CACHE.clear()
    clear_cache()
    monkeypatch.setattr(lm, "_FIRST_NORMAL_FORM", lm._no_normal_form)  # every word parsed
    try:
        assert [preprocess(t) for t in texts] == fast
    finally:
        lm._CACHE.clear()
        clear_cache()


def test_a_sentence_pasted_again_and_again_reads_as_said_once():
    once = prepare("Ужасный сервис, больше никогда к вам не приду.")
    pasted = prepare(" ".join(["Ужасный сервис, больше никогда к вам не приду."] * 20))
    assert pasted.features == once.features and pasted.text == once.text
    assert pasted.masked.count("Ужасный") == 20  # what the customer wrote is kept as written
    short = prepare(" ".join(["Не работает."] * 20))  # two words again and again: emphasis, kept
    assert short.text.count("не работает") == 20


@pytest.mark.parametrize("line", ["Не работает приложение", "Не работает приложение 😡", "не работает приложение!!"])
def test_a_line_pasted_again_and_again_reads_as_said_once(line):
    once = prepare(line)
    assert prepare("\n".join([line] * 20)).features == once.features
    assert prepare("\r\n".join([line] * 20) + "\n").features == once.features


def test_a_long_call_is_split_into_turns_before_it_is_cut():
    hold = "\n".join(["Оператор: оставайтесь на линии, ваш звонок очень важен для нас"] * 1300)
    call = f"Клиент: вопрос по карте\n{hold}\nКлиент: требую вернуть деньги за двойное списание"
    assert len(call) > MAX_CHARS
    done = prepare(call)
    assert done.status == "ok" and "вернуть деньги" in done.text and "оставайтесь" not in done.text


def test_a_long_call_with_no_customer_turn_goes_to_review_though_cut():
    hold = "\n".join(["Оператор: оставайтесь на линии, ваш звонок очень важен для нас"] * 400)
    call = f"{hold}\nБот: оцените разговор"
    assert len(call) > MAX_CHARS and prepare(call).status == "no customer turn"


@pytest.mark.parametrize("cell", ["NaN", "nan", "NULL", "None", "N/A", "#N/A", "н/д", "-", " — "])
def test_what_exports_write_for_an_empty_cell_is_an_empty_text(cell):
    assert prepare(cell).status == "empty text"


def test_a_short_answer_is_no_empty_cell():
    assert prepare("нет").status == "ok" and prepare("Na-na").status == "ok"


def test_a_transcript_without_turns_is_an_empty_text_as_in_the_service():
    assert prepare([]).status == "empty text" and prepare([1, 2]).status == "not text"
