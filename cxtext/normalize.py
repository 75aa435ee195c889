"""Pure str -> str steps that make feedback text uniform before tokenisation.

`normalize` runs them in the order of STEPS. Placeholders are lower case words in angle brackets
(`<url>`, `<num>`; the masking placeholders `<CARD>`... become `<card>`), emoji and emoticons become
`emo_*` words that survive tokenisation:

    >>> normalize("Пpиложение ОООЧЕНЬ тормозит!!! 😡 см. https://bank.ru/app, 15 000 руб :(")
    'приложение очень тормозит! emo_angry см. <url> <num> руб emo_sad'
"""
from __future__ import annotations

import re
import unicodedata

# --- Unicode -------------------------------------------------------------------------------------

def nfkc(text: str) -> str:
    """Unicode NFKC: full-width letters and digits, ligatures, superscripts become plain."""
    if "№" in text:
        text = text.replace("№", "#")  # NFKC would make it the Latin "No"
    # The check is a C loop over the text; most feedback is already NFKC.
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


# --- Latin look-alikes inside Cyrillic words ----------------------------------------------------

_LOOKALIKES = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "k": "к",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О",
    "P": "Р", "T": "Т", "X": "Х", "Y": "У",
}
_TO_CYRILLIC = str.maketrans(_LOOKALIKES)
_LATIN = re.compile("[A-Za-z]")
# Scripts switch inside a word only where a Latin and a Cyrillic letter touch: a cheap first test.
# It starts with the Latin letter, so the search skips Cyrillic text at C speed.
_SWITCH = re.compile("[A-Za-z](?:(?<=[а-яёА-ЯЁ][A-Za-z])|(?=[а-яёА-ЯЁ]))")
_LETTERS = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile("[а-яёА-ЯЁ]")


def _fold_word(match: re.Match[str]) -> str:
    word = match.group()
    if not (_LATIN.search(word) and _CYRILLIC.search(word)):
        return word  # one script: "iPhone", "QR", "привет"
    folded = word.translate(_TO_CYRILLIC)
    # Fold only when every Latin letter has a Cyrillic twin: "iPhoneа" stays as typed.
    return word if _LATIN.search(folded) else folded


def fold_lookalikes(text: str) -> str:
    """Latin look-alike letters inside Cyrillic words become Cyrillic ("пpивет" -> "привет")."""
    if _SWITCH.search(text):
        return _LETTERS.sub(_fold_word, text)
    return text


# --- Case and ё ---------------------------------------------------------------------------------

def fold_yo(text: str) -> str:
    """ё -> е (after lower case): feedback writers rarely type ё, dictionaries sometimes do."""
    return text.replace("ё", "е")


def lower(text: str) -> str:
    """Lower case (placeholders too: `<CARD>` -> `<card>`)."""
    return text.lower()


# --- URLs and numbers ---------------------------------------------------------------------------

# A link has a scheme, "www." or a path; a bare "name.tld" ("Дом.РФ", "Ozon.ru", "mail.ru") is how customers
# name a company or a mail service, and stays a word.
_URL = re.compile(
    r"(?i)\b(?:https?://|www\.)\S+"
    r"|\b[a-zа-я0-9-]+(?:\.[a-zа-я0-9-]+)*\.(?:ru|рф|com|net|org|su|io|me|info|online|app|pro)/\S*"
)
# "15 000" and "1 500 000,50" are one number each; so are "12.03.2024" and "10:30".
_NUMBER = re.compile(r"\d+(?:(?:[ \u00a0]\d{3})+(?!\d)(?:[.,]\d+)?|(?:[.,:/]\d+)*)")
_DIGIT = re.compile(r"\d")
_URL_HINT = re.compile(r"\.(?:ru|рф|com|net|org|su|io|me|info|online|app|pro)/", re.IGNORECASE)


def replace_urls(text: str) -> str:
    """Links become `<url>`: the fact that a link was sent matters, the address does not."""
    if "://" in text or "www." in text or _URL_HINT.search(text):
        return _URL.sub(" <url> ", text)
    return text


