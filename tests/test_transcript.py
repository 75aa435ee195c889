"""Speaker turns and the customer's text of calls and chats."""
import json

import pytest

from cxtext.transcript import Turn, customer_text, parse_turns, role_of, split_customer

CALL = """[10:32:01] Клиент: у меня не работает приложение
[10:32:10] Оператор: уточните, пожалуйста, номер телефона
[10:32:30] Клиент: уже третий день не могу войти"""


@pytest.mark.parametrize(
    "label, role",
    [
        ("Клиент", "customer"), ("клиентка", "customer"), ("Абонент", "customer"), ("Покупатель", "customer"),
        ("Client", "customer"), ("user", "customer"), ("К", "customer"),
        ("Оператор", "agent"), ("Сотрудник", "agent"), ("Специалист", "agent"), ("Agent", "agent"),
        ("О", "agent"), ("Менеджер Анна", "agent"),
        ("Бот", "bot"), ("чат-бот", "bot"), ("assistant", "bot"), ("Виртуальный помощник", "bot"),
        ("Иван", "unknown"), (None, "unknown"), (True, "unknown"),
        ("Посетитель", "customer"), ("Звонящий", "customer"),
        ("Спикер 2", "speaker 2"), ("SPEAKER_00", "speaker 0"), (3, "speaker 3"),  # diarised: role unknown
    ],
)
def test_role_of(label, role):
    assert role_of(label) == role


def test_call_with_timestamps():
    turns = parse_turns(CALL)
    assert [t.speaker_role for t in turns] == ["customer", "agent", "customer"]
    assert turns[0].text == "у меня не работает приложение"
    for turn in turns:
        assert CALL[turn.start:turn.end] == turn.text
    assert customer_text(CALL) == "у меня не работает приложение\nуже третий день не могу войти"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("К: алло, не могу войти О: назовите номер К: не помню", "алло, не могу войти\nне помню"),
        ("Client: card blocked\nAgent: checking", "card blocked"),
        ("Абонент (Иван): нет связи. Специалист (Анна) 10:33: перезагрузите", "нет связи."),
        ("Покупатель: где заказ?\nСотрудник: уточняю", "где заказ?"),
        ("Бот: Здравствуйте! Опишите проблему\nКлиент: списали деньги дважды", "списали деньги дважды"),
        ("Звонок 12:30.\nКлиент: не работает", "не работает"),  # the preamble is nobody's
        ("Клиент : долго ждал\nОператор : извините", "долго ждал"),
    ],
)
def test_customer_text(text, expected):
    assert customer_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Спасибо, всё хорошо",  # no labels at all
        "я ваш клиент: уже 10 лет, и всё плохо",  # a lower-case label inside a sentence
        "Время ожидания: 40 минут",
    ],
)
def test_plain_text_comes_back_as_is(text):
    assert customer_text(text) == text
    assert parse_turns(text) == (Turn("unknown", text, 0, len(text)),)


def test_no_customer_turn_falls_back_to_the_whole_text():
    # A survey comment that starts with a label is the customer talking about the operator.
    assert customer_text("Оператор: нагрубил и бросил трубку") == "Оператор: нагрубил и бросил трубку"
    assert customer_text([{"role": "agent", "text": "Добрый день"}]) == "Добрый день"


def test_json_turns():
    turns = [
        {"speaker": "client", "text": "где мой заказ"},
        {"role": "Оператор", "text": "уточняю"},
        {"author": "user", "message": "жду уже неделю"},
        {"from": "bot", "content": "оцените диалог"},
    ]
    parsed = parse_turns(json.dumps(turns, ensure_ascii=False))
    assert [t.speaker_role for t in parsed] == ["customer", "agent", "customer", "bot"]
    assert customer_text(turns) == "где мой заказ\nжду уже неделю"
    assert customer_text(json.dumps(turns)) == "где мой заказ\nжду уже неделю"
    assert customer_text(json.dumps({"messages": turns})) == "где мой заказ\nжду уже неделю"


