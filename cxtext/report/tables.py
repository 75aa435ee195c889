"""Everything a report shows, computed once from a labelled frame (no rendering here)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..drivers import ALL, drivers, examples, trend_changes, trends  # noqa: F401 (ALL)
from ..errors import InputError
from ..scores import (BACK_OFFICE_PRICE, BAD_DATE, NOT_NUMBER, OFF_SCALE, PRICE, RELIABILITY_RU, Estimate,
                      clean_periods, clean_scores, contact_metrics, get_scale, negative_share, score, segment_labels,
                      smoothed_score, sort_periods, suggest_scale)
from ..taxonomy import load_taxonomy

METRIC_NAMES = {"nps": "NPS", "csi": "CSI", "csat": "CSAT", "ces": "CES", "ces7": "CES"}


@dataclass
class ReportData:
    """The figures and tables of one report; renderers only format them."""

    metric: str
    scale: str
    overall: Estimate
    rows: int
    drivers: pd.DataFrame
    quality: pd.DataFrame
    general_n: int
    general_share: float
    r2: float
    promoters: float = math.nan
    detractors: float = math.nan
    negative: Estimate | None = None
    segments: pd.DataFrame | None = None
    segment_scores: pd.DataFrame | None = None
    trends: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    contacts: dict[str, pd.DataFrame] = field(default_factory=dict)
    rows_are_contacts: bool = False  # CRM contacts (costed, with points and contact rate), not survey answers
    points_rule: str = ""  # how the taxonomy gives points, in Russian
    examples: pd.DataFrame | None = None
    period_range: tuple[str, str] | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # for the command line, in English
    wrong_scale: bool = False  # most scores are off the scale: no topic is named as pulling down or lifting


def build(labelled: pd.DataFrame, *, score_col: str, scale: str, text_col: str | None = None,
          period_col: str | None = None, segment_col: str | None = None, volume=None,
          taxonomy=None, n_boot: int = 1000, contacts: bool = False) -> ReportData:
    """Compute every table of the report from a labelled frame. `contacts`: each row is a CRM contact
    (points, cost and contact rate apply; a volume table implies it), not a survey answer."""
    sc = get_scale(scale)
    for col, flag in ((score_col, "--score-col"), (period_col, "--period-col"), (segment_col, "--segment-col"),
                      (text_col, "--text-col")):
        if col is not None and col not in labelled.columns:
            raise InputError(f"column '{col}' not found; columns are: {', '.join(map(str, labelled.columns))}; "
                             f"pass the right name with {flag}")
    if "topics" not in labelled.columns:
        raise InputError("the file has no 'topics' column, so it is not labelled; run 'cxtext label' on it "
                         f"first (columns are: {', '.join(map(str, labelled.columns))})")
    clean, quality = clean_scores(labelled[score_col], sc)
    if not clean.notna().any():
        raise InputError(_no_scores(quality, labelled[score_col], score_col, sc))
    table = drivers(labelled, score_col, sc, taxonomy=taxonomy, n_boot=n_boot)
    data = ReportData(
        metric=METRIC_NAMES.get(sc.name, sc.name.upper()), scale=sc.name, overall=score(clean, sc),
        rows=len(labelled), drivers=table, quality=quality, general_n=table.attrs["general_n"],
        general_share=table.attrs["general_share"], r2=table.attrs["r2"],
    )
    if table.attrs.get("note"):
        data.notes.append(table.attrs["note"])
    excluded = len(labelled) - data.overall.n
    if excluded:
        data.notes.append(f"{excluded} ответ(ов) без пригодной оценки не вошли в расчёт (см. «Качество данных»).")
    _check_scale(data, labelled[score_col], quality, sc)
    valid = clean.dropna()
    if sc.kind == "nps" and len(valid):
        data.promoters, data.detractors = float((valid >= 9).mean()), float((valid <= 6).mean())
    elif sc.kind != "nps":
        data.negative = negative_share(clean, sc)
    if segment_col:
        seg = drivers(labelled, score_col, sc, taxonomy=taxonomy, segment_col=segment_col, interval="analytic")
        data.segments = seg[seg["segment"] != "Все"].reset_index(drop=True)
        data.segment_scores = _segment_scores(labelled, clean, segment_col, sc)
    if period_col:
        data.trends = trends(labelled, score_col, sc, period_col, taxonomy=taxonomy)
        _check_dates(data, labelled[period_col], period_col)
        data.changes = trend_changes(data.trends)
        periods = sort_periods(data.trends["period"])
        if periods:
            data.period_range = (str(periods[0]), str(periods[-1]))
    if "group" in labelled.columns:
        data.rows_are_contacts = contacts or volume is not None
        data.points_rule = _points_rule(taxonomy)
        data.contacts = contact_metrics(labelled, taxonomy, period_col=period_col, volume=volume)
        if not data.rows_are_contacts:  # a survey answer is not a contact: no points, no cost, no rate
            data.contacts = {k: t.drop(columns=["points", "cost", "volume", "rate"], errors="ignore")
                             for k, t in data.contacts.items()}
            data.contacts["topics"] = data.contacts["topics"].sort_values("contacts", ascending=False,
                                                                          kind="stable").reset_index(drop=True)
    elif volume is not None:
        data.notes.append("Таблица объёма передана, но в файле нет колонки 'group': метрики обращений не считались.")
    text_col = text_col or ("text" if "text" in labelled.columns else None)
    if text_col:
        data.examples = examples(labelled, text_col, score_col=score_col, taxonomy=taxonomy)
    return data


def _points_rule(taxonomy) -> str:
    tax = taxonomy or load_taxonomy()
    given = ", ".join(f"{g.name.lower()} — {g.points}" for g in tax.groups if g.points)
    return f"Баллы: {given}; повторное обращение — ещё {tax.repeat_points}."


def contacts_note(d: ReportData) -> str:
    """What the contacts table counts, and how points and cost are given (or why they are not)."""
    if not d.rows_are_contacts:
        return ("Строки — ответы опроса, а не обращения: баллы, стоимость и контакт-рейт не считаются "
                "(для выгрузки обращений из CRM: cxtext report --contacts).")
    return (f"{d.points_rule} Стоимость: {PRICE:g} ₽ за обращение, {BACK_OFFICE_PRICE:g} ₽ с бэк-офисом "
            "(колонка back_office).")


def _no_scores(quality: pd.DataFrame, raw: pd.Series, score_col: str, sc) -> str:
    """Why a report cannot be made from this score column (from its data-quality table), and what to do."""
    examples = dict(zip(quality["reason"], quality["examples"]))
    if OFF_SCALE in examples:
        better = suggest_scale(raw)
        return (f"no score in '{score_col}' is on the {sc.name} scale ({sc.low:g}-{sc.high:g}) (values: "
                f"{examples[OFF_SCALE]}); pass the scale of these answers with --scale"
                + (f" (they fit --scale {better})" if better else ""))
    if NOT_NUMBER in examples:
        return (f"no value in the score column '{score_col}' is a number (values: {examples[NOT_NUMBER]}); "
                "pass the column that holds the scores with --score-col")
    return f"the score column '{score_col}' is empty; pass the column that holds the scores with --score-col"


def _check_scale(data: ReportData, raw: pd.Series, quality: pd.DataFrame, sc) -> None:
    """Say how many scores are not numbers or off the scale and, when most are off, that the scale is probably
    wrong."""
    words = int(quality.loc[quality["reason"] == NOT_NUMBER, "n"].sum())
    if words:
        data.warnings.append(f"{words} of {data.rows} scores are not numbers (e.g. "
                             f"{quality.loc[quality['reason'] == NOT_NUMBER, 'examples'].iloc[0][:60]}) and were "
                             "left out; see the sheet «Качество данных»")
    off = int(quality.loc[quality["reason"] == OFF_SCALE, "n"].sum())
    if not off:
        return
    bounds, numeric = f"{sc.low:g}–{sc.high:g}", off + data.overall.n
    data.notes.append(f"{off} из {numeric} числовых оценок вне шкалы {data.metric} ({bounds}) и не вошли в расчёт.")
    warning = f"{off} of {numeric} numeric scores are outside the {sc.name} scale ({bounds}) and were left out"
    if off > numeric / 2:  # 0-10 answers read as CSAT 1-5: the figures left describe the wrong answers
        fits = suggest_scale(raw)
        fix = f"--scale {fits}" if fits else "--scale"
        data.wrong_scale = True
        data.notes.insert(0, f"Большинство оценок вне шкалы {data.metric} ({bounds}): шкала, вероятно, выбрана "
                             f"неверно, выводы по этому отчёту делать нельзя; проверьте {fix}.")
        warning += f"; most are, so the scale is probably wrong: check {fix}"
    data.warnings.append(warning)


def _check_dates(data: ReportData, raw: pd.Series, period_col: str) -> None:
    """Count the rows the trends leave out for want of a readable date ('вчера', or none)."""
    undated = clean_periods(raw)[1]
    if not len(undated):
        return
    data.quality = pd.concat([data.quality, undated], ignore_index=True)
    n = int(undated["n"].sum())
    bad = undated.loc[undated["reason"] == BAD_DATE, "examples"]
    data.notes.append(f"{n} строк(и) без даты или с нераспознанной датой не вошли в динамику, но вошли в остальные "
                      "расчёты (см. «Качество данных»).")
    data.warnings.append(f"{n} of {data.rows} rows have no readable date in '{period_col}'"
                         + (f" (e.g. {bad.iloc[0]})" if len(bad) else "") + ": left out of the trends only")


def _segment_scores(frame: pd.DataFrame, clean: pd.Series, segment_col: str, sc) -> pd.DataFrame:
    rows = []
    for seg, idx in frame.groupby(segment_labels(frame[segment_col]), sort=True).groups.items():
        est = smoothed_score(clean.loc[idx], sc)
        rows.append({"segment": seg, "n": est.n, "score": est.value, "score_low": est.low,
                     "score_high": est.high, "low_n": est.n < 300, "greyed": est.n < 30})
    return pd.DataFrame(rows)


def summary(data: ReportData) -> dict:
    """The headline figures make_report returns (and the summary sheet shows)."""
    # only significant topics (BH-adjusted): a headline must not name a topic the answers cannot tell from none
    named = data.drivers[data.drivers["significant"]].iloc[:0 if data.wrong_scale else None]
    worst = named[named["impact"] < 0].head(3)
    best = named[named["impact"] > 0].sort_values("impact", ascending=False).head(3)
    return {
        "metric": data.metric, "score": data.overall.value, "low": data.overall.low,
        "high": data.overall.high, "n": data.overall.n, "rows": data.rows,
        "general_share": data.general_share, "topics": int(len(data.drivers)),
        "pulls_down": list(worst["topic_name"]), "lifts": list(best["topic_name"]),
        "reliability": data.overall.reliability, "excluded": data.rows - data.overall.n, "warnings": data.warnings,
    }


def reliability_note(est: Estimate) -> str:
    """The small-sample warning on a figure ('мало ответов (<300)'), '' when there are enough answers."""
    return "" if est.reliability == "ok" else RELIABILITY_RU[est.reliability]


def overall_trend(data: ReportData) -> pd.DataFrame:
    """The all-answers rows of the trend table, one per period."""
    if data.trends is None or not len(data.trends):
        return pd.DataFrame(columns=["period", "n", "score", "score_low", "score_high"])
    return data.trends[data.trends["topic"] == ALL].reset_index(drop=True)


def fmt(value: float, digits: int = 1) -> str:
    """A number the Russian way: comma decimal, thin-space thousands, '—' for NaN."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return text.replace("-", "−")


def fmt_pct(share: float, digits: int = 1) -> str:
    """A share as a Russian percentage ('12,5%'), '—' (not '—%') for NaN."""
    text = fmt(None if share is None else 100 * share, digits)
    return text if text == "—" else text + "%"