def replace_numbers(text: str) -> str:
    """Numbers become `<num>`, keeping the fact that a number (sum, date, time) was there."""
    return _NUMBER.sub(" <num> ", text) if _DIGIT.search(text) else text


# --- Emoji and emoticons ------------------------------------------------------------------------

EMOJI: dict[str, str] = {
    **dict.fromkeys("😡😠🤬👿💢😤🖕", "emo_angry"),
    **dict.fromkeys("😀😃😄😁😊🙂☺😍🥰😇😌🤗😉😎🤩😋🥳", "emo_happy"),
    **dict.fromkeys("😢😭😞😔😟🙁☹😿💔😥😩😫😓😪🥺", "emo_sad"),
    **dict.fromkeys("👍👌💯❤♥💖💕💗💓💞💙💚💛💜🧡🤍✨⭐🌟🔥🏆🙏💪👏", "emo_like"),
    **dict.fromkeys("👎💩🤮🤢", "emo_dislike"),
    **dict.fromkeys("😂🤣😆😅😹", "emo_laugh"),
    **dict.fromkeys("😮😱😲🤯😳😨😧😦", "emo_shock"),
    **dict.fromkeys("🤔😕😐😑🙄😒😬🤨🤷", "emo_doubt"),
}
# Variation selectors, zero-width joiners and skin tones only decorate emoji ("👍🏻", "❤️").
_EMOJI_DECOR = re.compile("[\ufe0e\ufe0f\u200d\U0001F3FB-\U0001F3FF]")
_EMOJI = re.compile("[\u2600-\u27bf\u2b50\u2b55\U0001F000-\U0001FAFF]")

# Order matters: ">:(" before ":(", ":-)" before ")". Matched without regard to case (":D", ":d").
EMOTICONS: tuple[tuple[str, str], ...] = (
    (r">:-?\(+", "emo_angry"),
    (r"[:;=][-o^]?d+(?![a-zа-яё])", "emo_laugh"),  # ":D" and ":D0", not ":do" or ":дом"
    (r"[:;=][-o^]?\)+|\^_?\^", "emo_happy"),
    (r"[:=][-o^]?\(+|;-?\(+", "emo_sad"),
    (r":-?[/\\]+|:-?\|", "emo_doubt"),  # ":/", and ":\\\\" which collapses to ":\\" later
    (r"<3+(?!\d)", "emo_like"),
    # In Russian ")))" is a smile and "(((" a frown.
    (r"\){2,}", "emo_happy"),
    (r"\({2,}", "emo_sad"),
)
# The first two characters every emoticon above starts with. Without it the pattern would try all
# of its branches at every position; alone, it finds candidates at C speed.
_EMOTICON_HEAD = r"[>:;=^<()][-:oO^dD()/\\|_3]"
_EMOTICON_START = re.compile(_EMOTICON_HEAD)
_EMOTICON = re.compile(
    f"(?={_EMOTICON_HEAD})(?:" + "|".join(f"(?P<e{i}>{p})" for i, (p, _) in enumerate(EMOTICONS)) + ")",
    re.IGNORECASE,
)
_EMOTICON_TOKEN = {f"e{i}": token for i, (_, token) in enumerate(EMOTICONS)}
_EMOTICON_CHARS = re.compile(r"[()<^:;=]")
_PAIRED = re.compile(r"\(([^()]*)\)")
_LONE_BRACKET = re.compile(r"[()]")
_LONE = {")": " emo_happy ", "(": " emo_sad "}
_REPEATED_EMO = re.compile(r"\b(emo_[a-z]+)(?:\s+\1\b)+")


def _emoji_token(match: re.Match[str]) -> str:
    return f" {EMOJI.get(match.group(), 'emo_other')} "


def _lone_token(match: re.Match[str]) -> str:
    # "1) долго ждал 2) нагрубили": a bracket after a digit numbers a list
    return " " if match.start() and match.string[match.start() - 1].isdigit() else _LONE[match.group()]


