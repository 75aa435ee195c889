"""Personal data masking: every rule, the numbers it must leave alone, and property tests."""
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
        ("списали с 5469 3800 0000 0005?", "списали с 5469 3800 0000 0005?"),  # not Luhn-valid
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
    ],
)
def test_leaves_alone(text):
    assert mask_text(text) == text


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
