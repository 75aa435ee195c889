"""Speaker turns of a call or chat transcript, and which of them are the customer's.

A transcript arrives as text with speaker labels, on new lines or inline, optionally with
timestamps::

    [10:32:01] Клиент: не работает приложение
    Оператор: уточните номер телефона

or as a list of turns (a JSON string or Python list): ``[{"speaker": "client", "text": "..."}]``,
with the speaker under `speaker`, `role`, `author`, `from`, `sender`... A text without labels is a
plain comment and is returned as is.
"""
from __future__ import annotations

import json
import math
import numbers
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Union

CUSTOMER, AGENT, BOT, UNKNOWN = "customer", "agent", "bot", "unknown"

# Speaker labels (lower case) -> role. Inline labels must start with a capital letter ("Клиент:"),
# so "я ваш клиент: уже 10 лет" is not a turn.
ROLES: dict[str, str] = {
    **dict.fromkeys(
        "клиент клиентка абонент абонентка покупатель покупательница пользователь заявитель гость пациент "
        "заказчик посетитель звонящий customer client user caller visitor human к кл".split(),
        CUSTOMER,
    ),
    **dict.fromkeys(
        "оператор операторка сотрудник сотрудница специалист менеджер консультант агент поддержка "
        "техподдержка диспетчер администратор продавец agent operator manager employee support "
        "staff о оп".split(),
        AGENT,
    ),
    **dict.fromkeys(
        "бот чат-бот чатбот робот ассистент автоответчик ivr система bot chatbot assistant system".split(),
        BOT,
    ),
    "служба поддержки": AGENT,
    "виртуальный помощник": BOT,
    "виртуальный ассистент": BOT,
}

# Diarised speakers, whose role the recogniser does not know: "Спикер 1", "SPEAKER_00", "Speaker 2".
_DIARISED = r"(?:спикер|говорящий|участник|speaker|spk)[ \t_]?\d{1,2}"
SPEAKER = "speaker "  # the role of a diarised speaker, with its number: "speaker 1" (see customer_text)

# "10:32", "[10:32:01]", "2024-05-14 10:32", "[14.05.2024, 10:32:01]" (WhatsApp), "14.05.24, 10:32 -" (its Android export)
_TIME = (r"[\[(]?(?:\d{4}-\d\d-\d\d[ T]|\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d\d),?[ \t]+)?\d{1,2}:\d{2}(?::\d{2})?[\])]?"
         r"(?:[ \t]+[-\u2013\u2014](?=[ \t]))?")
_LABELS = "|".join(re.escape(label) for label in sorted(ROLES, key=len, reverse=True))
# After a role, a name or a number: "Оператор Анна", "Клиент Петров И.", "Operator 1".
_NAME = r"(?:[ \t]+(?-i:\d{1,2}|[А-ЯЁA-Z][а-яёa-z]+(?:[ \t][А-ЯЁA-Z]\.){0,2}))?"  # capitalised, in any flags
_LABEL = re.compile(
    rf"(?:^|(?<=[\s.!?;,]))(?:{_TIME}[ \t]*)?(?P<label>(?:{_LABELS}){_NAME}|{_DIARISED})"
    rf"(?:[ \t]*\([^()\n]{{0,40}}\))?(?:(?:[ \t]*{_TIME})?[ \t]*[:：]|,[ \t]*{_TIME}[ \t]*(?=\r?\n))",
    re.IGNORECASE | re.MULTILINE,
)  # the last form is a Telegram export's: "Клиент, [14.05.2024 12:01]" on a line of its own, the words below
_STAMPED_LINE = re.compile(rf",[ \t]*{_TIME}[ \t]*\r?\n")  # such a label line, for the fast path to let through

_LABEL_COLON = re.compile(r"(?<!\d)[:：]|[:：](?!\d)")  # a colon that is not a time's ("10:30")
_DIARISED_LABEL = re.compile(_DIARISED, re.IGNORECASE)

_SPEAKER_KEYS = ("speaker", "role", "speaker_role", "author", "from", "sender", "participant", "who", "type",
                 "speaker_id", "speakerTag", "channelTag", "channel")
