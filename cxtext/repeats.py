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
def _cue_pattern() -> re.Pattern:
    lines = resources.files("cxtext").joinpath("data/repeat_cues.txt").read_text("utf-8").splitlines()
    rules = [line.split("  #", 1)[0].strip() for line in lines if line.strip() and not line.startswith("#")]
    # every cue starts a word: "основа" holds no "снова", "хуже звонил" no "уже звонил", and the
    # search skips the middle of words quickly
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{rule})" for rule in rules) + ")")


def says_repeat(text: str) -> bool:
    """True when the text itself says the contact is a repeat ("звоню уже третий раз")."""
    if not text:
        return False
    return _cue_pattern().search(text.lower().replace("ё", "е")) is not None


def says_repeat_many(texts: Sequence[str]) -> list[bool]:
    """`says_repeat` of each text, with one scan of all texts joined: a call per short comment costs more
    than its search. No cue crosses the NUL that joins them (cues span only letters, digits, spaces and
    "-"); a text holding a NUL itself is searched on its own."""
    found = [False] * len(texts)
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [says_repeat(text) for text in texts]
    joined = joined.lower().replace("ё", "е")
    starts = [match.start() for match in _cue_pattern().finditer(joined)]
    if starts:  # which text each cue is in: the number of NULs before it
        nul_at = np.flatnonzero(np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32) == 0)
        for k in np.searchsorted(nul_at, starts).tolist():
            found[k] = True
    return found


_DAY_FIRST = re.compile(r"\s*\d{1,2}[./]\d{1,2}[./]\d{2,4}\b")  # "01.06.2024": the day comes first in Russia


def _to_time(value) -> datetime | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
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


@dataclass
class RepeatHistory:
    """Contacts seen so far, per customer: a later contact on the same topic within the window is a repeat.

    The history lives across calls, so a file labelled in chunks (or a service answering tickets one
    by one) still finds repeats. Rows are compared with earlier contacts already seen: for exact
    results on a file, sort it by time first.
    """

    window_days: int = 30
    contacts_: dict = field(default_factory=dict)

    def mark(self, customer_ids: Sequence, times: Sequence, topics: Sequence[Iterable[str]]) -> list[bool]:
        """Record the contacts and return, per contact, whether it repeats an earlier one."""
        window = timedelta(days=self.window_days)
        rows = []
        for i, (customer, time) in enumerate(zip(customer_ids, times)):
            stamp = _to_time(time)
            ok = customer is not None and not (pd.api.types.is_scalar(customer) and pd.isna(customer))
            rows.append((i, str(customer) if ok and str(customer).strip() else None, stamp))
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
