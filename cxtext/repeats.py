"""is_repeat: a customer contacting again about the same issue, from the text or from history."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

import numpy as np
import pandas as pd


@lru_cache(maxsize=1)
def _rules() -> tuple[str, ...]:
    """The cue rules of data/repeat_cues.txt (regular expressions on lower-case text, ё folded to е)."""
    lines = resources.files("cxtext").joinpath("data/repeat_cues.txt").read_text("utf-8").splitlines()
    return tuple(line.split("  #", 1)[0].strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _cue_pattern() -> re.Pattern:
    # every cue starts a word: "основа" holds no "снова", "хуже звонил" no "уже звонил"
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{rule})" for rule in _rules()) + ")")


def says_repeat(text: str) -> bool:
    """True when the text itself says the contact is a repeat ("звоню уже третий раз")."""
    if not text:
        return False
    return _cue_pattern().search(text.lower().replace("ё", "е")) is not None


def says_repeat_many(texts: Sequence[str]) -> list[bool]:
    """`says_repeat` of each text, at a fraction of the cost: the regex engine tries every position of a
    text, while a cue always holds certain words ("уже" or "это", and then "раз" or "заявк"...). One set of
    each rule's words is found with C-speed `str.find` in all texts joined by NUL; the texts holding one
    are checked for the rule's other sets with `in`, and only those holding a word of each set are
    searched for cues."""
    texts = list(texts)  # texts[k] below is the k-th text, also for a pandas Series with other labels
    anchors = _cue_anchors()
    joined = "\x00".join(texts)
    lowered = joined.lower().replace("ё", "е")
    if anchors is None or len(lowered) != len(joined):  # lower-casing "İ" makes two characters
        return [says_repeat(text) for text in texts]
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1) - 1
    holders = _holders(lowered, {word for scan, _ in anchors for word in scan}, ends)
    ends = ends.tolist()
    cue = _cue_pattern()
    found = [False] * len(texts)
    searched: set[int] = set()
    for scan, rest in anchors:
        for k in set().union(*[holders[word] for word in scan]) - searched:
            low = lowered[ends[k - 1] + 1 if k else 0:ends[k]]  # the k-th text, as says_repeat reads it
            if all(any(word in low for word in words) for words in rest):
                searched.add(k)
                found[k] = cue.search(low) is not None
    return found


def _holders(joined: str, words: set[str], ends: np.ndarray) -> dict[str, set[int]]:
    """For each word, the texts that hold it, given the texts joined and where each ends."""
    at_list, word_of = [], []
    for word in words:
        at = joined.find(word)
        while at >= 0:
            at_list.append(at)
            word_of.append(word)
            at = joined.find(word, at + 1)
    holders: dict[str, set[int]] = {word: set() for word in words}
    for word, k in zip(word_of, np.searchsorted(ends, at_list).tolist()):
        holders[word].add(k)
    return holders


@lru_cache(maxsize=1)
def _cue_anchors() -> tuple[tuple[frozenset[str], tuple[frozenset[str], ...]], ...] | None:
    """Per cue rule, sets of words such that a match holds one word of each set, read from the parsed rule,
    as (the set to scan texts for, the other sets); None if some rule holds no word for sure (then every
    text is searched)."""
    try:
        from re import _parser
    except ImportError:  # a Python without it
        return None
    rules = [_required(_parser.parse(rule).data) for rule in _rules()]
    if not all(rules):
        return None
    words = {word for sets in rules for words in sets for word in words}
    # a word holding a shorter one is found through it ("звонил" through "звон"): fewer scans, as sound
    shortest = {word: min((w for w in words if w in word), key=len) for word in words}
    rules = [list(dict.fromkeys(frozenset(map(shortest.get, words)) for words in sets)) for sets in rules]
    anchors, scanned = [], set()
    for sets in rules:  # scan for a set another rule scans for already, else the one of fewest, longest words
        scan = min(sets, key=lambda words: (not words <= scanned, len(words), -min(map(len, words))))
        scanned |= scan
        anchors.append((scan, tuple(words for words in sets if words != scan)))
    return tuple(anchors)


def _required(items: list) -> list[frozenset[str]]:
    """For a parsed regex sequence: sets of strings of 3+ characters, such that every match holds a string
    of each set."""
    from re import _constants as op

    sets: list[frozenset[str]] = []
    run = ""
    for code, value in [*items, (None, None)]:  # a sentinel ends the last run of letters
        if code is op.LITERAL:
            run += chr(value)
            continue
        if len(run) >= 3:
            sets.append(frozenset([run]))
        run = ""
        if code is op.SUBPATTERN:
            sets += _required(value[-1].data)
        elif code is op.BRANCH:  # one set: each option's most selective set, together
            options = [_required(list(branch)) for branch in value[1]]
            if all(options):
                sets.append(frozenset().union(*[max(o, key=lambda s: min(map(len, s))) for o in options]))
        elif code in (op.MAX_REPEAT, op.MIN_REPEAT) and value[0] >= 1:
            sets += _required(value[2].data)
    return sets


_DAY_FIRST = re.compile(r"\s*\d{1,2}[./]\d{1,2}[./]\d{2,4}\b")  # "01.06.2024": the day comes first in Russia


def _blank(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)) or \
        (isinstance(value, str) and not value.strip())


def _to_time(value) -> datetime | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, (int, float, np.number)):  # pd.Timestamp(45413) would be 1970 plus 45413 ns
        return None
    try:
        if isinstance(value, str) and _DAY_FIRST.match(value):
            stamp = pd.to_datetime(value, dayfirst=True)
        else:
            stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def _customer_key(value) -> str | None:
    """A customer id as history compares it: "42", 42 and 42.0 (a number column with a gap) are one customer,
    and so are "c1" and "c1 "; None for a blank id."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = str(value).strip()
    return key or None


@dataclass
class RepeatHistory:
    """Contacts seen so far, per customer: a later contact on the same topic within the window is a repeat.

    The history lives across calls, so a file labelled in chunks (or a service answering tickets one
    by one) still finds repeats. Rows are compared with earlier contacts already seen: for exact
    results on a file, sort it by time first.
    """

    window_days: int = 30
    contacts_: dict = field(default_factory=dict)
    unread_: dict = field(default_factory=dict)  # why rows were left out of the history -> how many

    def mark(self, customer_ids: Sequence, times: Sequence, topics: Sequence[Iterable[str]]) -> list[bool]:
        """Record the contacts and return, per contact, whether it repeats an earlier one."""
        window = timedelta(days=self.window_days)
        rows = []
        for i, (customer, time) in enumerate(zip(customer_ids, times)):
            stamp = _to_time(time)
            ok = customer is not None and not (pd.api.types.is_scalar(customer) and pd.isna(customer))
            customer = _customer_key(customer) if ok else None
            if customer is None or stamp is None:
                why = "no customer id" if customer is None else ("no time" if _blank(time) else "time not readable")
                self.unread_[why] = self.unread_.get(why, 0) + 1
            rows.append((i, customer, stamp))
        out = [False] * len(rows)
        # within a batch, older contacts first, so an earlier ticket counts for a later one
        order = sorted((r for r in rows if r[1] is not None and r[2] is not None), key=lambda r: r[2])
        for i, customer, stamp in order:
            mine = set(topics[i])
            past = self.contacts_.setdefault(customer, [])
            out[i] = any(
                mine & seen and timedelta(0) <= stamp - when <= window for when, seen in past
            )
            if mine:
                past.append((stamp, frozenset(mine)))
        return out