def test_structured_offsets_are_into_joined_texts():
    turns = parse_turns([{"role": "client", "text": "аб"}, {"role": "agent", "text": "вгд"}])
    joined = "аб\nвгд"
    assert [joined[t.start:t.end] for t in turns] == ["аб", "вгд"]


def test_turn_objects_pass_through():
    turns = [Turn("customer", "плохо", 0, 5), Turn("agent", "жаль", 6, 10)]
    assert customer_text(turns) == "плохо"


def test_broken_json_is_plain_text():
    text = '[{"role": "client", "text": "не закрыта'
    assert customer_text(text) == text


def test_not_a_transcript_is_a_type_error():
    with pytest.raises(TypeError):
        parse_turns([1, 2])  # type: ignore[list-item]


SCRIPT = ("все операторы заняты, время ожидания ответа около двадцати минут. спасибо за ожидание, "
          "меня зовут Анна, чем могу помочь?")


@pytest.mark.parametrize("template", [
    "Спикер 1: {agent}\nСпикер 2: {customer}\nСпикер 1: уточните номер договора\nСпикер 2: {more}",
    "спикер 1: {agent} спикер 2: {customer} спикер 1: уточните номер договора спикер 2: {more}",
    "SPEAKER_00: {agent}\nSPEAKER_01: {customer}\nSPEAKER_00: уточните номер договора\nSPEAKER_01: {more}",
    "Оператор Анна: {agent}\nКлиент Петров: {customer}\nОператор Анна: уточните номер договора\nКлиент Петров: {more}",
    "Посетитель: {customer}\nОператор: {agent}\nПосетитель: {more}",
])
def test_diarised_and_named_speakers_give_the_customer_words(template):
    customer, more = "хочу узнать курс доллара на завтра", "а в отделении он другой?"
    text = template.format(agent=SCRIPT, customer=customer, more=more)
    assert customer_text(text) == f"{customer}\n{more}"


def test_diarised_speakers_the_words_cannot_tell_apart_give_the_whole_text():
    text = "Спикер 1: да\nСпикер 2: да"
    assert customer_text(text) == text


def test_turns_from_parquet_arrive_as_arrays_and_are_read():
    import numpy as np

    from cxtext.preprocess import prepare

    turns = np.array([{"speaker": "agent", "text": SCRIPT}, {"speaker": "client", "text": "курьер опоздал"}])
    assert prepare(turns).text == "курьер опоздал" and prepare(turns).status == "ok"


def test_a_time_after_a_short_label_is_not_a_speaker():
    text = "пункт выдачи работает до 20, а приезжаю с работы к 20:30"
    assert customer_text(text) == text


@pytest.mark.parametrize("text, expected", [
    ("Оператор: Сколько списали?\nКлиент:1500 рублей, верните\nОператор: Проверю", ("1500 рублей, верните", False)),
    ("вопрос к 2: почему так долго", ("вопрос к 2: почему так долго", False)),  # not a diarised label
    ("Поддержка: молчит третий день", ("Поддержка: молчит третий день", False)),  # a comment, not a transcript
    ('[{"speaker": NaN, "text": "алло"}, {"speaker": "client", "text": "не работает"}]', ("не работает", False)),
])
def test_review_findings_on_labels(text, expected):
    from cxtext.transcript import split_customer

    assert split_customer(text) == expected



@pytest.mark.parametrize("chat", [
    "[14.05.2024, 12:01:33] Клиент: карта не работает\n[14.05.2024, 12:02:10] Оператор: проверю\n"
    "[14.05.2024, 12:03:00] Клиент: спасибо жду",  # WhatsApp
    "14.05.24, 12:01 - Клиент: карта не работает\n14.05.24, 12:02 - Оператор: проверю\n"
    "14.05.24, 12:03 - Клиент: спасибо жду",  # WhatsApp's Android export
    "Клиент, [14.05.2024 12:01]\nкарта не работает\n\nОператор, [14.05.2024 12:02]\nпроверю\n\n"
    "Клиент, [14.05.2024 12:03]\nспасибо жду",  # Telegram Desktop's text export
])
def test_a_chat_export_with_dated_times_gives_the_customer_words_only(chat):
    assert split_customer(chat) == ("карта не работает\nспасибо жду", False)
