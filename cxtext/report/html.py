"""A self-contained Russian HTML report: inline CSS and SVG, nothing fetched at view time."""
from __future__ import annotations

import datetime as _dt
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from . import charts
from ..drivers import ALL
from .tables import ReportData, contacts_note, fmt, fmt_pct, overall_trend, reliability_note, summary

CSS = """
body{font-family:"Segoe UI","DejaVu Sans",Arial,sans-serif;color:#1f2933;background:#f5f6f8;margin:0}
main{max-width:1180px;margin:0 auto;padding:28px 32px 60px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 8px;border-bottom:2px solid #e4e7eb;padding-bottom:6px}
.sub{color:#66727f;margin:0 0 20px}.hint{color:#66727f;font-size:13px;margin:4px 0 10px;max-width:900px}
.cards{display:flex;gap:14px;flex-wrap:wrap}.card{background:#fff;border-radius:10px;padding:14px 18px;
box-shadow:0 1px 3px rgba(0,0,0,.08);min-width:180px;flex:1}.card .v{font-size:30px;font-weight:700}
.card .l{color:#66727f;font-size:13px}.card .s{font-size:13px;margin-top:4px}
.panel{background:#fff;border-radius:10px;padding:16px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08);overflow-x:auto}
table{border-collapse:collapse;font-size:13px;width:100%}th{background:#eef1f4;text-align:left;padding:6px 8px;
font-weight:600}td{padding:5px 8px;border-top:1px solid #eef1f4}td.n{text-align:right;white-space:nowrap}
tr.greyed td{color:#9aa5b1}tr.low td:first-child{border-left:3px solid #f0b429}
.neg{color:#c0392b}.pos{color:#1e8449}.badge{display:inline-block;font-size:11px;padding:1px 6px;border-radius:8px;
background:#fff4d6;color:#8d6708;margin-left:4px}.badge.g{background:#eceff1;color:#66727f}
.ex h3{font-size:15px;margin:16px 0 6px}.ex blockquote{margin:4px 0;padding:6px 12px;background:#f8f9fb;
border-left:3px solid #cbd2d9;font-size:14px}.ex .sc{color:#66727f;font-size:12px;margin-left:6px}
.note{background:#fff8e6;border-left:4px solid #f0b429;padding:10px 14px;border-radius:6px;margin:12px 0}
footer{color:#66727f;font-size:12px;margin-top:40px}
svg.chart{display:block;width:100%;height:auto}
"""


def _cell(v, digits: int = 1, pct: bool = False, p_value: bool = False) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "да" if v else ""
    if isinstance(v, (int, np.integer)):
        return f'<td class="n">{fmt(float(v), 0)}</td>'
    if isinstance(v, (float, np.floating)) and p_value and np.isfinite(v) and v < 0.001:
        return '<td class="n">&lt;0,001</td>'
    if isinstance(v, (float, np.floating)):
        return f'<td class="n">{fmt_pct(float(v)) if pct else fmt(float(v), digits)}</td>'
    return f"<td>{escape(str(v))}</td>"


def _table(frame: pd.DataFrame, columns: dict[str, str], pct: tuple[str, ...] = (), digits: dict | None = None,
           flags: bool = False) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in columns.values())
    rows = []
    for _, r in frame.iterrows():
        cls = "greyed" if flags and r.get("greyed") else ("low" if flags and r.get("low_n") else "")
        cells = []
        for c in columns:
            v = r[c]
            html = _cell(v, (digits or {}).get(c, 1), c in pct, c.startswith("p_"))
            cells.append(html if html.startswith("<td") else f"<td>{html}</td>")
        rows.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _cards(d: ReportData) -> str:
    o = d.overall
    warn = reliability_note(o)
    badge = f' <span class="badge{" g" if o.reliability == "too_few" else ""}">{escape(warn)}</span>' if warn else ""
    main = (f'<div class="card"><div class="l">{escape(d.metric)} (итог)</div><div class="v headline">'
            f'{fmt(o.value)}</div><div class="s">95% интервал: {fmt(o.low)} … {fmt(o.high)}<br>'
            f'n = {fmt(o.n, 0)} ответов{badge}</div></div>')
    cards = [main]
    if d.negative is None:
        cards.append(f'<div class="card"><div class="l">Промоутеры / критики</div><div class="v">'
                     f'<span class="pos">{fmt_pct(d.promoters, 0)}</span> / <span class="neg">'
                     f'{fmt_pct(d.detractors, 0)}</span></div><div class="s">9–10 баллов / 0–6 баллов</div></div>')
    else:
        cards.append(f'<div class="card"><div class="l">Доля негативных оценок</div><div class="v neg">'
                     f'{fmt_pct(d.negative.value / 100)}</div><div class="s">95% интервал: {fmt(d.negative.low)} … '
                     f'{fmt(d.negative.high)}%</div></div>')
    cards.append(f'<div class="card general"><div class="l">Слишком общие комментарии</div><div class="v">'
                 f'{fmt_pct(d.general_share, 0)}</div><div class="s">{fmt(d.general_n, 0)} ответов без темы '
                 '(«всё хорошо», «ужас»): входят в итог, но не в драйверы</div></div>')
    excluded = d.rows - o.n
    cards.append(f'<div class="card"><div class="l">Исключено из расчёта</div><div class="v">{fmt(excluded, 0)}'
                 f'</div><div class="s">из {fmt(d.rows, 0)} строк: нет оценки, не число или вне шкалы</div></div>')
    return '<div class="cards">' + "".join(cards) + "</div>"


