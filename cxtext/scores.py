"""Survey and contact metrics: NPS, CSI/CSAT, CES, roll-ups, group points, cost, contact rate.

Pure pandas/numpy. Every figure is an `Estimate` that carries its n and a 95% interval; answers that
are missing, non-numeric or off the scale are counted per reason by `clean_scores`, never dropped silently.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import InputError
from .labels import split_topics, to_bool
from .mask import mask_text
from .preprocess import EMPTY_MARKS

Z95 = 1.959963984540054
RELIABLE_N = 300  # fewer answers: shown, flagged "not yet reliable"
MIN_N = 30  # fewer answers: shown greyed out
PRICE = 130.0  # RUB per contact handled at the first line
BACK_OFFICE_PRICE = 330.0  # RUB per contact that went on to the back office

# Reasons an answer is left out of a score, in the words of the data-quality table.
MISSING, NOT_NUMBER, OFF_SCALE = "пропуск оценки", "оценка не число", "оценка вне шкалы"
# Reasons a row is left out of the trends only (it still counts in every other figure).
NO_DATE, BAD_DATE = "пропуск даты (нет в динамике)", "дата не распознана (нет в динамике)"


@dataclass(frozen=True)
class Scale:
    """A rating scale: its kind ('nps' or 'mean'), bounds and the range counted as negative."""

    name: str
    low: float
    high: float
    negative_high: float  # answers from `low` to this value are "negative"
    kind: str = "mean"


SCALES = {
    "nps": Scale("nps", 0, 10, 6, kind="nps"),
    "csi": Scale("csi", 1, 5, 3),
    "csat": Scale("csat", 1, 5, 3),
    "ces": Scale("ces", 1, 5, 3),
    "ces7": Scale("ces7", 1, 7, 4),
}


def get_scale(scale: str | Scale, low: float | None = None, high: float | None = None,
              negative_high: float | None = None) -> Scale:
    """The named scale ('nps', 'csi', 'csat', 'ces', 'ces7'), with bounds optionally overridden."""
    if isinstance(scale, Scale):
        base = scale
    elif str(scale).lower() in SCALES:
        base = SCALES[str(scale).lower()]
    else:
        raise InputError(f"scale '{scale}' is unknown; use one of {', '.join(SCALES)} (e.g. --scale nps)")
    low = base.low if low is None else low
    high = base.high if high is None else high
    if negative_high is None:
        negative_high = base.negative_high if (low, high) == (base.low, base.high) else low + (high - low) / 2
    if not low < high:
        raise InputError(f"scale bounds must satisfy low < high, got {low}..{high}")
    return Scale(base.name, low, high, negative_high, base.kind)


def reliability(n: int) -> str:
    """'ok' from 300 answers, 'low_n' from 30, else 'too_few' (shown greyed out)."""
    return "ok" if n >= RELIABLE_N else ("low_n" if n >= MIN_N else "too_few")


RELIABILITY_RU = {"ok": "надёжно", "low_n": "мало ответов (<300)", "too_few": "очень мало (<30), не выводы"}


@dataclass(frozen=True)
class Estimate:
    """A metric with its standard error, 95% interval and the number of answers behind it."""

    value: float
    se: float
    low: float
    high: float
    n: int

    @property
    def reliability(self) -> str:
        return reliability(self.n)

    def as_dict(self) -> dict:
        return {"value": self.value, "se": self.se, "low": self.low, "high": self.high, "n": self.n,
                "reliability": self.reliability}


def clean_scores(values: pd.Series, scale: str | Scale = "nps") -> tuple[pd.Series, pd.DataFrame]:
    """Numeric scores (NaN where unusable) and a data-quality table: reason, n, share, examples."""
    sc = get_scale(scale)
    raw = pd.Series(values)
    text = raw.astype("string").str.strip().str.replace(",", ".", regex=False)
    missing = raw.isna() | text.isna() | (text == "") | text.str.lower().isin(EMPTY_MARKS).fillna(False)
    num = pd.to_numeric(text.where(~missing), errors="coerce")
    worded = ~missing & num.isna()
    if worded.any():  # "9 баллов", "7 из 10", "4/5": the number, when the "out of" is the scale's top
        num = num.where(~worded, text[worded].map({v: _worded_score(v, sc) for v in text[worded].unique()}))
    not_number = ~missing & num.isna()
    off = ~missing & ~not_number & ((num < sc.low) | (num > sc.high))
    quality = _quality(raw, ((MISSING, missing), (NOT_NUMBER, not_number), (OFF_SCALE, off)))
    return num.where(~off).astype(float), quality


_WORDED = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*(?:(?:/|из)\s*(\d+))?\s*(?:балл\w*|б\.?|звезд\w*|★+)?[.!]?",
                     re.IGNORECASE)


def _worded_score(text: str, sc: Scale) -> float:
    """The score in "9 баллов", "7 из 10", "4/5", "5 звёзд"; NaN when it is not one, or is out of another top."""
    m = _WORDED.fullmatch(text.replace("ё", "е").replace("Ё", "Е"))
    if m is None or (m[2] is not None and float(m[2]) != sc.high):
        return math.nan
    return float(m[1])


def _quality(raw: pd.Series, reasons) -> pd.DataFrame:
    """The data-quality table: one row per (reason, mask) that holds any row, with example values."""
    rows = []
    for reason, mask in reasons:
        n = int(mask.sum())
        if n:
            examples = ", ".join(dict.fromkeys(mask_text(str(v)) for v in raw[mask].tolist()[:50]))
            rows.append({"reason": reason, "n": n, "share": n / max(len(raw), 1), "examples": examples[:120]})
    return pd.DataFrame(rows, columns=["reason", "n", "share", "examples"])


def suggest_scale(values: pd.Series) -> str | None:
    """The narrowest named scale holding 95% of the numeric answers (0-10 answers and a stray 11 -> 'nps')."""
    text = pd.Series(values).astype("string").str.strip().str.replace(",", ".", regex=False)
    num = pd.to_numeric(text, errors="coerce").dropna()
    fits = [sc for sc in SCALES.values() if len(num) and num.between(sc.low, sc.high).mean() >= 0.95]
    return min(fits, key=lambda sc: sc.high - sc.low).name if fits else None


def answer_values(scores: pd.Series | np.ndarray, scale: str | Scale = "nps") -> np.ndarray:
    """Per-answer values whose mean is the metric: +100/0/-100 for NPS, the score itself otherwise."""
    sc = get_scale(scale)
    s = np.asarray(scores, dtype=float)
    if sc.kind == "nps":
        return np.where(np.isnan(s), np.nan, np.where(s >= 9, 100.0, np.where(s <= 6, -100.0, 0.0)))
    return s


def _estimate(value: float, se: float, n: int, bounds: tuple[float, float]) -> Estimate:
    lo, hi = value - Z95 * se, value + Z95 * se
    return Estimate(float(value), float(se), float(max(lo, bounds[0])), float(min(hi, bounds[1])), int(n))


def value_bounds(scale: str | Scale) -> tuple[float, float]:
    """The range of the per-answer values of `answer_values`: -100..100 for NPS, the scale's bounds otherwise."""
    sc = get_scale(scale)
    return (-100.0, 100.0) if sc.kind == "nps" else (float(sc.low), float(sc.high))


