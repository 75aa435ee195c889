"""Personal data masking: cards, phones, e-mails, passports, SNILS, INN, accounts (found by their digits),
and full names, birth dates and addresses down to the flat (found by their words) become placeholders.

Masking of the digit kinds runs first, on the raw text, so nothing after it (normalisation, models,
logs, reports) ever sees them; the word kinds are masked where text is written out (`by_words`). Each
rule is a named regex with an example; rules are tried in order and an earlier rule wins an overlap.
Spans point into the raw text.

    >>> mask_text("Карта 4276 3800 1234 5679, звоните +7 (912) 345-67-89")
    'Карта <CARD>, звоните <PHONE>'

A card is a Luhn-valid run of 13-19 digits, or a run written as a card whether Luhn passes or not
(a customer who mistypes one digit still writes 15 real ones): four groups of four digits (one group
may have a digit too many or too few), three groups of four and a short tail, or 16-19 digits in
one piece. A false alarm costs one placeholder, a miss leaks a card. Numbers that only look similar
stay: dates (12.03.2024), sums (15 000 руб), times, phone-like and 13-15 digit order numbers that
fail Luhn, lists of years, and a number that fails Luhn right after an order label ("заказ № ...").
"""
from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from typing import Callable, Iterator

from .errors import InputError
from .lemmatize import get_analyzer, on_clear

# Full-width digits and signs ("＋７ ９１２...") are matched as ASCII: one character each, so the
# spans still point into the raw text.
_WIDE = re.compile("[\uff08\uff09\uff0b\uff0d\uff10-\uff19]")
_NARROW = str.maketrans("（）＋－０１２３４５６７８９", "()+-0123456789")
# Between digit groups of a card or account: spaces (also no-break and narrow no-break, tabs), a dash of
# any kind, or a dot or slash between groups of four ("4276.3800.1234.5679"; a date's dots never are).
_SPACE = "[ \u00a0\u202f\t]"
_SEP = rf"(?:{_SPACE}?[-\u2010-\u2015]{_SPACE}?|{_SPACE}{{1,3}}|(?<=(?<!\d)\d{{4}})[./](?=\d{{4}}(?!\d)))"
# Between the digits of a phone: spaces, dashes of any kind, dots ("8.916.123.45.67").
_PHONE_SEP = "[ \u00a0\u202f\t.\u2010-\u2015-]{0,3}"
# Words that announce a passport: "паспорт", "паспорта", "серия", "серии и номер", "с/н".
_PASSPORT_WORD = r"(?i:паспорт[^\W\d_]*|серия|серии|сер\.|(?<!\w)[сc][/\\]н(?!\w))"
# Passport series "4510", "45 10", "45-10".
_SERIES = r"\d{2}[ \u00a0-]?\d{2}"
# Between series and number: "4510 123456", "4510, номер 123456", "4510 № 123456", "4510 и Номер: 123456".
_SERIES_GAP = r"(?:[ \u00a0,.;:№#-]|(?i:номер[^\W\d_]{0,2}|ном|н|и|n)(?![^\W\d_])){0,8}"
# The number: "123456", "123 456", "12 34 56".
_PASSPORT_NUMBER = r"\d(?:[ \u00a0-]?\d){5}"


@dataclass(frozen=True)
class Span:
    """Where personal data was found in the raw text, and what kind it was."""

    start: int
    end: int
    kind: str  # CARD, PHONE, EMAIL, PASSPORT, SNILS, INN, ACCOUNT, NAME, BIRTHDATE, ADDRESS


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


# "заказ № 1234567812345678": a number that fails Luhn right after an order label is the order's.
_ORDER_LABEL = re.compile(
    r"(?i:заказ|заявк|обращени|трек|накладн|отправлени|посылк|тикет|договор|транзакц|операци|платеж|платёж|чек|"
    r"квитанци|фн|id|order)\w*"
    r"[ \u00a0]*(?:(?:№|#|N|номер)[ \u00a0]*)?[:.]?[ \u00a0]*$"
)
# "2019 2020 2021 2022" (years) and "1000 1500 2000 3000" (round sums) are not a card; a card whose
# every group is one of these is one in ten thousand.
_NOT_CARD_GROUP = re.compile(r"(?:19|20)\d\d|\d*0")