def _drivers(d: ReportData) -> str:
    t = d.drivers
    if not len(t):
        return '<div class="note">Темы не найдены: ни один ответ не отнесён к теме. Анализ драйверов невозможен.</div>'
    cols = {"topic_name": "Тема", "n": "n", "share": "Доля", "score": f"{d.metric} темы",
            "score_without": "Без темы", "impact": "Влияние", "impact_low": "Мин. 95%", "impact_high": "Макс. 95%",
            "impact_adjusted": "С учётом пересечений", "shapley_r2": "Шепли, R²", "p_adjusted": "p (BH)"}
    step = "5" if d.negative is None else "0,1"  # a plausible impact on NPS, on a 1-5 mean
    legend = ('<p class="hint">Влияние = итог минус итог без ответов с темой. Отрицательное — тема тянет оценку '
              f'вниз: влияние −{step} значит, что {escape(d.metric)} был бы на {step} выше, если бы эти ответы стали '
              'как остальные; положительное — тема поднимает оценку. «С учётом пересечений» — то же по регрессии '
              'на все темы сразу, чтобы две темы из одного отзыва не винились дважды; '
              f'вклад Шепли делит R² = {fmt(d.r2, 3)} между темами. Жёлтая метка — меньше 300 '
              'ответов (оценка ещё не надёжна), серые строки — меньше 30 (не для выводов).</p>')
    return (legend + '<div class="panel">' + charts.priority_matrix(t) + "</div>"
            + '<h2>Влияние тем с 95% интервалами</h2><div class="panel">' + charts.impact_bars(t) + "</div>"
            + '<h2>Таблица драйверов</h2><div class="panel">'
            + _table(t, cols, pct=("share",), digits={"shapley_r2": 3, "p_adjusted": 3}, flags=True) + "</div>")


def _trends(d: ReportData) -> str:
    ov = overall_trend(d)
    if not len(ov):
        return ""
    periods = list(ov["period"].astype(str))
    main = charts.line_chart(periods, [(f"{d.metric}, все ответы", list(ov["score"]))],
                             band=(list(ov["score_low"]), list(ov["score_high"])), label=f"{d.metric} по периодам")
    t = d.trends[d.trends["topic"] != ALL]
    worst = list(d.drivers[~d.drivers["greyed"] & (d.drivers["impact"] < 0)].head(4)["topic"])
    if d.changes is not None and len(d.changes):  # a topic that moved most in the last period joins them
        moved = d.changes[d.changes["topic"] != ALL].sort_values("share_change", ascending=False)["topic"]
        worst += [t for t in moved.head(1) if t not in worst]
    series = []
    for topic in worst:
        sub = t[t["topic"] == topic].set_index("period")
        if len(sub):
            series.append((str(sub["topic_name"].iloc[0]), [float(sub["share"].get(p, 0.0)) for p in periods]))
    shares = charts.line_chart(periods, series, percent=True, label="Доля тем по периодам")
    out = (f'<h2>Динамика</h2><p class="hint">{escape(d.metric)} по периодам с 95% интервалом; ниже — доля ответов '
           'о темах, сильнее всего тянущих оценку вниз.</p><div class="panel">' + main + "</div>"
           + '<div class="panel" style="margin-top:12px">' + shares + "</div>")
    if d.changes is not None and len(d.changes):
        c = d.changes.copy()
        c["mark"] = np.where(c["significant"], "значимо", "")
        prev, last = c["period_prev"].iloc[0], c["period_last"].iloc[0]
        cols = {"topic_name": "Тема", "share_prev": f"Доля {prev}", "share_last": f"Доля {last}",
                "share_change": "Изменение доли", "score_prev": f"{d.metric} {prev}", "score_last": f"{d.metric} {last}",
                "score_change": "Изменение оценки", "mark": "Значимость (BH, 5%)"}
        out += (f'<h2>Что изменилось: {escape(str(prev))} → {escape(str(last))}</h2><div class="panel">'
                + _table(c, cols, pct=("share_prev", "share_last", "share_change")) + "</div>")
    return out


def _examples(d: ReportData) -> str:
    if d.examples is None or not len(d.examples):
        return ""
    order = list(d.drivers["topic"]) + ["__general__"]
    parts = ['<h2>Примеры комментариев</h2><p class="hint">Самые уверенные примеры по каждой теме; '
             'персональные данные замаскированы.</p><div class="panel ex">']
    for topic in order:
        sub = d.examples[d.examples["topic"] == topic]
        if not len(sub):
            continue
        parts.append(f"<h3>{escape(str(sub['topic_name'].iloc[0]))}</h3>")
        for _, r in sub.iterrows():
            sc = f'<span class="sc">оценка {escape(str(r["score"]))}</span>' if not pd.isna(r.get("score")) else ""
            parts.append(f"<blockquote>{escape(str(r['text']))}{sc}</blockquote>")
    return "".join(parts) + "</div>"


