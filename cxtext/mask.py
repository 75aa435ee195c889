"""Personal data masking: cards, phones, e-mails, passports and accounts become placeholders.

Masking runs first, on the raw text, so nothing after it (normalisation, models, logs, reports)
ever sees the data. Each rule is a named regex with an example; rules are tried in order and an
earlier rule wins an overlap. Spans point into the raw text.

    >>> mask_text("Карта 4276 3800 1234 5679, звоните +7 (912) 345-67-89")
    'Карта <CARD>, звоните <PHONE>'

Numbers that only look similar stay: dates (12.03.2024), sums (15 000 руб), order numbers that are
not Luhn-valid card numbers. A Luhn-valid 13-19 digit number is masked as a card even when it is an
order number: a false alarm costs one placeholder, a miss leaks a card.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterator

# Full-width digits and signs ("＋７ ９１２...") are matched as ASCII: one character each, so the
# spans still point into the raw text.
_WIDE = re.compile("[\uff08\uff09\uff0b\uff0d\uff10-\uff19]")
_NARROW = str.maketrans("（）＋－０１２３４５６７８９", "()+-0123456789")
_SEP = r"(?:[ \u00a0]?[-\u2010-\u2015][ \u00a0]?|[ \u00a0]{1,2})"
# Words that announce a passport: "паспорт", "паспорта", "серия", "серии и номер".
_PASSPORT_WORD = r"(?i:паспорт\w*|серия|серии)"


@dataclass(frozen=True)
class Span:
    """Where personal data was found in the raw text, and what kind it was."""

    start: int
    end: int
    kind: str  # CARD, PHONE, EMAIL, PASSPORT, ACCOUNT


@dataclass(frozen=True)
class Masked:
    """The text with personal data replaced by `<KIND>` placeholders, and the raw spans."""

    text: str
    spans: tuple[Span, ...]


def _whole(match: re.Match[str]) -> Iterator[tuple[int, int]]:
    yield match.span("pd") if match.re.groupindex.get("pd") else match.span()


# Luhn: from the right, every second digit is doubled (minus 9 when over 9); the sum ends in 0.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


_GROUP = re.compile(r"\d+")


def _cards(match: re.Match[str]) -> Iterator[tuple[int, int]]:
    """Luhn-valid runs of 13-19 digits inside a run of digit groups.

    The run may hold other numbers next to the card ("5 4276 3800 1234 5679 15"), so every window of
    whole groups is tried, the longest valid one first. Prefix sums make each window's Luhn sum O(1),
    so a run of 10 000 one-digit groups costs milliseconds, not seconds.
    """
    groups = [m.span() for m in _GROUP.finditer(match.string, *match.span())]
    values = [int(ch) for ch in match.group() if ch.isdecimal()]
    # plain[p][k], doubled[p][k]: sums over the first k digits at positions of parity p
    plain = [[0], [0]]
    doubled = [[0], [0]]
    for k, d in enumerate(values):
        for p in (0, 1):
            plain[p].append(plain[p][-1] + (d if k % 2 == p else 0))
            doubled[p].append(doubled[p][-1] + (_DOUBLED[d] if k % 2 == p else 0))
    ends = [0]  # digit index where each group ends
    for start, end in groups:
        ends.append(ends[-1] + end - start)
    i = 0
    while i < len(groups):
        found = None
        for j in range(i, len(groups)):
            a, b = ends[i], ends[j + 1]  # the window's digits are values[a:b]
            if b - a > 19:
                break
            q = (b - 1) % 2  # the check digit's parity: digits of the other parity are doubled
            if b - a >= 13 and (plain[q][b] - plain[q][a] + doubled[1 - q][b] - doubled[1 - q][a]) % 10 == 0:
                found = j
        if found is None:
            i += 1
        else:
            yield groups[i][0], groups[found][1]
            i = found + 1


@dataclass(frozen=True)
class Rule:
    """One kind of personal data: a regex, an example it must mask, and how to pick spans."""

    name: str
    kind: str
    pattern: re.Pattern[str]
    example: str
    pick: Callable[[re.Match[str]], Iterator[tuple[int, int]]] = _whole


RULES: tuple[Rule, ...] = (
    Rule(
        "email",
        "EMAIL",
        re.compile(r"(?<![\w.+-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}"),
        "пишите на ivan.petrov@mail.ru",
    ),
    Rule(
        "account",  # 20 digits, also grouped 40817 810 0 9991 0004312
        "ACCOUNT",
        re.compile(rf"(?<!\d)\d(?:{_SEP}?\d){{19}}(?!\d)"),
        "счёт 40817810099910004312",
    ),
    Rule(
        "card",  # 13-19 digits in groups, Luhn-checked
        "CARD",
        re.compile(rf"\d+(?:{_SEP}\d+)*"),
        "карта 4276 3800 1234 5679",
        _cards,
    ),
    Rule(
        "passport after a keyword",  # the keyword stays: it tells the topic
        "PASSPORT",
        re.compile(
            rf"{_PASSPORT_WORD}[^\d\n]{{0,25}}"
            r"(?P<pd>(?<!\d)\d{2}[ \u00a0]?\d{2}(?:[ \u00a0]*(?:№|N|номер)?[ \u00a0]*)\d{6}(?!\d))"
        ),
        "паспорт 4510 123456",
    ),
    Rule(
        "phone",  # +7 / 8 / 7 and an area code, or a bare mobile 9xx
        "PHONE",
        re.compile(
            r"(?<![\d+])(?:(?:\+[ \u00a0]?7|[78])[ \u00a0-]?(?:\([ \u00a0]?\d{3}[ \u00a0]?\)|\d{3})"
            r"|\(9\d{2}\)|9\d{2})(?:[ \u00a0-]{0,2}\d){7}(?!\d)"
        ),
        "звоните +7 (912) 345-67-89",
    ),
    Rule(
        "passport shape",  # series and number without a keyword: "45 10 123456"
        "PASSPORT",
        re.compile(r"(?<![\d-])\d{2}[ \u00a0]?\d{2}[ \u00a0]\d{6}(?![\d-])"),
        "данные 45 10 123456",
    ),
)

# The e-mail rule needs an "@", the others ten digits or more; most comments have neither.
_TEN_DIGITS = re.compile(r"\d(?:\D{0,4}\d){9}")


def find(text: str) -> tuple[Span, ...]:
    """Spans of personal data in `text`, sorted, never overlapping."""
    has_email = "@" in text
    has_number = _TEN_DIGITS.search(text) is not None
    if not (has_email or has_number):
        return ()
    if has_number and _WIDE.search(text):
        text = text.translate(_NARROW)
    taken: list[Span] = []
    for rule in RULES:
        if not (has_email if rule.kind == "EMAIL" else has_number):
            continue
        for match in rule.pattern.finditer(text):
            for start, end in rule.pick(match):
                if not any(start < s.end and s.start < end for s in taken):
                    taken.append(Span(start, end, rule.kind))
    return tuple(sorted(taken, key=lambda s: s.start))


def mask(text: str) -> Masked:
    """Replace personal data with `<CARD>`, `<PHONE>`, `<EMAIL>`, `<PASSPORT>`, `<ACCOUNT>`."""
    spans = find(text)
    return Masked(_replace(text, spans), spans)


def mask_text(text: str) -> str:
    """The masked text only (without building a `Masked`: most texts have nothing to mask)."""
    spans = find(text)
    return _replace(text, spans) if spans else text


def _replace(text: str, spans: tuple[Span, ...]) -> str:
    parts = []
    last = 0
    for span in spans:
        parts.append(text[last:span.start])
        parts.append(f"<{span.kind}>")
        last = span.end
    parts.append(text[last:])
    return "".join(parts)
