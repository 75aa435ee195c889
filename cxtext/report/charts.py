"""Inline SVG charts for the HTML report: no JavaScript, no network, text HTML-escaped."""
from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

from .tables import fmt

RED, GREEN, GREY, INK, MUTED, GRID = "#c0392b", "#1e8449", "#b0b7bf", "#1f2933", "#66727f", "#e4e7eb"
PALETTE = ["#c0392b", "#d35400", "#8e44ad", "#2c3e50", "#16a085", "#2471a3"]


def _text(x: float, y: float, s: str, size: int = 12, anchor: str = "start", fill: str = INK,
          weight: str = "normal", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}"{c}>{escape(s)}</text>')


def _nice_range(lo: float, hi: float, pad: float = 0.08) -> tuple[float, float]:
    if not np.isfinite(lo) or not np.isfinite(hi):
        return -1.0, 1.0
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    span = hi - lo
    return lo - pad * span, hi + pad * span


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    raw = (hi - lo) / count
    step = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [round(start + i * step, 10) for i in range(int((hi - start) / step) + 1)]


def _short(name: str, limit: int = 26) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def _free_y(placed: list, span: tuple[float, float], y: float, step: float = 14) -> float:
    """The nearest y to `y` where a label over `span` does not overlap labels already placed."""
    for k in range(40):
        cand = y + step * ((k + 1) // 2) * (1 if k % 2 else -1) if k else y
        if all(abs(cand - py) >= step or span[1] < s[0] or span[0] > s[1] for s, py in placed):
            return cand
    return y


def priority_matrix(table: pd.DataFrame, width: int = 1080, height: int = 560) -> str:
    """Impact (y) against share of answers (x); quadrants say what to do, in Russian."""
    left, right, top, bottom = 70, 30, 30, 60
    t = table.dropna(subset=["impact", "share"])
    if not len(t):
        return ""
    x_max = float(t["share"].max()) * 1.15 or 1.0
    y_lo, y_hi = _nice_range(min(float(t["impact"].min()), 0.0), max(float(t["impact"].max()), 0.0), 0.15)
    x_split = float(t["share"].median())
    pw, ph = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + pw * v / x_max

    def py(v: float) -> float:
        return top + ph * (y_hi - v) / (y_hi - y_lo)

    out = [f'<svg class="chart priority-matrix" viewBox="0 0 {width} {height}" width="100%" '
           f'role="img" aria-label="Матрица приоритетов">']
    x0, y0 = px(x_split), py(0)
    quads = [(left, y0, x0 - left, top + ph - y0, "#fdf2f0", "Точечные проблемы", "start", left + 8, top + ph - 10),
             (x0, y0, left + pw - x0, top + ph - y0, "#fbe3df", "Исправлять в первую очередь", "end",
              left + pw - 8, top + ph - 10),
             (left, top, x0 - left, y0 - top, "#f3f8f4", "Нишевые сильные стороны", "start", left + 8, top + 18),
             (x0, top, left + pw - x0, y0 - top, "#e3f1e7", "Сильные стороны: сохранять", "end", left + pw - 8,
              top + 18)]
    for qx, qy, qw, qh, fill, label, anchor, lx, ly in quads:
        out.append(f'<rect class="quadrant" x="{qx:.1f}" y="{qy:.1f}" width="{max(qw, 0):.1f}" '
                   f'height="{max(qh, 0):.1f}" fill="{fill}"/>')
        out.append(_text(lx, ly, label, 13, anchor, MUTED, "bold", "quadrant-label"))
    for v in _ticks(y_lo, y_hi):
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 8, py(v) + 4, fmt(v, 1), 11, "end", MUTED))
    for v in _ticks(0, x_max):
        out.append(_text(px(v), top + ph + 18, f"{fmt(100 * v, 0)}%", 11, "middle", MUTED))
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y0:.1f}" y2="{y0:.1f}" stroke="{INK}" stroke-width="1.2"/>')
    out.append(f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{top}" y2="{top + ph}" stroke="{MUTED}" '
               'stroke-dasharray="4 4"/>')
    out.append(_text(left + pw / 2, height - 14, "Доля ответов, упоминающих тему", 12, "middle", INK))
    out.append(f'<text x="16" y="{top + ph / 2:.1f}" font-size="12" fill="{INK}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + ph / 2:.1f})">Влияние на итог, пункты</text>')
    n_max = float(t["n"].max()) or 1.0
    placed: list[tuple[tuple[float, float], float]] = []
    for _, r in t.sort_values("n", ascending=False).iterrows():
        color = GREY if r["greyed"] else (RED if r["impact"] < 0 else GREEN)
        rad = 5 + 11 * math.sqrt(float(r["n"]) / n_max)
        fill = "none" if r["low_n"] and not r["greyed"] else color
        cx, cy = px(float(r["share"])), py(float(r["impact"]))
        out.append(f'<circle class="topic-point" cx="{cx:.1f}" cy="{cy:.1f}" r="{rad:.1f}" fill="{fill}" '
                   f'fill-opacity="0.75" stroke="{color}" stroke-width="2"><title>{escape(str(r["topic_name"]))}: '
                   f'n={int(r["n"])}, влияние {fmt(float(r["impact"]))}</title></circle>')
        anchor = "end" if cx > left + pw * 0.7 else "start"
        dx = -(rad + 4) if anchor == "end" else rad + 4
        label = _short(str(r["topic_name"]), 34)
        span = (cx + dx - 6.5 * len(label), cx + dx) if anchor == "end" else (cx + dx, cx + dx + 6.5 * len(label))
        ly = _free_y(placed, span, cy + 4)
        placed.append((span, ly))
        out.append(_text(cx + dx, ly, label, 12, anchor, INK, cls="point-label"))
    out.append("</svg>")
    return "".join(out)


