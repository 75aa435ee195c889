"""Personal data masking: every rule, the numbers it must leave alone, and property tests."""
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxtext.errors import InputError
from cxtext.mask import RULES, Masked, Span, mask, mask_text

CARD = "4276 3800 1234 5679"  # Luhn-valid


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_masks_its_example(rule):
    assert f"<{rule.kind}>" in mask_text(rule.example)


@pytest.mark.parametrize(
    "text, expected",
    [
        # cards: groups of 4, dashes, no separators, Luhn-checked
        (f"карта {CARD} заблокирована", "карта <CARD> заблокирована"),
        ("номер карты 4276-3800-1234-5679", "номер карты <CARD>"),
        ("4276380012345679", "<CARD>"),
        # written as a card: masked whether Luhn passes or not (one mistyped digit leaks the other 15)
        ("списали с 5469 3800 0000 0005?", "списали с <CARD>?"),
        ("карта 4276 3800 1234 5678 15 000 руб", "карта <CARD> 15 000 руб"),
        ("виза 4111 1111 1111 1111, сумма 15 000 руб", "виза <CARD>, сумма 15 000 руб"),
        # phones in the common formats
        ("звоните +7 (912) 345-67-89", "звоните <PHONE>"),
        ("мой номер 8 912 345 67 89.", "мой номер <PHONE>."),
        ("тел 89123456789", "тел <PHONE>"),
        ("+79123456789 не отвечает", "<PHONE> не отвечает"),
        ("8-912-345-67-89", "<PHONE>"),
        ("8(495)123-45-67 офис", "<PHONE> офис"),
        ("наберите 912 345 67 89", "наберите <PHONE>"),
        ("тел ８９１２３４５６７８９", "тел <PHONE>"),  # full-width digits
        ("карта ４２７６ ３８００ １２３４ ５６７９", "карта <CARD>"),
        # e-mails
        ("пишите на ivan.petrov@mail.ru!", "пишите на <EMAIL>!"),
        ("почта Support-1@bank-x.co.uk", "почта <EMAIL>"),
        # passports
        ("паспорт 4510 123456", "паспорт <PASSPORT>"),
        ("паспорта серии 45 10 № 123456", "паспорта серии <PASSPORT>"),
        ("данные 45 10 123456 верные", "данные <PASSPORT> верные"),
        # accounts
        ("счёт 40817810099910004312", "счёт <ACCOUNT>"),
        ("на счет 40817 810 0 9991 0004312", "на счет <ACCOUNT>"),
        ("счёт 408178100999100043120", "счёт <ACCOUNT>"),  # 21 digits: one too many still leaks 20
    ],
)
def test_masks(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "заказ от 12.03.2024 на сумму 15 000 руб",
        "заявка 1234567890123 не обработана",  # 13 digits, not Luhn-valid
        "в 10:32:01 звонил, ждал 40 минут",
        "списали 1 500 000,50 рублей",
        "код из смс 123456",
        "тариф за 350 руб/мес, 2 раза в день",
        "номер заказа 45-10-2024",
        "ИНН не нужен, индекс 630099",
        "с 2019 по 2024 год",
        "100500 раз звонил",
        "в 10:32 звонил 3 раза, ждал до 18:00",
        "с 01.01.2024 по 31.12.2024 списали 1 500 руб 2 раза",
        "тариф Smart 2024: интернет 100 Мбит, 300 мин за 650 руб",
        "баланс 12 345,67 руб, списали +1500 руб",
        "списали 12 000 000 000 000 руб",
        "трек 80085123456789 не отслеживается",  # 14 digits, not Luhn-valid
        "заказ № 1234567812345678 не пришёл",  # fails Luhn, and the label says it is an order
        "номер заказа: 1234567812345678",
        "тарифы 1000 1500 2000 3000 руб",  # four groups of four, but round sums
        "в 2019 2020 2021 2022 годах",
        "серии 2024 года, 150000 руб",
        "ИНН не указан, 7 раз звонил",
        "ФН 9289000100012345",
        "ID транзакции 2024 0612 1530 4521",
        "чек № 1234567812345678",
        "период 01.02.2023-03.04.2024 и 05.06.2022 - 07.08.2025",  # dots only join groups of four
        "с 12.03.2024 10.00 до 19.00, версия 2024.1.5",
        "cvv не пришёл",
        "отделение на ул. Ленина, 52 закрыто, главное ровно в 10 открывали",  # an office: no flat
        "Сергеевна отказала, основное окно закрыто, квитанция с 01.01.1990",
        "Перешёл на Тариф Основной, дорого",
        "КПП 773601001/773601001, версии 1.2.3/4.5.6",
    ],
)
def test_leaves_alone(text):
    assert mask_text(text) == text