def _emoticon_token(match: re.Match[str]) -> str:
    return f" {_EMOTICON_TOKEN[match.lastgroup or '']} "


def replace_emoji(text: str) -> str:
    """Emoji become `emo_*` words; an unknown emoji becomes `emo_other`."""
    if not _EMOJI.search(text):
        return text
    return _EMOJI.sub(_emoji_token, _EMOJI_DECOR.sub("", text))


def replace_emoticons(text: str) -> str:
    """":)", ")))", ":(", "(((" and friends become `emo_*` words.

    Paired brackets are ordinary brackets ("(в 10:00)"); a bracket left without a pair is a smile
    ("спасибо)") or a frown ("жаль(").
    """
    if not _EMOTICON_CHARS.search(text):
        return text
    if _EMOTICON_START.search(text):
        text = _EMOTICON.sub(_emoticon_token, text)
    if "(" in text and ")" in text:
        pairs = 1
        while pairs:  # "((a) b)": inner pairs first
            text, pairs = _PAIRED.subn(r" \1 ", text)
    if "(" in text or ")" in text:
        text = _LONE_BRACKET.sub(_lone_token, text)
    return text


def collapse_repeated_emoji(text: str) -> str:
    """"emo_like emo_like emo_like" -> "emo_like"."""
    return _REPEATED_EMO.sub(r"\1", text) if text.count("emo_") > 1 else text


# --- Runs ---------------------------------------------------------------------------------------

_PUNCT_RUN = re.compile(r"([!?.,;:*~=+_/\\|-])\1+")
_TRIPLE = re.compile(r"(\S)\1\1")
_LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")


def collapse_runs(text: str) -> str:
    """"!!!" -> "!", "??" -> "?", "оооочень" -> "очень".

    Three or more equal letters become one: Russian never triples a letter, and doubles ("ссылка")
    are left alone.
    """
    if _TRIPLE.search(text):
        return _LETTER_RUN.sub(r"\1", _PUNCT_RUN.sub(r"\1", text))
    if "!!" in text or "??" in text or ".." in text or ",," in text or "--" in text:
        return _PUNCT_RUN.sub(r"\1", text)
    return text


def collapse_spaces(text: str) -> str:
    """Runs of whitespace (newlines too) become one space; ends are stripped."""
    return " ".join(text.split())


# URLs go before emoticons (":/" in "https://"), emoticons before numbers ("<3"), look-alikes before
# lower case (upper-case twins such as "Н" exist only in upper case).
STEPS = (
    nfkc,
    replace_urls,
    replace_emoticons,
    replace_emoji,
    fold_lookalikes,
    lower,
    fold_yo,
    replace_numbers,
    collapse_repeated_emoji,
    collapse_runs,
    collapse_spaces,
)


# Most comments are Cyrillic words and plain punctuation; for them the steps that look for links,
# emoticons, emoji, Latin letters or digits change nothing, and one scan tells that.
_PLAIN = re.compile(r"[^а-яёА-ЯЁ\s.,!?\-]")


def is_plain(text: str) -> bool:
    """Only Cyrillic letters, whitespace and ". , ! ? -": `normalize_plain` gives the same result."""
    return not _PLAIN.search(text) and ".рф" not in text


def normalize_plain(text: str) -> str:
    """`normalize` of a text that `is_plain`: lower case, ё, runs and spaces are all that can change.

    NFKC is skipped: Cyrillic letters and ". , ! ? -" are NFKC already, and the only whitespace it
    changes (no-break and typographic spaces become " ") is collapsed to " " at the end anyway.
    """
    return collapse_spaces(collapse_runs(text.lower().replace("ё", "е")))


def normalize(text: str) -> str:
    """All STEPS in order: the lower-case text the tokenizer and character n-grams see."""
    if is_plain(text):
        return normalize_plain(text)
    for step in STEPS:
        text = step(text)
    return text