def impact_bars(table: pd.DataFrame, width: int = 1080, row: int = 30) -> str:
    """Diverging bars of impact per topic with 95% interval whiskers; greyed topics drawn grey."""
    t = table.dropna(subset=["impact"])
    if not len(t):
        return ""
    label_w, right, top = 250, 30, 30
    height = top + row * len(t) + 40
    lo = min(float(t["impact_low"].min()), 0.0)
    hi = max(float(t["impact_high"].max()), 0.0)
    lo, hi = _nice_range(lo, hi, 0.05)
    pw = width - label_w - right

    def px(v: float) -> float:
        return label_w + pw * (v - lo) / (hi - lo)

    out = [f'<svg class="chart impact-bars" viewBox="0 0 {width} {height}" width="100%" '
           'role="img" aria-label="Влияние тем на итоговую оценку">']
    for v in _ticks(lo, hi):
        out.append(f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{top - 6}" y2="{height - 34}" stroke="{GRID}"/>')
        out.append(_text(px(v), height - 18, fmt(v, 1), 11, "middle", MUTED))
    for i, (_, r) in enumerate(t.iterrows()):
        y = top + i * row
        color = GREY if r["greyed"] else (RED if r["impact"] < 0 else GREEN)
        x1, x2 = sorted((px(0), px(float(r["impact"]))))
        out.append(_text(label_w - 10, y + row / 2 + 4, _short(str(r["topic_name"]), 34), 12, "end",
                         MUTED if r["greyed"] else INK))
        out.append(f'<rect class="impact-bar" x="{x1:.1f}" y="{y + 6:.1f}" width="{max(x2 - x1, 1):.1f}" '
                   f'height="{row - 12}" fill="{color}" fill-opacity="{0.45 if r["low_n"] else 0.85}"/>')
        if np.isfinite(r["impact_low"]) and np.isfinite(r["impact_high"]):
            a, b, ym = px(float(r["impact_low"])), px(float(r["impact_high"])), y + row / 2
            out.append(f'<path class="whisker" d="M{a:.1f} {ym:.1f}H{b:.1f}M{a:.1f} {ym - 5:.1f}V{ym + 5:.1f}'
                       f'M{b:.1f} {ym - 5:.1f}V{ym + 5:.1f}" stroke="{INK}" stroke-width="1.2" fill="none"/>')
    out.append(f'<line x1="{px(0):.1f}" x2="{px(0):.1f}" y1="{top - 6}" y2="{height - 34}" stroke="{INK}"/>')
    out.append("</svg>")
    return "".join(out)


def line_chart(periods: list[str], series: list[tuple[str, list[float]]], *, band: tuple[list, list] | None = None,
               percent: bool = False, width: int = 1080, height: int = 320, label: str = "") -> str:
    """Lines over periods (first series may carry a 95% band); legend under the plot."""
    if not periods or not series:
        return ""
    left, right, top = 60, 30, 20
    legend_h = 22 * math.ceil(len(series) / 2)
    bottom = 40 + legend_h
    vals = [v for _, s in series for v in s if v is not None and np.isfinite(v)]
    if band:
        vals += [v for v in band[0] + band[1] if np.isfinite(v)]
    if not vals:
        return ""
    lo, hi = _nice_range(min(vals), max(vals), 0.1)
    pw, ph = width - left - right, height - top - bottom
    step = pw / max(len(periods) - 1, 1)

    def px(i: int) -> float:
        return left + (i * step if len(periods) > 1 else pw / 2)

    def py(v: float) -> float:
        return top + ph * (hi - v) / (hi - lo)

    out = [f'<svg class="chart line-chart" viewBox="0 0 {width} {height}" width="100%" '
           f'role="img" aria-label="{escape(label)}">']
    for v in _ticks(lo, hi):
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 8, py(v) + 4, f"{fmt(100 * v, 0)}%" if percent else fmt(v, 0), 11, "end", MUTED))
    for i, p in enumerate(periods):
        out.append(_text(px(i), top + ph + 18, str(p), 11, "middle", MUTED))
    if band:
        pts = [(px(i), py(v)) for i, v in enumerate(band[1]) if np.isfinite(v)]
        pts += [(px(i), py(v)) for i, v in reversed(list(enumerate(band[0]))) if np.isfinite(v)]
        out.append('<polygon class="band" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) +
                   f'" fill="{PALETTE[3]}" fill-opacity="0.12"/>')
    for k, (name, values) in enumerate(series):
        color = PALETTE[3] if band and k == 0 else PALETTE[k % len(PALETTE)]
        pts = [(px(i), py(v)) for i, v in enumerate(values) if v is not None and np.isfinite(v)]
        out.append(f'<polyline class="trend-line" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" '
                   f'fill="none" stroke="{color}" stroke-width="2.5"/>')
        out.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>' for x, y in pts)
        lx, ly = left + (k % 2) * pw / 2, top + ph + 40 + 22 * (k // 2)
        out.append(f'<rect x="{lx:.1f}" y="{ly - 9:.1f}" width="14" height="4" fill="{color}"/>')
        out.append(_text(lx + 20, ly - 3, _short(name, 44), 12, "start", INK))
    out.append("</svg>")
    return "".join(out)