def _card_shape(text: str, groups: list[tuple[int, int]], i: int) -> int | None:
    """The last group of a card-shaped window starting at group i, whatever Luhn says.

    "4276380012345678" (16-19 digits in one piece), "4276 3800 1234 5678" (and a 1-3 digit tail
    ending the run: 19-digit cards), "4276 38001 1234 5678" (one group a digit off),
    "4276 3800 1234 56" (13-15 digits).
    """
    size = [end - start for start, end in groups[i:i + 5]]
    if 16 <= size[0] <= 19:
        return i
    if size[:3] in ([4, 8, 4], [8, 4, 4], [4, 4, 8]):  # two groups typed together: "4276 38001234 5678"
        found = i + 2
    elif size[:2] == [8, 8]:
        found = i + 1
    else:
        found = None
    if found is not None:
        return None if all(_NOT_CARD_GROUP.fullmatch(text, *groups[k]) for k in range(i, found + 1)) else found
    if len(size) < 4 or not 3 <= size[0] <= 5:
        return None
    last = len(groups) - 1
    if size[:4] == [4, 4, 4, 4]:
        found = i + 4 if len(size) == 5 and i + 4 == last and size[4] < 4 else i + 3
    elif all(3 <= n <= 5 for n in size[:4]) and size[:4].count(4) == 3:
        found = i + 3
    elif size[:3] == [4, 4, 4] and size[3] < 4 and i + 3 == last:
        found = i + 3
    else:
        return None
    if all(_NOT_CARD_GROUP.fullmatch(text, *groups[k]) for k in range(i, i + 4)):
        return None
    return found


def _cards(match: re.Match[str]) -> Iterator[tuple[int, int]]:
    """Card numbers inside a run of digit groups: Luhn-valid 13-19 digits, or written as a card.

    The run may hold other numbers next to the card ("5 4276 3800 1234 5679 15"), so every window of
    whole groups is tried, the longest Luhn-valid one first, then the card shapes of _card_shape.
    Prefix sums make each window's Luhn sum O(1), so a run of 10 000 one-digit groups costs
    milliseconds, not seconds.
    """
    if match.end() - match.start() < 13:  # most runs are "15", "2024", "15 000": no card fits
        return
    text = match.string
    groups = [m.span() for m in _GROUP.finditer(text, *match.span())]
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
            found = _card_shape(text, groups, i)
            start = groups[i][0]
            if found is not None and _ORDER_LABEL.search(text, max(0, start - 40), start):
                found = None
        if found is None:
            i += 1
        else:
            yield groups[i][0], groups[found][1]
            i = found + 1


@dataclass(frozen=True)
class Rule:
    """One kind of personal data: a regex, an example it must mask, and how to pick spans.

    `needs`: lower-case substrings one of which the pattern cannot match without ("снилс"); a text
    with none of them skips the regex, so keyword rules cost almost nothing on ordinary texts.
    """

    name: str
    kind: str
    pattern: re.Pattern[str]
    example: str
    pick: Callable[[re.Match[str]], Iterator[tuple[int, int]]] = _whole
    needs: tuple[str, ...] = ()
    any_length: bool = False  # finds data without ten digits close together (a name, a date of birth)


# A first name and a patronymic in any case ("Анна Сергеевна", "Анне Сергеевне", "Ивану Петровичу"), with a
# surname before or after when it has a surname's ending ("Коваленко Ирина Сергеевна").
_CAPITAL = r"[А-ЯЁ][а-яё]+"
# ("-овной" is left out: "Тариф Основной", "Пакет Основной" would read as names)
_PATRONYMIC = r"[А-ЯЁ][а-яё]+(?:(?:ович|евич|ьич)(?:а|у|ем|е)?|(?:овн|евн)(?:а|ы|е|у))(?![а-яё])"
_SURNAME = r"[А-ЯЁ][а-яё]*(?:ов|ев|ёв|ин|ын|ск|цк|енко|ко|ук|юк|ян|дзе|швили|их|ых)[а-яё]{0,3}(?![а-яё])"
# A first name and a surname without a patronymic ("Анна Петрова", "Петровой Анне"), or a surname with
# initials ("Петров И.И.", "И. Петров"): capitalised words next to each other, told by pymorphy3's
# dictionary (a first name it knows; a surname it knows, or a surname's ending). "Вера", "Роза" or
# "Любовь" alone stay: only a pair is a name.
_INITIALS = r"(?<![^\W\d_])[А-ЯЁ]\.(?:[ \u00a0]?[А-ЯЁ]\.)?"  # not the end of "РФ."
_NAME_PART = rf"(?:{_INITIALS}|[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?(?![а-яё]))"


