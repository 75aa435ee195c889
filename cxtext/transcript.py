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
import re
from dataclasses import dataclass
from typing import Any, Iterable, Union

CUSTOMER, AGENT, BOT, UNKNOWN = "customer", "agent", "bot", "unknown"

# Speaker labels (lower case) -> role. Inline labels must start with a capital letter ("Клиент:"),
# so "я ваш клиент: уже 10 лет" is not a turn.
ROLES: dict[str, str] = {
    **dict.fromkeys(
        "клиент клиентка абонент покупатель покупательница пользователь заявитель гость пациент "
        "заказчик customer client user caller visitor human к кл".split(),
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

_TIME = r"[\[(]?\d{1,2}:\d{2}(?::\d{2})?[\])]?"
_LABELS = "|".join(re.escape(label) for label in sorted(ROLES, key=len, reverse=True))
_LABEL = re.compile(
    rf"(?:^|(?<=[\s.!?;,]))(?:{_TIME}[ \t]*)?(?P<label>{_LABELS})"
    rf"(?:[ \t]*\([^()\n]{{0,40}}\))?(?:[ \t]*{_TIME})?[ \t]*[:：]",
    re.IGNORECASE | re.MULTILINE,
)

_SPEAKER_KEYS = ("speaker", "role", "speaker_role", "author", "from", "sender", "participant", "who", "type")
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
    """The role of a speaker label or a JSON speaker value: "Клиент" -> customer, "bot" -> bot."""
    if not isinstance(label, str):
        return UNKNOWN
    key = label.strip().lower()
    if key in ROLES:
        return ROLES[key]
    first = key.split(" ", 1)[0].rstrip(".:")  # "Оператор Анна", "client_1" stays unknown
    return ROLES.get(first, UNKNOWN)


def _labels(text: str) -> list[re.Match[str]]:
    found = []
    for match in _LABEL.finditer(text):
        start = match.start()
        at_line_start = not text[text.rfind("\n", 0, start) + 1:start].strip(" \t")
        if at_line_start or match.group("label")[0].isupper():
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


def customer_text(transcript: Transcript) -> str:
    """The customer's turns joined by newlines.

    A text without speaker labels comes back as is. When no customer turn is found but other turns
    are (a survey comment starting "Оператор: нагрубил", or a transcript of the agent's side only),
    the whole text comes back: it is more often the customer talking about the agent than an
    agent-only transcript, and an empty text would lose the topic either way.
    """
    if isinstance(transcript, str):
        if ":" not in transcript and "：" not in transcript:
            return transcript  # the fast path for plain comments
        structured = _json_turns(transcript) if _looks_like_json(transcript) else None
        turns = _text_turns(transcript) if structured is None else structured
    else:
        structured = turns = parse_turns(transcript)
    said = [t.text for t in turns if t.speaker_role == CUSTOMER]
    if said:
        return "\n".join(said)
    if structured is None:
        return transcript  # type: ignore[return-value]  # a str here
    return "\n".join(t.text for t in turns if t.text)