def smoothed_interval(total, total_sq, n, bounds: tuple[float, float]):
    """Centre, standard error and 95% interval of a mean of bounded answers, given their sum, sum of squares, n.

    Agresti-Coull generalised to a bounded scale: z^2/2 answers are added at each end of the scale before
    the mean and variance are taken (for a 0/1 share this is exactly Agresti-Coull). Three answers of 0 on
    NPS would otherwise give a standard error of 0 and an interval of -100..-100; the interval is kept within
    the scale. Arrays work element-wise; n = 0 gives NaN.
    """
    k = Z95**2 / 2
    lo, hi = bounds
    n = np.asarray(n, dtype=float)
    n_adj = n + 2 * k
    centre = (np.asarray(total, dtype=float) + k * (lo + hi)) / n_adj
    var = np.maximum((np.asarray(total_sq, dtype=float) + k * (lo * lo + hi * hi)) / n_adj - centre**2, 0)
    se = np.sqrt(var / n_adj)
    empty = n <= 0
    centre, se = np.where(empty, np.nan, centre), np.where(empty, np.nan, se)
    return centre, se, np.clip(centre - Z95 * se, lo, hi), np.clip(centre + Z95 * se, lo, hi)


def nps(scores: pd.Series | np.ndarray) -> Estimate:
    """NPS = %promoters(9-10) - %detractors(0-6); SE = 100*sqrt((pP + pD - (pP - pD)^2) / n).

    The interval is the plain normal one, too narrow on a few answers (3 detractors: -100..-100); a report's
    figures take `score`'s.
    """
    s = np.asarray(scores, dtype=float)
    s = s[~np.isnan(s)]
    n = len(s)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    p_p, p_d = float(np.mean(s >= 9)), float(np.mean(s <= 6))
    var = p_p + p_d - (p_p - p_d) ** 2
    return _estimate(100 * (p_p - p_d), 100 * math.sqrt(var / n), n, (-100, 100))