CARD_SHAPES = [
    "4276 3800 1234 5678",  # the README's example: fails Luhn
    "карта 4276-3800-1234-5678 не работает",
    "карта 4276 - 3800 - 1234 - 5678",
    "4276380012345678",
    "счёт 4276380012345678901",  # 19 digits in one piece
    "карта 4276 3800 1234 5678 123",  # 19 digits: 4-4-4-4-3
    "карта 4276 3800 1234 567 спасибо",  # a digit left out
    "карта 4276 38001 1234 5678",  # a digit too many
    "карта 2202 2012 3456 7890",  # Мир
]
PASSPORT_FORMS = [
    "серия 4510 номер 123456",
    "Серия 45 10 Номер 123456",
    "СЕРИЯ 4510, НОМЕР 123456",
    "серия: 4510; номер: 123456",
    "паспорт 4510 123456",
    "Паспорт 45 10 123456",
    "паспорт: 4510123456",
    "ПАСПОРТ 4510 № 123456",
    "паспорт серия 4510 номер 123456 выдан ОВД",
    "серия и номер 4510 123456",
    "Серия и номер: 45 10 123456.",
    "с/н 4510 123456",
    "С/Н: 4510123456",
    "сер. 45-10 №123456",
    "паспорт номер 123456 серия 4510",
]


@pytest.mark.parametrize("placeholder, text", [("<CARD>", t) for t in CARD_SHAPES]  # whatever Luhn says
                         + [("<PASSPORT>", t) for t in PASSPORT_FORMS])