_TEXT_KEYS = ("text", "message", "content", "body", "utterance", "phrase", "msg")
_TURN_LISTS = ("turns", "messages", "dialog", "dialogue", "transcript", "replicas")


@dataclass(frozen=True)
class Turn:
    """One speaker turn. `start`/`end` are offsets of `text` in the raw transcript; for structured
    turns (dicts, JSON) the raw transcript is the turns' texts joined by newlines."""

    speaker_role: str  # customer, agent, bot, unknown
    text: str
    start: int
    end: int


Transcript = Union[str, Iterable[Any]]


def role_of(label: object) -> str:
    """The role of a speaker label or a JSON speaker value: "Клиент" -> customer, "bot" -> bot; a diarised
    speaker ("Спикер 2", "SPEAKER_01", a channel number) -> "speaker 2", "speaker 1"."""
    if isinstance(label, numbers.Real) and not isinstance(label, bool) and math.isfinite(label) \
            and label == int(label):
        return f"{SPEAKER}{int(label)}"
    if not isinstance(label, str):
        return UNKNOWN
    key = label.strip().lower()
    if key in ROLES:
        return ROLES[key]
    if _DIARISED_LABEL.fullmatch(key) or (key.isdigit() and len(key) <= 2):
        return SPEAKER + str(int("".join(ch for ch in key if ch.isdigit())))
    first = key.split(" ", 1)[0].rstrip(".:")  # "Оператор Анна", "client_1" stays unknown
    return ROLES.get(first, UNKNOWN)


def _labels(text: str) -> list[re.Match[str]]:
    """Speaker labels: at a line's start; inline, when capitalised ("... Оператор: ...") or a diarised
    speaker ("... спикер 2: ..."). A label ending in a number right before a digit is a time ("к 11:00")."""
    found = []
    for match in _LABEL.finditer(text):
        start, label = match.start(), match.group("label")
        if label[-1].isdigit() and text[match.end():match.end() + 1].isdigit():
            continue
        before = start
        while before and text[before - 1] in " \t":
            before -= 1
        at_line_start = not before or text[before - 1] == "\n"
        if at_line_start or label[0].isupper() or _DIARISED_LABEL.fullmatch(label):
            found.append(match)
    return found


def _stripped_turn(role: str, raw: str, start: int, end: int) -> Turn | None:
    chunk = raw[start:end]
    left = len(chunk) - len(chunk.lstrip())
    text = chunk.strip()
    return Turn(role, text, start + left, start + left + len(text)) if text else None


def _text_turns(text: str) -> tuple[Turn, ...]:
    labels = _labels(text) if (":" in text or "：" in text) else []
    if not labels:
        return (Turn(UNKNOWN, text, 0, len(text)),) if text.strip() else ()
    turns = []
    bounds = [m.start() for m in labels[1:]] + [len(text)]
    preamble = _stripped_turn(UNKNOWN, text, 0, labels[0].start())
    if preamble:
        turns.append(preamble)
    for match, end in zip(labels, bounds):
        turn = _stripped_turn(role_of(match.group("label")), text, match.end(), end)
        if turn:
            turns.append(turn)
    return tuple(turns)


def _structured_turns(items: Iterable[Any]) -> tuple[Turn, ...] | None:
    """Turns from dicts (or Turns); None when `items` is not a list of turns."""
    turns = []
    offset = 0
    for item in items:
        if isinstance(item, Turn):
            role, text = item.speaker_role, item.text
        elif isinstance(item, dict):
            role = next((role_of(item[k]) for k in _SPEAKER_KEYS if k in item), UNKNOWN)
            text = next((item[k] for k in _TEXT_KEYS if isinstance(item.get(k), str)), "")
        else:
            return None
        turns.append(Turn(role, text, offset, offset + len(text)))
        offset += len(text) + 1
    return tuple(turns)


def _json_turns(text: str) -> tuple[Turn, ...] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict):
        data = next((data[k] for k in _TURN_LISTS if isinstance(data.get(k), list)), None)
    return _structured_turns(data) if isinstance(data, list) and data else None


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("[", "{")