@functools.lru_cache(maxsize=20_000)
def name_kinds(word: str) -> frozenset[str]:
    """"Name" and/or "Surn" when the dictionary knows `word` as a first name or a surname."""
    if word.endswith("."):
        return frozenset({"Init"})
    known = [p.tag for p in get_analyzer().parse(word) if p.is_known]
    if not known:  # a surname the dictionary lacks ("Сафиуллина") still has a surname's ending
        return frozenset({"Surn"} if re.fullmatch(_SURNAME, word) else ())
    return frozenset(g for tag in known for g in ("Name", "Surn") if g in tag)


on_clear(name_kinds.cache_clear)  # a new analyzer tells names anew


_NAME_PARTS = re.compile(_NAME_PART)
_FIRST = frozenset({"Name", "Init"})


def _full_names(match: re.Match[str]) -> Iterator[tuple[int, int]]:
    """Pairs of neighbouring capitalised words (or initials): a surname and a first name or initials, in
    either order."""
    parts = [(m.start(), m.end(), name_kinds(m.group())) for m in _NAME_PARTS.finditer(match.string, *match.span())]
    i = 0
    while i + 1 < len(parts):
        (start, _, a), (_, end, b) = parts[i], parts[i + 1]
        if ("Surn" in a and b & _FIRST) or ("Surn" in b and a & _FIRST):
            yield start, end
            i += 2
        else:
            i += 1


# An address down to the flat: "ул. Ленина, д. 5, кв. 12" (an office's address has no flat, and stays).
_STREET = (r"(?:(?i:ул\.|улица|пр-т|пр\.|проспект|пер\.|переулок|ш\.|шоссе|б-р|бульвар|наб\.|набережная)"
           r"[ \u00a0]*[^\n,]{1,30},?[ \u00a0]*)?")
_HOUSE = (r"(?i:д\.|дом)[ \u00a0]*\d+[а-яА-Я]?(?:/\d+)?,?"
          r"(?:[ \u00a0]*(?i:корп\.|корпус|к\.|стр\.|строение)[ \u00a0]*\d+,?)?")