def mean_score(scores: pd.Series | np.ndarray, scale: str | Scale = "csi") -> Estimate:
    """The mean answer (CSI, CSAT, CES) with a normal-approximation 95% interval (none from one answer; a
    report's figures take `score`'s)."""
    sc = get_scale(scale)
    s = np.asarray(scores, dtype=float)
    s = s[~np.isnan(s)]
    n = len(s)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    se = float(np.std(s, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return _estimate(float(np.mean(s)), se, n, (sc.low, sc.high))


def negative_share(scores: pd.Series | np.ndarray, scale: str | Scale = "csi",
                   negative_high: float | None = None) -> Estimate:
    """Share (%) of answers from the bottom of the scale to `negative_high` (1-3 on 1-5), Wilson interval."""
    sc = get_scale(scale, negative_high=negative_high)
    s = np.asarray(scores, dtype=float)
    s = s[~np.isnan(s)]
    n = len(s)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    p = float(np.mean(s <= sc.negative_high))
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return Estimate(100 * p, 100 * math.sqrt(p * (1 - p) / n), 100 * (centre - half), 100 * (centre + half), n)


NO_GROUP = "без группы (текст не обработан)"
NO_SEGMENT = "(не указан)"


def segment_labels(values: pd.Series) -> pd.Series:
    """Segment names as text (personal data masked: a report shows them), a missing or blank one shown as
    NO_SEGMENT rather than '' or 'nan'."""
    text = values.astype("string").str.strip()
    named = text.mask(text.isna() | (text == ""), NO_SEGMENT).astype(str)
    # each distinct name once, by digits and "@" only: a name masked as <NAME> would merge two operators'
    # segments into one
    return named.map({v: mask_text(v, by_words=False) for v in named.unique()})


def smoothed_score(scores: pd.Series | np.ndarray, scale: str | Scale = "nps") -> Estimate:
    """The metric (NPS, or the mean) with the interval of `smoothed_interval`, honest on a few answers (three
    detractors: -100..+23.5, not -100..-100) and the plain one from ~300. `score` is this."""
    values = answer_values(scores, scale)
    values = values[~np.isnan(values)]
    if not len(values):
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    _, se, low, high = smoothed_interval(values.sum(), values @ values, len(values), value_bounds(scale))
    return Estimate(float(values.mean()), float(se), float(low), float(high), int(len(values)))


def score(scores: pd.Series | np.ndarray, scale: str | Scale = "nps") -> Estimate:
    """The headline metric of a scale (NPS for 'nps', the mean for CSI/CSAT/CES) with `smoothed_score`'s
    interval: five answers get an interval that covers, and from ~300 answers it is the plain normal one."""
    return smoothed_score(scores, scale)


def weighted_index(parts: Mapping[str, Estimate], weights: Mapping[str, float],
                   scale: str | Scale = "nps") -> Estimate:
    """Roll up triggers into a product (or products into a business) with the user's weights.

    Weights are normalised to sum to 1 (hall 70, delivery 30 -> 0.7, 0.3); parts are taken as
    independent samples, so SE = sqrt(sum w^2 se^2), the interval kept within `scale` (give the parts' scale: "csi" for CSI parts).
    n is the total answers behind the index.
    """
    missing = [k for k in weights if k not in parts]
    if missing or not weights:
        raise InputError(f"weights name parts that have no score: {missing or 'none given'}; "
                         f"parts are: {', '.join(parts)}")
    total = float(sum(weights.values()))
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise InputError(f"weights must be non-negative and not all zero, got {dict(weights)}")
    w = {k: v / total for k, v in weights.items()}
    value = sum(w[k] * parts[k].value for k in w)
    se = math.sqrt(sum((w[k] * parts[k].se) ** 2 for k in w))
    n = sum(parts[k].n for k in w)
    return _estimate(value, se, n, value_bounds(scale))


def as_bool(values: pd.Series) -> pd.Series:
    """Booleans from a column re-read from CSV/Excel: True/False, 'true'/'false', 1/0, 'да'/'нет'."""
    return pd.Series(values).map(to_bool).astype(bool)


def topic_lists(values: pd.Series) -> pd.Series:
    """Topic ids per row from 'a;b' strings, lists, "" or NaN (-> [])."""
    return pd.Series(values).map(split_topics)


def topic_matrix(values: pd.Series, order: list[str] | None = None) -> pd.DataFrame:
    """0/1 indicators, one column per topic (taxonomy order first, then unknown ids as found)."""
    lists = topic_lists(values)
    found = list(dict.fromkeys(t for row in lists for t in row))
    cols = [t for t in (order or []) if t in found] + [t for t in found if t not in (order or [])]
    data = np.zeros((len(lists), len(cols)), dtype=np.int8)
    index = {t: i for i, t in enumerate(cols)}
    for r, row in enumerate(lists):
        for t in row:
            data[r, index[t]] = 1
    return pd.DataFrame(data, columns=cols, index=pd.Series(values).index)


def contact_points(labelled: pd.DataFrame, taxonomy=None) -> pd.Series:
    """Points per contact: the group's points (consultation 1 ... claim 2) plus repeat points if repeat."""
    tax = taxonomy or _default_taxonomy()
    pts = labelled["group"].map(tax.group_points()).fillna(0).astype(float)
    if "is_repeat" in labelled:
        pts = pts + as_bool(labelled["is_repeat"]).astype(float) * tax.repeat_points
    return pts


def contact_cost(labelled: pd.DataFrame, price: float = PRICE, back_office_price: float = BACK_OFFICE_PRICE,
                 back_office_col: str | None = "back_office") -> pd.Series:
    """Cost per contact in RUB: `price`, or `back_office_price` where the optional boolean column is true."""
    if back_office_col and back_office_col in labelled:
        bo = as_bool(labelled[back_office_col])
        return pd.Series(np.where(bo, back_office_price, price), index=labelled.index, dtype=float)
    return pd.Series(price, index=labelled.index, dtype=float)


# "05.02.2026" is 5 February in a Russian export, not May 2; an ISO "2026-02-05" must not be read day first
_DAY_FIRST = r"^\s*\d{1,2}\.\d{1,2}\.\d{2,4}"
# the zone after a time: "2024-05-31T23:30:00+03:00", "... 10:00Z", "... 10:00:00.5 +0300"
_ZONE = r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$"


def parse_dates(values: pd.Series) -> pd.Series:
    """Timestamps from a date column, NaT where unreadable; '05.02.2026' is read day first.

    A time's zone is dropped, keeping the date and time as written ("2024-05-31T23:30:00+03:00" is in
    May), so a column mixing '2024-05-01' and '2024-05-03T10:00:00+03:00' is read whole.
    """
    text = pd.Series(values).astype("string").str.strip()
    day_first = text.str.match(_DAY_FIRST).fillna(False).astype(bool)
    dates = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for mask, dayfirst in ((day_first, True), (~day_first, False)):
        if mask.any():
            dates[mask] = _to_datetime(text[mask], dayfirst)
    return dates


def _to_datetime(text: pd.Series, dayfirst: bool) -> pd.Series:
    try:
        dates = pd.to_datetime(text, errors="coerce", dayfirst=dayfirst, format="mixed")
    except ValueError:  # pandas refuses a column whose zones differ (or that has none in places): drop them
        dates = pd.to_datetime(text.str.replace(_ZONE, r"\1", regex=True), errors="coerce", dayfirst=dayfirst,
                               format="mixed")
    dates = dates.dt.tz_localize(None) if dates.dt.tz is not None else dates
    # "01.2024" reads as 1 January of the year 1, which no nanosecond timestamp holds: not a date
    return dates.where((dates >= pd.Timestamp.min) & (dates <= pd.Timestamp.max))


# Russian month names, any case, nominative, genitive or short: "Январь", "января", "янв", "сент"
MONTHS_RU = ("янв(?:арь|аря)?", "фев(?:р|раль|раля)?", "мар(?:т|та)?", "апр(?:ель|еля)?", "ма[йя]",
             "июн(?:ь|я)?", "июл(?:ь|я)?", "авг(?:уст|уста)?", "сен(?:т|тябрь|тября)?", "окт(?:ябрь|ября)?",
             "ноя(?:брь|бря)?", "дек(?:абрь|абря)?")
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_G = r"(?:\s*г(?:ода|\.)?)?"  # "2024 г.", "2024 года"
# Period labels of exports, matched whole and in any case: (period kind, pattern, examples).
PERIOD_RULES = (
    ("M", rf"(?P<n>0?[1-9]|1[0-2])\s*[./-]\s*{_YEAR}", "11.2023, 11/2023"),
    ("M", rf"{_YEAR}\s*[./-]\s*(?P<n>0?[1-9]|1[0-2])", "2023-11, 2023.11"),
    ("M", rf"(?P<name>[а-яё]+)\.?,?\s*{_YEAR}{_G}", "Январь 2024, января 2024 г., янв. 2024"),
    ("Q", rf"q\s*(?P<n>[1-4])\s*[-/.]?\s*{_YEAR}{_G}", "Q1 2024, Q1-2024"),
    ("Q", rf"(?P<n>[1-4])\s*(?:-?й)?\s*кв(?:\.|артал)?\s*{_YEAR}{_G}", "1 кв. 2024, 1-й квартал 2024 г."),
    ("Q", rf"{_YEAR}\s*[-/.]?\s*q\s*(?P<n>[1-4])", "2024 Q1, 2024Q1, 2024-Q1"),
    ("Y", rf"{_YEAR}{_G}", "2024, 2024 г."),
)


def _month_number(word: str) -> int | None:
    """1 for "Январь", "января" or "янв", ...; None for a word that is no month."""
    word = word.lower().rstrip(".")
    return next((i for i, form in enumerate(MONTHS_RU, 1) if re.fullmatch(form, word)), None)


def _read_period(label: str, freq: str) -> str | None:
    """The period a label names ('11.2023' -> '2023-11', 'Q1 2024' -> '2024Q1'), None if it names none.

    A period within one of `freq` becomes that one; a longer one stays as named (a quarter by months).
    """
    if ":" in label or len(label) > 30:  # a time stamp, or a sentence: never a period's name
        return None
    for kind, pattern, _ in PERIOD_RULES:
        m = re.fullmatch(pattern, label, re.IGNORECASE)
        parts = m.groupdict() if m else {}
        number = _month_number(parts["name"]) if "name" in parts else int(parts.get("n") or 1)
        if m and number:  # not "марафон 2024"
            unit = "quarter" if kind == "Q" else "month"
            period = pd.Period(year=int(m["year"]), freq=kind, **{unit: number})
            wider = period.start_time.to_period(freq)
            return str(wider if wider.end_time >= period.end_time else period)
    return None


def clean_periods(values: pd.Series, freq: str = "M") -> tuple[pd.Series, pd.DataFrame]:
    """Period labels ('2026-03' for months; NA where a row has none) and a data-quality table.

    A value is read as the period it names: a month ('11.2023', '11/2023', '2023-11', 'Январь 2024',
    'янв 2024' -> '2024-01'), a quarter ('Q1 2024', '1 кв. 2024', '2024 Q1' -> '2024Q1'), a year, or a date
    (its month). When most filled values are read so, one that is not ('вчера') gets no period and is counted;
    otherwise the values are period labels as given ('неделя 2'). `sort_periods` puts either in time order.
    """
    raw = pd.Series(values)
    text = raw.astype("string").str.strip()
    missing = text.isna() | (text == "")
    labels = text.mask(missing)
    named = labels.map({v: _read_period(v, freq) for v in labels.dropna().unique()}).astype("string")
    dates = parse_dates(labels.where(named.isna()))
    periods = named.fillna(dates.dt.to_period(freq).astype("string"))
    if periods.notna().sum() > (~missing).sum() / 2:
        unreadable = ~missing & periods.isna()
    else:
        periods, unreadable = labels, pd.Series(False, index=raw.index)
    return periods, _quality(raw, ((NO_DATE, missing), (BAD_DATE, unreadable)))


def sort_periods(labels: Iterable) -> list[str]:
    """The distinct labels of `clean_periods` in time order ('2023Q4' before '2024Q1').

    Labels that name no period are sorted naturally, not as text: numbers as numbers ('неделя 2' before
    'неделя 10') and a Russian month name as its number ('Январь' before 'Март').
    """
    return sorted(dict.fromkeys(str(v) for v in labels if not pd.isna(v)), key=_period_key)


def _period_key(label: str) -> tuple:
    """Numbers and month names compare as numbers, other words as text; the label itself breaks ties."""
    tokens = re.findall(r"\d+|[^\W\d_]+", label.lower())
    numbers = [int(t) if t.isdigit() else _month_number(t) for t in tokens]
    return tuple((0, n, "") if n is not None else (1, 0, t) for t, n in zip(tokens, numbers)), label


def period_of(values: pd.Series, freq: str = "M") -> pd.Series:
    """Period labels ('2026-03' for months) from dates; values that are not dates are kept as text."""
    return clean_periods(values, freq)[0]


def _default_taxonomy():
    from .taxonomy import load_taxonomy

    return load_taxonomy()


def read_volume(volume) -> pd.DataFrame:
    """A business-volume table (period, volume) from a DataFrame or a CSV/Excel path (read as `cxtext label`
    reads its input: any encoding and delimiter it detects). "10 000" and "1 500,5" are numbers."""
    if volume is None:
        return pd.DataFrame(columns=["period", "volume"])
    if not isinstance(volume, pd.DataFrame):
        from .io import read_table

        volume = read_table(volume)
    missing = [c for c in ("period", "volume") if c not in volume.columns]
    if missing:
        raise InputError(f"the volume table needs columns 'period' and 'volume' (orders, cheques or active "
                         f"customers per period); its columns are: {', '.join(map(str, volume.columns))}")
    written = volume["volume"].astype("string").str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    vol = pd.to_numeric(written.str.replace(",", ".", regex=False), errors="coerce")
    if vol.isna().any() or (vol <= 0).any():
        raise InputError("every 'volume' in the volume table must be a positive number; fix the rows "
                         f"{', '.join(str(i + 2) for i in np.flatnonzero(vol.isna() | (vol <= 0))[:10])}")
    return pd.DataFrame({"period": period_of(volume["period"]).to_numpy(), "volume": vol.to_numpy()})


def contact_metrics(labelled: pd.DataFrame, taxonomy=None, *, period_col: str | None = None, volume=None,
                    price: float = PRICE, back_office_price: float = BACK_OFFICE_PRICE,
                    back_office_col: str | None = "back_office") -> dict[str, pd.DataFrame]:
    """Contacts, points, cost and contact rate by group, by topic and by period.

    Every row of `labelled` is one contact. A contact with two topics counts in both topic rows, so
    topic rows overlap; the group table adds up to the total. Contact rate = contacts / volume of the
    matching periods (volume table: period, volume) and is NaN when no volume was given.
    """
    tax = taxonomy or _default_taxonomy()
    frame = labelled.reset_index(drop=True)
    pts = contact_points(frame, tax) if "group" in frame else pd.Series(0.0, index=frame.index)
    cost = contact_cost(frame, price, back_office_price, back_office_col)
    total = len(frame)
    vol = read_volume(volume)
    periods = period_of(frame[period_col]) if period_col else pd.Series("всего", index=frame.index)
    vol_by = vol.groupby("period")["volume"].sum()
    total_volume = float(vol_by[vol_by.index.isin(periods.unique())].sum()) if len(vol) else math.nan
    if len(vol) and not period_col:
        total_volume = float(vol["volume"].sum())

    # a missing group (NaN, None) is a row of its own: groupby would drop it and the totals would not add up
    group = frame.get("group", pd.Series("", index=frame.index)).astype("string").str.strip().fillna("")
    groups = pd.DataFrame({"group": group.astype(str), "points": pts, "cost": cost})
    by_group = groups.groupby("group", sort=False).agg(contacts=("points", "size"), points=("points", "sum"),
                                                        cost=("cost", "sum")).reset_index()
    by_group.insert(1, "group_name", by_group["group"].map(lambda g: tax.group_name(g) if g not in ("", "nan")
                                                          else NO_GROUP))
    by_group.insert(3, "share", by_group["contacts"] / max(total, 1))
    order = {g: i for i, g in enumerate(tax.group_ids)}
    by_group = by_group.sort_values("group", key=lambda s: s.map(order).fillna(99)).reset_index(drop=True)

    ind = topic_matrix(frame["topics"] if "topics" in frame else pd.Series("", index=frame.index),
                       tax.topic_ids)
    by_topic = pd.DataFrame({
        "topic": ind.columns,
        "topic_name": [tax.topic_name(t) for t in ind.columns],
        "contacts": ind.sum().to_numpy(),
        "share": ind.sum().to_numpy() / max(total, 1),
        "points": ind.mul(pts, axis=0).sum().to_numpy(),
        "cost": ind.mul(cost, axis=0).sum().to_numpy(),
    })
    by_topic["rate"] = by_topic["contacts"] / total_volume if len(vol) else math.nan
    by_topic = by_topic.sort_values("points", ascending=False).reset_index(drop=True)

    order = sort_periods(periods)
    long = ind.assign(_period=periods.to_numpy()).groupby("_period").sum().reindex(order)
    per = frame.assign(_period=periods.to_numpy(), _pts=pts, _cost=cost).groupby("_period").agg(
        contacts=("_pts", "size"), points=("_pts", "sum"), cost=("_cost", "sum")).reindex(order)
    per["volume"] = per.index.map(vol_by) if len(vol) else math.nan
    per["rate"] = per["contacts"] / per["volume"]
    by_period = per.reset_index().rename(columns={"_period": "period"})
    topic_period = long.stack().rename("contacts").reset_index()
    topic_period.columns = ["period", "topic", "contacts"]
    topic_period["topic_name"] = topic_period["topic"].map(tax.topic_name)
    topic_period["rate"] = topic_period["contacts"] / topic_period["period"].map(per["volume"])
    return {"groups": by_group, "topics": by_topic, "periods": by_period, "topic_periods": topic_period}
