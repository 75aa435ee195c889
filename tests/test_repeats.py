import pandas as pd
import pytest

from cxtext.repeats import RepeatHistory, says_repeat, says_repeat_many


@pytest.mark.parametrize("text, expected", [
    ("звоню уже третий раз", True),
    ("Повторно обращаюсь по поводу списания", True),
    ("опять та же проблема с приложением", True),
    ("уже писал вам на прошлой неделе", True),
    ("это уже пятая заявка!", True),
    ("после многочисленных звонков на горячую линию", True),
    ("История повторяется, платеж не прошел", True),
    ("обращаюсь не первый раз", True),
    ("всё отлично, спасибо", False),
    ("первый раз заказываю, понравилось", False),
    ("обещали перезвонить 3 раза и пропали", True),
    ("позвонила 11 раз, писала в чат", True),
    ("я несколько раз вежливо отказался", False),  # "сколько раз" inside "несколько" is no cue
    ("основа тарифа: 10 гигабайт и звонки", False),  # "снова" inside a word is no cue
    ("в роуминге связь хуже звонил через вайбер", False),  # nor "хуже звонил" an "уже звонил"
    ("", False),
])
def test_repeat_cues_in_text(text, expected):
    assert says_repeat(text) is expected


def test_a_batch_finds_the_same_cues_as_one_text_at_a_time():
    texts = ["всё отлично", "Звоню УЖЕ третий раз", "", "спасибо, опять", "основа тарифа", "ЁЩЁ повторно"] * 3
    assert says_repeat_many(texts) == [says_repeat(t) for t in texts]
    assert says_repeat_many([]) == []
    assert says_repeat_many(pd.Series(["x", "опять"], index=[1, 0])) == [False, True]  # by position, not label


def test_every_example_of_the_cue_file_is_found_in_a_batch():
    from importlib import resources

    lines = resources.files("cxtext").joinpath("data/repeat_cues.txt").read_text("utf-8").splitlines()
    examples = [e.strip() for line in lines if "  #" in line and not line.startswith("#")
                for e in line.split("  #", 1)[1].split(";")]
    decoys = ["сразу всё понятно", "это лучший банк", "звонок был коротким", "образ жизни"]
    assert len(examples) >= 20 and all(says_repeat(e) for e in examples)
    assert says_repeat_many(decoys + examples) == [False] * len(decoys) + [True] * len(examples)


@pytest.mark.parametrize("pattern, anchors", [
    (r"(?:снова|опять)\b|в\s+(?:очередной|который)\s+раз", [{"снова", "опять", "очередной", "который"}]),
    (r"(?:по|пере)?звон\w*\s+\d+\s*раз", [{"звон"}, {"раз"}]),  # an optional part holds nothing for sure
    (r"(?:уже|это)\s+пят\w+\s+заявк", [{"уже", "это"}, {"пят"}, {"заявк"}]),
    (r"\d+\s*раз|снова", [{"раз", "снова"}]),
    (r"\d+|снова", []),  # a match may hold only digits: no anchor, every text is searched
])
def test_every_match_of_a_cue_holds_a_word_of_each_anchor_set(pattern, anchors):
    from re import _parser

    from cxtext.repeats import _required

    assert _required(_parser.parse(pattern).data) == anchors


def test_a_cue_never_spans_two_texts_of_a_batch():
    # "уже" ends one text, "звонил" starts the next: together they would read "уже звонил"
    assert says_repeat_many(["я уже", "звонил вчера", "сколько", "можно"]) == [False] * 4
    # a NUL inside a text does not shift which text a cue is found in
    assert says_repeat_many(["a\x00b", "тест", "опять не работает"]) == [False, False, True]
    # a lone surrogate ("\ud800", from JSON or a Python caller) is searched like any character
    assert says_repeat_many(["опять \ud800", "x"]) == [True, False]
    # lower-casing "İ" gives two characters, which would shift every later text
    assert says_repeat_many(["İİİ опять", "всё хорошо", "снова"]) == [True, False, True]


def test_history_marks_a_later_contact_on_the_same_topic_within_the_window():
    history = RepeatHistory(window_days=30)
    marks = history.mark(
        ["c1", "c1", "c2", "c1", "c1"],
        ["2026-01-01", "2026-01-10", "2026-01-02", "2026-03-01", "2026-03-05"],
        [["payments"], ["payments", "app_website"], ["payments"], ["payments"], ["delivery"]],
    )
    # second c1 contact on payments within 9 days; March is outside the window; delivery is a new topic
    assert marks == [False, True, False, False, False]


def test_history_carries_across_calls_and_sorts_within_a_batch():
    history = RepeatHistory(window_days=30)
    assert history.mark(["a", "a"], ["2026-02-05", "2026-02-01"], [["speed"], ["speed"]]) == [True, False]
    assert history.mark(["a"], ["2026-02-20"], [["speed"]]) == [True]


def test_history_ignores_missing_customer_or_time():
    history = RepeatHistory()
    assert history.mark([None, "a", "a"], ["2026-01-01", None, "not a date"], [["x"], ["x"], ["x"]]) == [False] * 3


def test_russian_dates_are_read_day_first():
    history = RepeatHistory(window_days=30)
    # 01.06.2024 is the 1st of June, a day after 31.05.2024 (month-first it would be January, before it)
    marks = history.mark(["c1", "c1"], ["31.05.2024", "01.06.2024 10:30"], [["payments"], ["payments"]])
    assert marks == [False, True]


def test_one_customer_written_as_42_42_0_or_with_spaces_is_one_history():
    history = RepeatHistory(window_days=30)
    marked = history.mark([42, 42.0, " 42 ", "43"], ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"],
                          [["speed"]] * 4)
    assert marked == [False, True, True, False]