RULES: tuple[Rule, ...] = (
    Rule(
        "email",
        "EMAIL",
        re.compile(r"(?<![\w.+-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.(?:xn--[\w-]+|[^\W\d_]{2,})"),
        "пишите на ivan.petrov@mail.ru",
        needs=("@",),
    ),
    Rule(
        "account",  # 20 digits, also grouped 40817 810 0 9991 0004312; a longer run is one mistyped
        "ACCOUNT",
        re.compile(rf"(?<!\d)\d(?:(?:{_SEP}?\d){{19}}(?!\d)|\d{{20,}})"),
        "счёт 40817810099910004312",
    ),
    Rule(
        "card",  # 13-19 digits in groups: Luhn-valid, or written as a card (see _card_shape)
        "CARD",
        re.compile(rf"\d+(?:{_SEP}\d+)*"),
        "карта 4276 3800 1234 5678",
        _cards,
    ),
    Rule(
        "card security code after its name",  # "cvv 123" next to a card number (alone, 3 digits tell nothing)
        "CARD",
        re.compile(r"(?i:cvv2?|cvc2?|cvv-код|код безопасности)[^\w\n]{0,5}(?P<pd>(?<!\d)\d{3}(?!\d))"),
        "карта 4276 3800 1234 5679, cvv 123",
        needs=("cvv", "cvc", "код безопасности"),
    ),
    Rule(
        "passport after a keyword",  # the keyword stays: it tells the topic
        "PASSPORT",
        re.compile(rf"{_PASSPORT_WORD}[^\d\n]{{0,25}}(?P<pd>(?<!\d){_SERIES}{_SERIES_GAP}{_PASSPORT_NUMBER}(?!\d))"),
        "серия 4510 номер 123456",
        needs=("паспорт", "сери", "сер.", "/н", "\\н"),
    ),
    Rule(
        "passport, number first",  # "номер 123456 серия 4510": the word between goes too
        "PASSPORT",
        re.compile(
            rf"(?<!\d)\d{{6}}[ \u00a0,;:]{{0,3}}(?i:серия|серии|сер\.)(?i:[ \u00a0]паспорт[^\W\d_]*)?[ \u00a0:]{{0,3}}"
            rf"{_SERIES}(?!\d)"
        ),
        "паспорт номер 123456 серия 4510",
        needs=("сери", "сер."),
    ),
    Rule(
        "snils after a keyword",  # before the phone rule: "снилс 81234567890" is not a phone
        "SNILS",
        re.compile(
            r"(?i:снилс[^\W\d_]*)[^\d\n]{0,20}"
            r"(?P<pd>(?<!\d)\d{3}[ \u00a0-]?\d{3}[ \u00a0-]?\d{3}[ \u00a0-]?\d{2}(?!\d))"
        ),
        "снилс 123-456-789 01",
        needs=("снилс",),
    ),
    Rule(
        "snils shape",  # 123-456-789 01 is never a phone or a sum
        "SNILS",
        re.compile(r"(?<![\d-])\d{3}-\d{3}-\d{3}[ \u00a0-]\d{2}(?![\d-])"),
        "номер 123-456-789 01",
    ),
    Rule(
        "inn after a keyword",  # 10 digits (a company), 12 (a person)
        "INN",
        re.compile(
            r"(?<!\w)(?i:инн)(?![^\W\d_])[^\d\n]{0,20}"
            # whole runs first: "ИНН 7707083893 12 раз" is ten digits, not twelve
            r"(?P<pd>(?<!\d)(?:\d{12}|\d{10}|\d(?:[ \u00a0-]?\d){11}|\d(?:[ \u00a0-]?\d){9})(?!\d))"
        ),
        "ИНН 500100732259",
        needs=("инн",),
    ),
    Rule(
        "phone",  # +7 / 8 / 7 and an area code, or a bare mobile 9xx; "123 - 45 - 67" too
        "PHONE",
        re.compile(
            rf"(?<![\d+])(?:(?:(?:\+[ \u00a0]?7|[78]){_PHONE_SEP}(?:\([ \u00a0]?\d{{3}}[ \u00a0]?\)|\d{{3}})"
            rf"|\([ \u00a0]?\d{{3}}[ \u00a0]?\)|9\d{{2}})(?:{_PHONE_SEP}\d){{7}}"
            # a town's code of 4 or 5 digits in brackets: 8 (3412) 12-34-56
            rf"|(?:\+[ \u00a0]?7|8){_PHONE_SEP}\((?:\d{{4}}\)(?:{_PHONE_SEP}\d){{6}}|\d{{5}}\)(?:{_PHONE_SEP}\d){{5}}))"
            r"(?!\d)"
        ),
        "звоните +7 (912) 345-67-89",
    ),
    Rule(
        "phone abroad",  # a "+" and 10-15 digits: +375 29 123-45-67, +49 (30) 1234567
        "PHONE",
        re.compile(r"(?<![\w+])\+[ \u00a0]?\d(?:[ \u00a0()-]{0,3}\d){9,14}(?!\d)"),
        "звоните +375 29 123-45-67",
        needs=("+",),
    ),
    Rule(
        "name with patronymic",
        "NAME",
        re.compile(rf"(?:{_SURNAME}[ \u00a0]+)?{_CAPITAL}[ \u00a0]+{_PATRONYMIC}(?:[ \u00a0]+{_SURNAME})?"),
        "спасибо оператору Анне Сергеевне",
        needs=("вич", "овн", "евн", "ьич"),
        any_length=True,
    ),
    Rule(
        "local phone after its name",  # seven digits alone are a count or a sum; after "тел" a phone
        "PHONE",
        re.compile(r"(?<!\w)(?i:тел|телефон[^\W\d_]*|моб|мобильн[^\W\d_]*|звоните)(?!\w)[^\d\n]{0,12}"
                   r"(?P<pd>(?<!\d)\d{3}[ \u00a0.-]\d{2}[ \u00a0.-]\d{2}(?![\d]|[.,-]\d))"),
        "тел 345-67-89",
        needs=("тел", "моб", "звоните"),
        any_length=True,
    ),
    Rule(
        "first name and surname",  # after the patronymic rule: "Анна Сергеевна Петрова" is one name
        "NAME",
        re.compile(rf"{_NAME_PART}(?:[ \u00a0]+{_NAME_PART})+"),
        "спасибо Анне Петровой, а Петров И.И. нахамил",
        _full_names,
        any_length=True,
    ),
    Rule(
        "date of birth after its name",  # the keyword stays
        "BIRTHDATE",
        re.compile(r"(?i:дата рождения|рожденн?(?:ый|ая)|д\.р\.|д/р|родил(?:ся|ась))[^\d\n]{0,12}"
                   r"(?P<pd>(?<!\d)\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d\d(?!\d))"),
        "дата рождения 01.02.1990",
        needs=("рожд", "д.р", "д/р", "родил"),
        any_length=True,
    ),
    Rule(
        "address with a flat",
        "ADDRESS",
        re.compile(rf"{_STREET}{_HOUSE}[ \u00a0]*(?i:кв\.|квартира|кв)[ \u00a0]*\d+(?!\d)"),
        "живу ул. Ленина, д. 5, кв. 12",
        needs=("кв",),
        any_length=True,
    ),
    Rule(
        "passport shape",  # series and number without a keyword: "45 10 123456"
        "PASSPORT",
        re.compile(r"(?<![\d-])\d{2}[ \u00a0]?\d{2}[ \u00a0]\d{6}(?![\d-])"),
        "данные 45 10 123456",
    ),
)

