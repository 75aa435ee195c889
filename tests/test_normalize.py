"""Normalisation steps, one table per step, and the whole chain."""
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxtext.normalize import (
    STEPS,
    collapse_runs,
    collapse_spaces,
    fold_lookalikes,
    fold_yo,
    is_plain,
    nfkc,
    normalize,
    normalize_plain,
    replace_emoji,
    replace_emoticons,
    replace_numbers,
    replace_urls,
)


@pytest.mark.parametrize(
    "step, text, expected",
    [
        (nfkc, "ｆｕｌｌ ｗｉｄｔｈ １２３", "full width 123"),
        (nfkc, "заказ № 5", "заказ # 5"),  # not the Latin "No"
        (nfkc, "ﬁx", "fix"),
        (fold_lookalikes, "пpивет", "привет"),  # Latin p
        (fold_lookalikes, "KАРТА", "КАРТА"),  # Latin K
        (fold_lookalikes, "cпасибо, oператор", "спасибо, оператор"),
        (fold_lookalikes, "iPhone и QR-код", "iPhone и QR-код"),
        (fold_lookalikes, "Wi-Fi не ловит", "Wi-Fi не ловит"),
        (fold_lookalikes, "iPhoneа", "iPhoneа"),  # i, h, n have no Cyrillic twin
        (fold_yo, "ещё всё", "еще все"),
        (replace_urls, "см. https://bank.ru/help?id=1 там", "см.  <url>  там"),
        (replace_urls, "зайдите на www.site.com", "зайдите на  <url> "),
        (replace_urls, "на сайте мтс.рф/tarify написано", "на сайте  <url>  написано"),
        (replace_urls, "ипотека в Дом.РФ, почта на mail.ru", "ипотека в Дом.РФ, почта на mail.ru"),  # names, not links
        (replace_numbers, "ждал 40 минут", "ждал  <num>  минут"),
        (replace_numbers, "15 000 руб", " <num>  руб"),
        (replace_numbers, "12.03.2024 в 10:30", " <num>  в  <num> "),
        (replace_emoji, "ужас😡", "ужас emo_angry "),
        (replace_emoji, "👍🏻", " emo_like "),  # skin tone dropped
        (replace_emoji, "❤️", " emo_like "),  # variation selector dropped
        (replace_emoji, "🚀", " emo_other "),
        (replace_emoticons, "спасибо :)", "спасибо  emo_happy "),
        (replace_emoticons, "спасибо)))", "спасибо emo_happy "),
        (replace_emoticons, "опять(((", "опять emo_sad "),
        (replace_emoticons, "ну :(", "ну  emo_sad "),
        (replace_emoticons, ">:( бесит", " emo_angry  бесит"),
        (replace_emoticons, "смешно :D", "смешно  emo_laugh "),
        (replace_emoticons, "ок <3", "ок  emo_like "),
        (replace_emoticons, "спасибо)", "спасибо emo_happy "),
        (replace_emoticons, "жаль(", "жаль emo_sad "),
        (replace_emoticons, "(в 10:00) пришёл", " в 10:00  пришёл"),  # paired brackets are brackets
        (replace_emoticons, "1) долго", "1  долго"),  # a numbered list
        (collapse_runs, "оооочень долго!!!", "очень долго!"),
        (collapse_runs, "что??", "что?"),
        (collapse_runs, "ну...", "ну."),
        (collapse_runs, "ссылка, длинный", "ссылка, длинный"),  # double letters are Russian
        (collapse_spaces, "  а \n\t б  ", "а б"),
    ],
)
def test_step(step, text, expected):
    assert step(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Пpиложение ОООЧЕНЬ тормозит!!! 😡", "приложение очень тормозит! emo_angry"),
        ("Всё супер)))", "все супер emo_happy"),
        ("Перевёл 15 000 руб, не дошли :(", "перевел <num> руб, не дошли emo_sad"),
        ("Карта <CARD> и тел <PHONE>", "карта <card> и тел <phone>"),
        ("iPhone 15 не видит QR", "iphone <num> не видит qr"),
        ("ссылка: https://x.ru/a", "ссылка: <url>"),
        ("👍👍👍", "emo_like"),
        ("", ""),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_plain_and_full_paths_agree():
    # normalize skips steps for plain Cyrillic text; running every step must give the same result
    text = "Нееет, это ужас... Приложение — отстой!!"
    full = text
    for step in STEPS:
        full = step(full)
    assert normalize(text) == full


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_normalize_is_total_and_idempotent(text):
    once = normalize(text)
    assert isinstance(once, str)
    assert normalize(once) == once


def _all_steps(text):
    for step in STEPS:
        text = step(text)
    return text


# Plain texts: Cyrillic, the punctuation of the plain path, and every kind of whitespace NFKC touches.
_PLAIN_ALPHABET = "аеёоыйъяАЕЁОЙЯ.,!?- \t\n\u00a0\u2002\u202f\u3000\u2028"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_PLAIN_ALPHABET))
def test_plain_shortcut_matches_every_step(text):
    # normalize_plain skips NFKC and the link/emoticon/emoji/look-alike/number steps
    if is_plain(text):
        assert normalize_plain(text) == _all_steps(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=">:;=^<()-oO^dD/\\|_3aя xD0"))
def test_emoticon_head_skips_no_emoticon(text):
    # the head look-ahead only lets the pattern skip positions where no emoticon starts
    from cxtext.normalize import EMOTICONS, _EMOTICON, _emoticon_token
    plain = re.compile("|".join(f"(?P<e{i}>{p})" for i, (p, _) in enumerate(EMOTICONS)), re.IGNORECASE)
    assert _EMOTICON.sub(_emoticon_token, text) == plain.sub(_emoticon_token, text)