def test_card_shapes_and_passport_forms_are_masked_whole(placeholder, text):
    masked = mask_text(text)
    assert placeholder in masked
    assert not re.search(r"\d", masked)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("снилс 123-456-789 01", "снилс <SNILS>"),
        ("СНИЛС: 12345678901", "СНИЛС: <SNILS>"),
        ("мой Снилс 812 345 678 90", "мой Снилс <SNILS>"),  # not a phone
        ("номер 123-456-789 01 в заявлении", "номер <SNILS> в заявлении"),
        ("ИНН 500100732259", "ИНН <INN>"),
        ("инн: 7707083893, звонил 12 раз", "инн: <INN>, звонил 12 раз"),
        ("ИНН 9123456789", "ИНН <INN>"),  # not a phone
        ("ИНН 5001 0073 2259", "ИНН <INN>"),
    ],
)
def test_snils_and_inn(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "звоните +7 (999) 123 - 45 - 67",
        "+7 - 999 - 123 - 45 - 67",
        "мой белорусский +375 29 123-45-67",
        "+380501234567",
        "мобильный 8–916–123–45–67",  # en dashes
        "звоните на 8.916.123.45.67",
        "Мой городской (495) 123-45-67",
        "домашний 8 (3412) 12-34-56",
        "тел. 8(3412)123456",
        "тел\u202f8\u202f916\u202f123\u202f45\u202f67",
    ],
)
def test_more_phone_forms(text):
    masked = mask_text(text)
    assert "<PHONE>" in masked
    assert not re.search(r"\d", masked)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("карта 4276.3800.1234.5679", "карта <CARD>"),
        ("карта 4276/3800/1234/5679", "карта <CARD>"),
        ("карта 4276\t3800\t1234\t5679", "карта <CARD>"),
        ("карта 4276   3800   1234   5679", "карта <CARD>"),
        ("карта 4276 3800 1234 5679 срок 09/27 cvv 123", "карта <CARD> срок 09/27 cvv <CARD>"),
        ("4276 3800 1234 5679, CVC: 456", "<CARD>, CVC: <CARD>"),
        ("паспорт серии 4510 номера 123456", "паспорт серии <PASSPORT>"),
        ("номер 123456, серия паспорта 4510", "номер <PASSPORT>"),
        ("паспорт 45 10 12 34 56", "паспорт <PASSPORT>"),
        ("паспорт 45 10 123 456", "паспорт <PASSPORT>"),
        ("почта иван@xn--80a1acny.xn--p1ai", "почта <EMAIL>"),
        ("спасибо оператору Анне Сергеевне за помощь", "спасибо оператору <NAME> за помощь"),
        ("Я, Коваленко Ирина Сергеевна, абонент", "Я, <NAME>, абонент"),
        ("Клиенту Иванову Ивану Ивановичу отказали", "Клиенту <NAME> отказали"),
        ("дата рождения 01.02.1990", "дата рождения <BIRTHDATE>"),
        ("д.р. 01.01.1990", "д.р. <BIRTHDATE>"),
        ("живу ул. Ленина, д. 5, кв. 12, квитанции нет", "живу <ADDRESS>, квитанции нет"),
        ("Москва, ул. Тверская д. 7 корп. 2 кв 45", "Москва, <ADDRESS>"),
        ("Дом 5, Квартира 12", "<ADDRESS>"),  # any case
        ("Родилась 01.02.1990", "Родилась <BIRTHDATE>"),
        ("паспорт серии 45 10 номера 123 456", "паспорт серии <PASSPORT>"),
        ("ИНН/КПП 7707083893/773601001 организации", "ИНН/КПП <INN>/773601001 организации"),  # not a card
    ],
)
def test_forms_found_in_an_acceptance_test(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Меня зовут Иван Петров, карта заблокирована", "Меня зовут <NAME>, карта заблокирована"),
        ("Привет Анна Петрова", "Привет <NAME>"),  # a capitalised word before the name is not part of it
        ("спасибо Анне Петровой, а Петров И.И. нахамил", "спасибо <NAME>, а <NAME> нахамил"),
        ("заявление подписал И. И. Иванов", "заявление подписал <NAME>"),
        ("менеджер Сафиуллина Д. не перезвонила", "менеджер <NAME> не перезвонила"),  # a surname pymorphy3 lacks
        ("Спасибо менеджеру Цой Виктории", "Спасибо менеджеру <NAME>"),
    ],
)
def test_a_first_name_and_surname_without_patronymic_is_a_name(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Спасибо Дарье за помощь",  # a first name alone identifies nobody
        "Почта России опять потеряла посылку",
        "Сбербанк Онлайн не работает",
        "Слава Богу, вернули деньги",
        "выписку из ЕГРН. Екатерина всегда была на связи",  # "Н." ends an abbreviation, it is no initial
        "ипотека в ДОМ РФ. По горячей линии сказали ждать",
        "справка для налоговой с ошибкой в ИНН. Налоговая отказала",
        "Вера в этот банк пропала",
    ],
)
def test_capitalised_words_that_are_no_name_stay(text):
    assert mask_text(text) == text


def test_what_the_model_reads_keeps_names_where_output_masks_them():
    text = "спасибо Анне Сергеевне, кв. 12 в д. 5"
    assert mask_text(text, by_words=False) == text  # never stored; a name costs the model nothing
    assert mask_text(text) == "спасибо <NAME>, кв. 12 в д. 5"


def test_spans_point_into_raw_text():
    text = f"Карта {CARD}, тел. +7 912 345-67-89, почта a.b@ya.ru"
    got = mask(text)
    assert isinstance(got, Masked)
    assert [s.kind for s in got.spans] == ["CARD", "PHONE", "EMAIL"]
    assert text[got.spans[0].start:got.spans[0].end] == CARD
    assert text[got.spans[1].start:got.spans[1].end] == "+7 912 345-67-89"
    assert text[got.spans[2].start:got.spans[2].end] == "a.b@ya.ru"
    assert got.text == "Карта <CARD>, тел. <PHONE>, почта <EMAIL>"


def test_no_personal_data_gives_same_text_and_no_spans():
    assert mask("всё хорошо") == Masked("всё хорошо", ())


def test_results_are_frozen():
    with pytest.raises(AttributeError):
        mask("x").text = "y"  # type: ignore[misc]
    assert Span(0, 1, "CARD") == Span(0, 1, "CARD")


# --- properties --------------------------------------------------------------------------------

def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        digits = body + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(map(int, reversed(digits)))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError


_WORDS = st.lists(st.sampled_from(["карта", "спасибо", "не", "работает", "сумма", "руб", "15", "2024", ",", "."]))