def _segments(d: ReportData) -> str:
    if d.segment_scores is None or not len(d.segment_scores):
        return ""
    cols = {"segment": "Сегмент", "n": "n", "score": d.metric, "score_low": "Мин. 95%", "score_high": "Макс. 95%"}
    out = '<h2>Сегменты</h2><div class="panel">' + _table(d.segment_scores, cols, flags=True) + "</div>"
    if d.segments is not None and len(d.segments):
        neg = d.segments[~d.segments["greyed"] & (d.segments["impact"] < 0)]
        worst = neg.sort_values("impact").groupby("segment").head(3).sort_values(["segment", "impact"])
        cols = {"segment": "Сегмент", "topic_name": "Тема", "n": "n", "share": "Доля", "impact": "Влияние",
                "sig": "Значимо"}
        worst = worst.assign(sig=np.where(worst["significant"], "да", "нет"))
        missing = sorted(set(d.segments["segment"].astype(str)) - set(worst["segment"].astype(str)))
        absent = (" Не показаны сегменты, где нет такой темы хотя бы с 30 ответами: " + escape(", ".join(missing))
                  + "." if missing else "")
        out += ('<p class="hint">Три темы, сильнее всего тянущие оценку вниз в каждом сегменте (темы меньше 30 '
                f'ответов не показаны; «Значимо: нет» — разница может быть случайной).{absent}</p>'
                '<div class="panel">' + _table(worst, cols, pct=("share",), flags=True) + "</div>")
    return out


def _contacts(d: ReportData) -> str:
    if not d.contacts:
        return ""
    g = d.contacts["groups"]
    names = {"group_name": "Группа", "contacts": "Обращений" if d.rows_are_contacts else "Ответов", "share": "Доля",
             "points": "Баллы", "cost": "Стоимость, ₽"}
    cols = {c: name for c, name in names.items() if c in g.columns}  # a survey's table has no points or cost
    title = "Обращения по группам" if d.rows_are_contacts else "Ответы по группам"
    return (f'<h2>{title}</h2><p class="hint">{escape(contacts_note(d))}</p>'
            '<div class="panel">' + _table(g, cols, pct=("share",), digits={"points": 0, "cost": 0}) + "</div>")


def _definition(d: ReportData) -> str:
    if d.negative is None:
        return "NPS = % промоутеров (9–10) − % критиков (0–6)"
    return f"{d.metric} = средняя оценка по шкале; негативные — нижняя часть шкалы"


def _headline(d: ReportData) -> str:
    """«Тянут оценку вниз» / «Поднимают оценку»: the significant topics only, as the Excel summary names them."""
    s = summary(d)
    line = lambda label, names: f"<p><b>{label}:</b> {escape(', '.join(names)) or '—'}</p>"  # noqa: E731
    return '<div class="panel">' + line("Тянут оценку вниз", s["pulls_down"]) + line("Поднимают оценку", s["lifts"]) \
        + "</div>"


def render(d: ReportData) -> str:
    """The full HTML page as a string."""
    period = f"период {d.period_range[0]} — {d.period_range[1]}, " if d.period_range else ""
    notes = "".join(f'<div class="note">{escape(n)}</div>' for n in d.notes)
    quality = ""
    if len(d.quality):
        quality = ('<h2>Качество данных</h2><div class="panel">' + _table(
            d.quality, {"reason": "Причина", "n": "Ответов", "share": "Доля", "examples": "Примеры значений"},
            pct=("share",)) + "</div>")
    body = (f"<h1>Отчёт по отзывам клиентов: {escape(d.metric)}</h1>"
            f'<p class="sub">{escape(period)}{fmt(d.rows, 0)} ответов, сформирован '
            f'{_dt.date.today().strftime("%d.%m.%Y")} (cxtext)</p>' + notes + _cards(d) + _headline(d)
            + "<h2>Матрица приоритетов</h2>" + _drivers(d) + _trends(d) + _segments(d) + _contacts(d)
            + _examples(d) + quality
            + f"<footer>{escape(_definition(d))}; интервалы 95%; p-значения скорректированы методом "
              "Бенджамини–Хохберга. Слишком общие комментарии входят в итоговую оценку и в базу «без темы», "
              "но не относятся ни к одной теме.</footer>")
    return (f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Отчёт cxtext: {escape(d.metric)}'
            f'</title><meta name="viewport" content="width=device-width"><style>{CSS}</style></head>'
            f"<body><main>{body}</main></body></html>")


def write_html(d: ReportData, path: str | Path) -> Path:
    """Write the page (UTF-8) and return its path."""
    path = Path(path)
    path.write_text(render(d), encoding="utf-8")
    return path