def parse_turns(transcript: Transcript) -> tuple[Turn, ...]:
    """Split a transcript into turns. A text without labels is one turn of an unknown speaker."""
    if isinstance(transcript, str):
        turns = _json_turns(transcript) if _looks_like_json(transcript) else None
        return _text_turns(transcript) if turns is None else turns
    if isinstance(transcript, dict):
        transcript = [transcript]
    turns = _structured_turns(transcript)
    if turns is None:
        raise TypeError(f"expected a transcript text or a list of turn dicts, got {type(transcript).__name__}")
    return turns


@lru_cache(maxsize=1)
def _cues() -> dict[str, object]:
    """The speaker cues of data/speaker_cues.tsv: agent and customer phrases as whole-word patterns (longest
    first, so "я звоню" counts once and "перезвоню" is not "звоню"), and the words of an agent's answer."""
    kinds: dict[str, list[str]] = {"agent": [], "customer": [], "answer": []}
    text = resources.files("cxtext").joinpath("data/speaker_cues.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            kind, cue = line.split("\t")
            kinds[kind].append(cue.strip())

    def pattern(cues: list[str]) -> re.Pattern[str]:
        words = sorted(cues, key=lambda w: len(w.rstrip("*")), reverse=True)
        return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "")
                                                    for w in words) + r")(?!\w)")

    return {"agent": pattern(kinds["agent"]), "customer": pattern(kinds["customer"]), "answer": tuple(kinds["answer"])}


def _customer_speaker(turns: tuple[Turn, ...]) -> str | None:
    """Which of two diarised speakers ("speaker 1", "speaker 2") is the customer: the one whose words
    sound less like an agent's (greeting by company, scripts, "уточните", "ожидайте") and more like a
    customer's ("у меня", "верните", "почему"). None when there are not two such speakers or no cue
    tells them apart."""
    said: dict[str, list[str]] = {}
    for turn in turns:
        if turn.speaker_role.startswith(SPEAKER):
            said.setdefault(turn.speaker_role, []).append(turn.text)
    if len(said) != 2:
        return None
    cues, score = _cues(), {}
    for speaker, texts in said.items():
        words = " ".join(texts).lower().replace("ё", "е")
        score[speaker] = len(cues["agent"].findall(words)) - len(cues["customer"].findall(words))
    first = next(t for t in turns if t.speaker_role in said)
    if any(cue in first.text.lower() for cue in cues["answer"]):
        score[first.speaker_role] += 2
    (customer, a), (_, b) = sorted(score.items(), key=lambda kv: kv[1])
    return customer if a < b else None


def customer_text(transcript: Transcript) -> str:
    """The customer's turns joined by newlines (see `split_customer`)."""
    return split_customer(transcript)[0]


def split_customer(transcript: Transcript) -> tuple[str, bool]:
    """(the customer's turns joined by newlines, whether turns were found but none was the customer's).

    A text without speaker labels comes back as is. Of two diarised speakers ("Спикер 1", "SPEAKER_00"),
    the customer is told by what each says (see _customer_speaker). When no customer turn is found but
    other turns are (a survey comment starting "Оператор: нагрубил", or a transcript of the agent's side
    only), the whole text comes back, flagged: it is more often the customer talking about the agent than
    an agent-only transcript, and an empty text would lose the topic either way; a reader should check.
    """
    if isinstance(transcript, str):
        if (":" not in transcript and "：" not in transcript or not _LABEL_COLON.search(transcript)) \
                and not (":" in transcript and _STAMPED_LINE.search(transcript)):
            return transcript, False  # the fast path for plain comments (a colon in "10:30" ends no label)
        structured = _json_turns(transcript) if _looks_like_json(transcript) else None
        turns = _text_turns(transcript) if structured is None else structured
    else:
        structured = turns = parse_turns(transcript)
    customer = CUSTOMER if any(t.speaker_role == CUSTOMER for t in turns) else _customer_speaker(turns)
    said = [t.text for t in turns if t.speaker_role == customer]
    if said:
        return "\n".join(said), False
    # turns from JSON are a transcript; one labelled line ("Поддержка: молчит третий день") is a comment
    labelled = (structured is not None or len(turns) > 1) and any(t.speaker_role != UNKNOWN for t in turns)
    if structured is None:
        return transcript, labelled  # type: ignore[return-value]  # a str here
    return "\n".join(t.text for t in turns if t.text), labelled