@st.composite
def card_in_text(draw):
    digits = _luhn_complete("".join(str(draw(st.integers(0, 9))) for _ in range(15)))
    sep = draw(st.sampled_from([" ", "-", "", " - "]))
    grouping = draw(st.sampled_from([(4, 4, 4, 4), (16,), (4, 6, 6), (8, 8)]))
    parts, i = [], 0
    for size in grouping:
        parts.append(digits[i:i + size])
        i += size
    before = " ".join(draw(_WORDS))
    after = " ".join(draw(_WORDS))
    return digits, f"{before} {sep.join(parts)} {after}"


@settings(max_examples=150, deadline=None)
@given(card_in_text())
def test_no_luhn_valid_card_gets_through(case):
    digits, text = case
    left = re.sub(r"\D", "", mask_text(text))
    assert digits not in left


@st.composite
def card_shaped_in_text(draw):
    groups = [
        draw(st.sampled_from("23456")) + "".join(draw(st.sampled_from("0123456789")) for _ in range(3))
        for _ in range(4)
    ]
    sep = draw(st.sampled_from([" ", "-", "", " - "]))
    text = f"{' '.join(draw(_WORDS))} {sep.join(groups)} {' '.join(draw(_WORDS))}"
    return "".join(groups), text


@settings(max_examples=150, deadline=None)
@given(card_shaped_in_text())
def test_no_card_shaped_number_gets_through(case):
    """Luhn or not: four groups of four digits (not all of them years or round sums) are a card."""
    digits, text = case
    groups = [digits[i:i + 4] for i in range(0, 16, 4)]
    if all(re.fullmatch(r"(?:19|20)\d\d|\d*0", g) for g in groups):
        return
    left = re.sub(r"\D", "", mask_text(text))
    assert digits not in left


@st.composite
def phone_in_text(draw):
    code = draw(st.sampled_from(["912", "903", "999", "495", "812"]))
    rest = "".join(str(draw(st.integers(0, 9))) for _ in range(7))
    a, b, c = rest[:3], rest[3:5], rest[5:]
    shapes = [
        f"+7 ({code}) {a}-{b}-{c}",
        f"8 {code} {a} {b} {c}",
        f"8{code}{rest}",
        f"+7{code}{rest}",
        f"8-{code}-{a}-{b}-{c}",
        f"8 ({code}) {a}{b}{c}",
        f"+7 {code} {a}-{b}-{c}",
        f"7{code}{rest}",
    ]
    phone = draw(st.sampled_from(shapes))
    return code + rest, f"{' '.join(draw(_WORDS))} {phone} {' '.join(draw(_WORDS))}"


@settings(max_examples=150, deadline=None)
@given(phone_in_text())
def test_no_phone_gets_through(case):
    digits, text = case
    left = re.sub(r"\D", "", mask_text(text))
    assert digits not in left


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_spans_are_sorted_disjoint_and_inside(text):
    got = mask(text)
    last = 0
    for span in got.spans:
        assert last <= span.start < span.end <= len(text)
        last = span.end


def test_many_random_cards_in_one_text():
    rng = random.Random(3)
    cards = [_luhn_complete("".join(rng.choice("0123456789") for _ in range(15))) for _ in range(30)]
    text = ", ".join(f"карта {c[:4]} {c[4:8]} {c[8:12]} {c[12:]}" for c in cards)
    left = mask_text(text)
    assert left.count("<CARD>") == 30


@pytest.mark.parametrize("value", [None, 5, b"4276 3800 1234 5679"])
def test_what_is_not_a_text_is_refused_with_its_type(value):
    with pytest.raises(InputError, match=f"got {type(value).__name__}"):
        mask(value)


@pytest.mark.parametrize("text, expected", [
    ("карта 4276 38001234 5678", "карта <CARD>"),  # two groups typed together
    ("тел 345-67-89", "тел <PHONE>"),
    ("номер телефона: 345 67 89, звонить вечером", "номер телефона: <PHONE>, звонить вечером"),
    ("заказ номер 123-45-67", "заказ номер 123-45-67"),  # seven digits without a phone's word: an order
    ("телевизор за 345-67-89", "телевизор за 345-67-89"),
])
def test_forms_a_reviewer_found(text, expected):
    assert mask_text(text) == expected