# The e-mail rule needs an "@", the others ten digits or more close together, or a passport's
# series and number apart ("4510 номер 123456", "номер 123456 серия 4510"); most comments have neither.
# One leading \d outside the alternatives lets the regex engine skip to digits.
_TEN_DIGITS = re.compile(r"\d(?:(?:\D{0,4}\d){9}|\d\D?\d\d\D{1,25}\d(?:\D?\d){5}|\d{5}\D{1,25}\d\d)")


_WORD_NEEDS = tuple(dict.fromkeys(word for rule in RULES if rule.any_length for word in rule.needs))
# Two capitalised words (or an initial) in a row: the only texts where a name without a patronymic can be.
_CAPITALS_PAIR = re.compile(r"(?:[А-ЯЁ][а-яё]+|(?<![^\W\d_])[А-ЯЁ]\.)[ \u00a0]+[А-ЯЁ]")  # not "Ужасно. Долго"


def find(text: str, by_words: bool = True) -> tuple[Span, ...]:
    """Spans of personal data in `text`, sorted, never overlapping. `by_words=False` leaves out what is found
    by its words rather than its digits (a name, a birth date, a flat): what the model reads is never
    stored, and those rules would cost 5% of preprocessing; output, reports and examples mask them."""
    if not isinstance(text, str):
        raise InputError(f"mask takes a text (str), got {type(text).__name__}")
    has_email = "@" in text
    has_number = _TEN_DIGITS.search(text) is not None
    lower = text.lower() if by_words or has_email or has_number else ""
    by_words = by_words and (any(word in lower for word in _WORD_NEEDS) or _CAPITALS_PAIR.search(text) is not None)
    if not (has_email or has_number or by_words):
        return ()
    if has_number and _WIDE.search(text):
        text = text.translate(_NARROW)
    starts: list[int] = []  # sorted, of spans that never overlap: a new span is checked against two neighbours
    taken: list[Span] = []
    for rule in RULES:
        by_digits = rule.kind == "EMAIL" or has_number
        if not (by_words if rule.any_length else by_digits):
            continue
        if rule.needs and not any(word in lower for word in rule.needs):
            continue
        for match in rule.pattern.finditer(text):
            for start, end in rule.pick(match):
                at = bisect.bisect_left(starts, start)
                if (at and taken[at - 1].end > start) or (at < len(taken) and taken[at].start < end):
                    continue
                starts.insert(at, start)
                taken.insert(at, Span(start, end, rule.kind))
    return tuple(taken)


def mask(text: str) -> Masked:
    """Replace personal data with `<CARD>`, `<PHONE>`, `<EMAIL>`, `<PASSPORT>`, `<SNILS>`, `<INN>`,
    `<ACCOUNT>`, `<NAME>`, `<BIRTHDATE>`, `<ADDRESS>`."""
    spans = find(text)
    return Masked(_replace(text, spans), spans)


def mask_text(text: str, by_words: bool = True) -> str:
    """The masked text only (without building a `Masked`: most texts have nothing to mask); see `find`."""
    spans = find(text, by_words)
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
