"""Driver analysis: which topics pull the score down or lift it, by how much, and how sure we are.

Every metric is the mean of a per-answer value (NPS: +100 promoter, 0 passive, -100 detractor), so
impact = overall - score_without_topic = (n_t / N) * (score_t - score_rest) for NPS and means alike.

The base: answers with a usable score (see `scores.clean_scores`). Too-general comments ("всё хорошо",
"ужас") stay in the overall score and in every "without the topic" base, but never count as mentioning
a topic, even if a topic was set on them; their count and share are reported in `table.attrs`.
"""
from __future__ import annotations

import math
import warnings
from itertools import combinations

import numpy as np
import pandas as pd

from .errors import InputError
from .scores import (MIN_N, RELIABLE_N, Z95, answer_values, as_bool, clean_periods, clean_scores, get_scale,
                     score, segment_labels, smoothed_interval, sort_periods, topic_lists, topic_matrix, value_bounds)

from .mask import mask_text as _mask_text

ALL = "__all__"  # the topic id of the "all answers" row in trend tables
MAX_SHAPLEY_TOPICS = 15  # 2^15 sub-models; rarer topics beyond this get NaN attribution
COLUMNS = ["topic", "topic_name", "n", "share", "score", "score_low", "score_high", "score_without",
           "impact", "impact_low", "impact_high", "gap", "impact_adjusted", "shapley_r2", "p_value",
           "p_adjusted", "significant", "low_n", "greyed"]


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN and is not counted as a test)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    vals = np.empty(m)
    vals[order] = adjusted
    out[ok] = vals
    return out


def shapley_r2(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Shapley value regression: each column's share of the OLS R^2; the shares add up to R^2.

    All 2^k sub-models are solved from the covariance matrix, batched by subset size.
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    k = X.shape[1]
    if k == 0 or len(y) < 2 or np.var(y) == 0:
        return np.zeros(k), 0.0
    Xc, yc = X - X.mean(0), y - y.mean()
    C, c, vy = Xc.T @ Xc / len(y), Xc.T @ yc / len(y), float(yc @ yc / len(y))
    r2 = np.zeros(2**k)
    for size in range(1, k + 1):
        idx = np.array(list(combinations(range(k), size)))
        sub_C = C[idx[:, :, None], idx[:, None, :]]
        sub_c = c[idx]
        beta = np.einsum("mij,mj->mi", np.linalg.pinv(sub_C, hermitian=True), sub_c)
        r2[(1 << idx).sum(1)] = np.einsum("mi,mi->m", beta, sub_c) / vy
    masks = np.arange(2**k)
    sizes = np.array([bin(m).count("1") for m in masks])
    fact = np.array([math.factorial(i) for i in range(k + 1)], dtype=float)
    values = np.zeros(k)
    for j in range(k):
        without = masks[(masks >> j) & 1 == 0]
        s = sizes[without]
        weight = fact[s] * fact[k - s - 1] / fact[k]
        values[j] = float(np.sum(weight * (r2[without | (1 << j)] - r2[without])))
    return values, float(r2[-1])


def _prepare(frame: pd.DataFrame, score_col: str, scale, topics_col: str, general_col: str | None,
             order: list[str] | None):
    """Per-answer values y, topic indicators X (general rows zeroed) and the general mask, valid rows only."""
    for col in (score_col, topics_col):
        if col not in frame.columns:
            hint = " (label the file first: cxtext label ...)" if col == topics_col else ""
            raise InputError(f"column '{col}' not found{hint}; columns are: {', '.join(map(str, frame.columns))}")
    scores, _ = clean_scores(frame[score_col], scale)
    valid = scores.notna().to_numpy()
    y = answer_values(scores.to_numpy()[valid], scale)
    X = topic_matrix(frame[topics_col], order).loc[valid]
    general = (as_bool(frame[general_col]).to_numpy()[valid] if general_col and general_col in frame
               else np.zeros(int(valid.sum()), dtype=bool))
    X = X.loc[:, X.loc[~general].sum(axis=0) > 0] if len(X.columns) else X
    X.loc[general, :] = 0
    return y, X, general, valid


def _topic_table(y: np.ndarray, X: pd.DataFrame, bounds: tuple[float, float], interval: str, n_boot: int,
                 seed: int) -> pd.DataFrame:
    """The per-topic rows for one base of answers (no names, no attribution).

    Standard errors come from `smoothed_interval` (Agresti-Caffo style), so a small or uniform group
    (12 answers, all detractors) keeps an honest standard error instead of 0 and a p-value of 1e-72. The z-test
    compares the smoothed scores (conservative for a small topic); the impact's interval is centred on the
    impact itself (it covers better), so at the margin an interval can exclude 0 while p is just over 0.05:
    `significant` follows the test. An impact's interval stays within what an impact can be: overall and score without the topic are both on
    the scale, so |impact| <= high - low (200 points of NPS).
    """
    N = len(y)
    M = X.to_numpy(dtype=float)
    n_t, n_r = M.sum(0), N - M.sum(0)
    sum_t, sq_t = M.T @ y, M.T @ (y * y)
    overall = float(y.mean()) if N else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        score_t = sum_t / n_t
        score_r = (y.sum() - sum_t) / n_r
        centre_t, se_t, low_t, high_t = smoothed_interval(sum_t, sq_t, n_t, bounds)
        centre_r, se_r, _, _ = smoothed_interval(y.sum() - sum_t, y @ y - sq_t, n_r, bounds)
        se_diff = np.hypot(se_t, se_r)
        share = n_t / N
        impact = overall - score_r  # = share * (score_t - score_r)
        z = (centre_t - centre_r) / se_diff
        # delta method for impact = share * gap, with the smoothed standard errors of the test; the share is a
        # sample figure too, so gap^2 p(1-p)/N joins (held fixed, a 1-5% topic's interval covered 60-78% of the
        # time). Centred on the impact itself: the smoothed centres pull a 10-answer topic towards the middle
        # of the scale, and the interval then misses on one side.
        gap = score_t - score_r
        se_impact = np.sqrt((share * se_diff) ** 2 + gap**2 * share * (1 - share) / N)
    p = np.array([math.erfc(abs(v) / math.sqrt(2)) if np.isfinite(v) else math.nan for v in z])
    low, high = impact - Z95 * se_impact, impact + Z95 * se_impact
    if interval == "bootstrap" and N:  # never narrower than the analytic interval: resampling 3 equal answers
        boot_low, boot_high = _bootstrap_impact(y, M, n_boot, seed)  # cannot show how little they say
        low, high = np.fmin(low, boot_low), np.fmax(high, boot_high)
    span = bounds[1] - bounds[0]
    low, high = np.clip(low, -span, span), np.clip(high, -span, span)
    return pd.DataFrame({
        "topic": list(X.columns), "n": n_t.astype(int), "share": share, "score": score_t,
        "score_se": se_t, "score_low": low_t, "score_high": high_t,
        "score_without": score_r, "impact": impact, "impact_low": low, "impact_high": high,
        "gap": overall - score_t, "p_value": p,
    })


def _bootstrap_impact(y: np.ndarray, M: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Percentile 95% interval of impact from a seeded Poisson bootstrap, in memory-bounded chunks."""
    rng = np.random.default_rng(seed)
    N = len(y)
    chunk = max(1, min(n_boot, 5_000_000 // max(N, 1)))
    My = M * y[:, None]
    reps = []
    for start in range(0, n_boot, chunk):
        W = rng.poisson(1.0, size=(min(chunk, n_boot - start), N)).astype(float)
        tot_w, tot_y = W.sum(1), W @ y
        with np.errstate(invalid="ignore", divide="ignore"):
            reps.append(tot_y[:, None] / tot_w[:, None] - (tot_y[:, None] - W @ My) / (tot_w[:, None] - W @ M))
    R = np.vstack(reps)
    with warnings.catch_warnings():  # a topic no resample can tell from the rest (all answers have it) is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(R, 2.5, axis=0), np.nanpercentile(R, 97.5, axis=0)


def drivers(frame: pd.DataFrame, score_col: str, scale: str = "nps", topics_col: str = "topics", *,
            general_col: str | None = "is_general", segment_col: str | None = None, taxonomy=None,
            interval: str = "bootstrap", n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per topic: n, share, score, score_without, impact with a 95% interval, gap, attribution.

    impact = overall - score without the topic (negative: the topic pulls the score down);
    gap = overall - topic score; impact_adjusted = OLS coefficient * share (co-mentions controlled);
    shapley_r2 = the topic's Shapley share of the R^2 of score ~ topic indicators (sums to attrs['r2']);
    p_adjusted = Benjamini-Hochberg across topics; low_n: n < 300; greyed: n < 30, too few answers to draw
    conclusions from, so never `significant` whatever its p-value.
    With `segment_col`, the table is repeated per segment after the all-answers block ('segment' column).
    `table.attrs` holds overall (Estimate dict), n, general_n, general_share, r2 and a Russian note.
    """
    tax = taxonomy or _taxonomy()
    if interval not in ("bootstrap", "analytic"):
        raise InputError(f"interval must be 'bootstrap' or 'analytic', got '{interval}'")
    if segment_col is not None:
        if segment_col not in frame.columns:
            raise InputError(f"segment column '{segment_col}' not found; columns are: {', '.join(frame.columns)}")
        parts = [drivers(frame, score_col, scale, topics_col, general_col=general_col, taxonomy=tax,
                         interval=interval, n_boot=n_boot, seed=seed).assign(segment="Все")]
        for seg, sub in frame.groupby(segment_labels(frame[segment_col]), sort=True):
            parts.append(drivers(sub, score_col, scale, topics_col, general_col=general_col, taxonomy=tax,
                                 interval=interval, n_boot=n_boot, seed=seed).assign(segment=seg))
        out = pd.concat(parts, ignore_index=True)
        out.attrs = dict(parts[0].attrs)
        return out
    sc = get_scale(scale)
    y, X, general, valid = _prepare(frame, score_col, sc, topics_col, general_col, tax.topic_ids)
    table = _topic_table(y, X, value_bounds(sc), interval, n_boot, seed)
    table.insert(1, "topic_name", [tax.topic_name(t) for t in table["topic"]])
    table["p_adjusted"] = benjamini_hochberg(table["p_value"])
    table["low_n"] = table["n"] < RELIABLE_N
    table["greyed"] = table["n"] < MIN_N
    table["significant"] = (table["p_adjusted"] < 0.05) & ~table["greyed"]
    r2 = _attribute(table, X, y)
    overall = score(clean_scores(frame[score_col], sc)[0], sc)
    note = "" if len(table) else _no_topics_note(general)
    table = table.sort_values("impact", kind="stable").reset_index(drop=True)[COLUMNS + ["score_se"]]
    table.attrs = {"overall": overall.as_dict(), "n": int(len(y)), "general_n": int(general.sum()),
                   "general_share": float(general.mean()) if len(y) else math.nan, "r2": r2,
                   "scale": sc.name, "note": note, "invalid_n": int((~valid).sum())}
    return table


def _no_topics_note(general: np.ndarray) -> str:
    """Why the driver table is empty, in Russian: every scored answer too general, or no topic set."""
    if len(general) and general.all():
        return ("Темы не найдены: все ответы с оценкой слишком общие («всё хорошо», «ужас») и не называют "
                "тему - анализ драйверов невозможен.")
    return ("Темы не найдены: ни один ответ с оценкой не отнесён к теме (колонка тем пуста) - "
            "анализ драйверов невозможен; проверьте разметку.")


def _attribute(table: pd.DataFrame, X: pd.DataFrame, y: np.ndarray) -> float:
    """Fill impact_adjusted and shapley_r2 in place for the most frequent topics; return the R^2."""
    table["impact_adjusted"] = np.nan
    table["shapley_r2"] = np.nan
    if not len(table) or len(y) < 3:
        return 0.0
    top = list(table.sort_values("n", ascending=False)["topic"][:MAX_SHAPLEY_TOPICS])
    M = X[top].to_numpy(dtype=float)
    values, r2 = shapley_r2(M, y)
    Mc = M - M.mean(0)
    beta = np.linalg.pinv(Mc.T @ Mc) @ (Mc.T @ (y - y.mean()))
    where = table["topic"].map({t: i for i, t in enumerate(top)})
    hit = where.notna()
    table.loc[hit, "shapley_r2"] = values[where[hit].astype(int)]
    table.loc[hit, "impact_adjusted"] = (beta * M.mean(0))[where[hit].astype(int)]
    return r2


def trends(frame: pd.DataFrame, score_col: str, scale: str = "nps", date_col: str = "date",
           topics_col: str = "topics", *, freq: str = "M", general_col: str | None = "is_general",
           taxonomy=None) -> pd.DataFrame:
    """The driver table per period (month by default) plus an '__all__' row per period, analytic intervals.

    Periods in time order (`scores.sort_periods`). Rows without a readable date are left out (see
    `scores.clean_periods`, which counts them).
    """
    tax = taxonomy or _taxonomy()
    if date_col not in frame.columns:
        raise InputError(f"period column '{date_col}' not found; columns are: {', '.join(frame.columns)}")
    sc = get_scale(scale)
    periods, _ = clean_periods(frame[date_col], freq)
    rows = []
    by_period = dict(list(frame.groupby(periods.to_numpy(), sort=False)))  # NA periods are dropped
    for period in sort_periods(by_period):
        sub = by_period[period]
        y, X, _, _ = _prepare(sub, score_col, sc, topics_col, general_col, tax.topic_ids)
        X.insert(0, ALL, 1)  # the all-answers row is a "topic" every answer mentions
        rows.append(_topic_table(y, X, value_bounds(sc), "analytic", 0, 0).assign(period=period))
    if not rows:
        return pd.DataFrame(columns=["period", "topic", "topic_name", "n", "share", "score"])
    out = pd.concat(rows, ignore_index=True)
    out["topic_name"] = [("Все ответы" if t == ALL else tax.topic_name(t)) for t in out["topic"]]
    out["low_n"] = out["n"] < RELIABLE_N
    out["greyed"] = out["n"] < MIN_N
    first = ["period", "topic", "topic_name", "n", "share", "score", "score_low", "score_high"]
    return out[first + [c for c in out.columns if c not in first]]


def trend_changes(trend_table: pd.DataFrame) -> pd.DataFrame:
    """Change between the last two periods that have scored answers, per topic: share and score, with z-test
    p-values (BH-adjusted). A last period whose rows hold no usable score would read "—" throughout."""
    cols = ["topic", "topic_name", "period_prev", "period_last", "n_prev", "n_last", "share_prev",
            "share_last", "share_change", "share_p", "score_prev", "score_last", "score_change", "score_p",
            "significant"]
    scored = trend_table[(trend_table["topic"] == ALL) & (trend_table["n"] > 0)] if len(trend_table) else None
    periods = sort_periods(scored["period"]) if scored is not None else []
    if len(periods) < 2:
        return pd.DataFrame(columns=cols)
    prev, last = periods[-2], periods[-1]
    a = trend_table[trend_table["period"] == prev].set_index("topic")
    b = trend_table[trend_table["period"] == last].set_index("topic")
    N_a, N_b = float(a.loc[ALL, "n"]), float(b.loc[ALL, "n"])
    topics = [ALL] + [t for t in dict.fromkeys(list(a.index) + list(b.index)) if t != ALL]
    rows = []
    for t in topics:
        ra = a.loc[t] if t in a.index else None
        rb = b.loc[t] if t in b.index else None
        n_a = float(ra["n"]) if ra is not None else 0.0
        n_b = float(rb["n"]) if rb is not None else 0.0
        p1, p2 = n_a / N_a if N_a else math.nan, n_b / N_b if N_b else math.nan
        pool = (n_a + n_b) / (N_a + N_b) if N_a + N_b else math.nan
        se_share = math.sqrt(pool * (1 - pool) * (1 / N_a + 1 / N_b)) if N_a and N_b else math.nan
        s_a = float(ra["score"]) if ra is not None else math.nan
        s_b = float(rb["score"]) if rb is not None else math.nan
        se_a = float(ra["score_se"]) if ra is not None else math.nan
        se_b = float(rb["score_se"]) if rb is not None else math.nan
        rows.append({
            "topic": t, "topic_name": (rb if rb is not None else ra)["topic_name"],
            "period_prev": prev, "period_last": last, "n_prev": int(n_a), "n_last": int(n_b),
            "share_prev": p1, "share_last": p2, "share_change": p2 - p1,
            "share_p": _two_sided_p(p2 - p1, se_share) if t != ALL else math.nan,
            "score_prev": s_a, "score_last": s_b, "score_change": s_b - s_a,
            "score_p": _two_sided_p(s_b - s_a, math.sqrt(se_a**2 + se_b**2)),
        })
    out = pd.DataFrame(rows)
    adj_share = benjamini_hochberg(out["share_p"])
    adj_score = benjamini_hochberg(out["score_p"])
    out["significant"] = (np.nan_to_num(adj_share, nan=1) < 0.05) | (np.nan_to_num(adj_score, nan=1) < 0.05)
    return out[cols]


def _two_sided_p(diff: float, se: float) -> float:
    if not (math.isfinite(diff) and math.isfinite(se)) or se <= 0:
        return math.nan
    return math.erfc(abs(diff / se) / math.sqrt(2))


def examples(frame: pd.DataFrame, text_col: str = "text", topics_col: str = "topics", *, k: int = 3,
             score_col: str | None = None, confidence_col: str = "confidence",
             general_col: str | None = "is_general", taxonomy=None) -> pd.DataFrame:
    """The k most confident distinct comments per topic (and for too-general ones), masked again."""
    tax = taxonomy or _taxonomy()
    if text_col not in frame.columns:
        raise InputError(f"text column '{text_col}' not found; columns are: {', '.join(frame.columns)}")
    conf = (pd.to_numeric(frame[confidence_col], errors="coerce").fillna(0) if confidence_col in frame
            else pd.Series(0.0, index=frame.index))
    lists = topic_lists(frame[topics_col]) if topics_col in frame else pd.Series([[]] * len(frame))
    general = as_bool(frame[general_col]) if general_col and general_col in frame else None
    base = pd.DataFrame({"text": frame[text_col].astype("string"), "confidence": conf.to_numpy(),
                         "topics": lists.to_numpy(), "length": frame[text_col].astype(str).str.len()})
    if score_col and score_col in frame:
        base["score"] = frame[score_col].to_numpy()
    base = base[base["text"].notna() & (base["text"].str.strip() != "")]
    if general is not None:
        base["general"] = general.loc[base.index].to_numpy()
    long = base.explode("topics").rename(columns={"topics": "topic"})
    long = long[long["topic"].notna()]
    if general is not None:
        long = pd.concat([long[~long["general"]], base[base["general"]].assign(topic="__general__")])
    # most confident first; among equals prefer comments of a readable length
    long = long.assign(_len=(long["length"] - 80).abs()).sort_values(["confidence", "_len"],
                                                                       ascending=[False, True], kind="stable")
    long = long.drop_duplicates(["topic", "text"]).groupby("topic", sort=False).head(k)
    out = pd.DataFrame({
        "topic": long["topic"].to_numpy(),
        "topic_name": [tax.general_name if t == "__general__" else tax.topic_name(t) for t in long["topic"]],
        "text": [_mask_text(str(t)) for t in long["text"]],
        "confidence": long["confidence"].to_numpy(),
    })
    if "score" in long:  # as written (a number, or the text of a cell that holds no score), masked
        out["score"] = [_mask_text(v) if isinstance(v, str) else v for v in long["score"]]
    return out.reset_index(drop=True)


def _taxonomy():
    from .taxonomy import load_taxonomy

    return load_taxonomy()
