"""The Excel workbook: Russian headers, number formats, frozen headers, text cells safe from formulas."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .tables import ReportData, contacts_note, fmt, reliability_note, summary

# Text that a spreadsheet would run: "=HYPERLINK(...)", "+7...", "-очереди", "@SUM" (and tab/CR tricks).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
LOW_FILL = PatternFill("solid", fgColor="FFF4D6")
GREY_FONT = Font(color="9AA5B1")
NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
PCT, SCORE, INT, RUB, P = "0.0%", "0.0", "#,##0", '#,##0 "₽"', "0.000"

DRIVER_COLUMNS = {
    "topic_name": ("Тема", None), "n": ("Ответов с темой", INT), "share": ("Доля ответов", PCT),
    "score": ("Оценка темы", SCORE), "score_low": ("Оценка: мин. 95%", SCORE),
    "score_high": ("Оценка: макс. 95%", SCORE), "score_without": ("Оценка без темы", SCORE),
    "impact": ("Влияние, пункты", SCORE), "impact_low": ("Влияние: мин. 95%", SCORE),
    "impact_high": ("Влияние: макс. 95%", SCORE), "gap": ("Разрыв с итогом", SCORE),
    "impact_adjusted": ("Влияние с учётом пересечений", SCORE), "shapley_r2": ("Вклад в R² (Шепли)", P),
    "p_value": ("p", P), "p_adjusted": ("p с поправкой BH", P), "significant": ("Значимо (5%)", None),
    "low_n": ("Мало ответов (<300)", None), "greyed": ("Очень мало (<30)", None),
}


def safe_text(cell, value: str) -> None:
    """Put text in a cell so that no spreadsheet ever evaluates it as a formula."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if value.startswith(FORMULA_START):
        cell.quotePrefix = True  # Excel keeps showing and editing it as text


def _put(cell, value, number_format: str | None = None) -> None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        cell.value = None
    elif isinstance(value, (bool, np.bool_)):
        safe_text(cell, "да" if value else "нет")
    elif isinstance(value, (int, float, np.integer, np.floating)):
        cell.value = float(value) if isinstance(value, (float, np.floating)) else int(value)
        if number_format:
            cell.number_format = number_format
    else:
        safe_text(cell, str(value))


def _number(value):
    """A score read from CSV as text ("9", "8,5") as the number it is; any other value as it is."""
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        number = float(value.strip().replace(",", "."))
        return int(number) if number.is_integer() else number
    return value


def write_table(ws, frame: pd.DataFrame, columns: dict[str, tuple[str, str | None]], *, start_row: int = 1,
                wrap: tuple[str, ...] = (), flags: bool = False, freeze: bool = True) -> int:
    """Write a table with Russian headers; return the next free row."""
    cols = [c for c in columns if c in frame.columns]
    for j, c in enumerate(cols, start=1):
        cell = ws.cell(start_row, j)
        safe_text(cell, columns[c][0])
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, (_, r) in enumerate(frame.iterrows(), start=start_row + 1):
        for j, c in enumerate(cols, start=1):
            cell = ws.cell(i, j)
            _put(cell, r[c], columns[c][1])
            if c in wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if flags and bool(r.get("greyed", False)):
                cell.font = GREY_FONT
            elif flags and bool(r.get("low_n", False)):
                cell.fill = LOW_FILL
    for j, c in enumerate(cols, start=1):
        letter = get_column_letter(j)
        longest = max([len(columns[c][0])] + [len(str(v)) for v in frame[c].head(500)]) if len(frame) else 12
        width = 70 if c in wrap else min(max(10, longest + 2), 45)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, width)
    if freeze and start_row == 1:
        ws.freeze_panes = ws.cell(2, 1)
    return start_row + len(frame) + 2


def _summary_sheet(ws, d: ReportData, paths: list[str] | None = None) -> None:
    s = summary(d)
    rows = [
        (f"{d.metric}, итог", d.overall.value, SCORE), ("Нижняя граница 95%", d.overall.low, SCORE),
        ("Верхняя граница 95%", d.overall.high, SCORE), ("Ответов с оценкой (n)", d.overall.n, INT),
        ("Надёжность итога", reliability_note(d.overall) or "надёжно (300+ ответов)", None),
        ("Строк в файле", d.rows, INT), ("Исключено (качество данных)", s["excluded"], INT),
        ("Доля слишком общих комментариев", d.general_share, PCT), ("Тем в анализе", s["topics"], INT),
        ("R² модели по темам", d.r2, P),
    ]
    if d.negative is None:
        rows += [("Промоутеры (9–10)", d.promoters, PCT), ("Критики (0–6)", d.detractors, PCT)]
    else:
        rows += [("Доля негативных оценок, %", d.negative.value, SCORE)]
    if d.period_range:
        rows.append(("Период", f"{d.period_range[0]} — {d.period_range[1]}", None))
    rows += [("Тянут оценку вниз", ", ".join(s["pulls_down"]) or "—", None),
             ("Поднимают оценку", ", ".join(s["lifts"]) or "—", None)]
    safe_text(ws.cell(1, 1), f"Отчёт по отзывам клиентов: {d.metric}")
    ws.cell(1, 1).font = Font(bold=True, size=14)
    for i, (label, value, number_format) in enumerate(rows, start=3):
        safe_text(ws.cell(i, 1), label)
        _put(ws.cell(i, 2), value, number_format)
    row = len(rows) + 4
    notes = d.notes + [
        "Влияние = итог минус итог без ответов с темой (отрицательное — тема тянет вниз).",
        "Жёлтые строки: меньше 300 ответов, оценка ещё не надёжна; серые: меньше 30, не для выводов.",
        "Слишком общие комментарии входят в итог и в базу «без темы», но не относятся ни к одной теме.",
    ]
    for note in notes:
        safe_text(ws.cell(row, 1), note)
        row += 1
    ws.column_dimensions["A"].width = 38
    ws.column_dimensions["B"].width = 60


def write_excel(d: ReportData, path: str | Path) -> Path:
    """Write the workbook and return its path."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Сводка"
    _summary_sheet(ws, d)
    drivers_cols = {k: (v[0].replace("Оценка", d.metric) if k.startswith("score") else v[0], v[1])
                    for k, v in DRIVER_COLUMNS.items()}
    ws = wb.create_sheet("Драйверы")
    if len(d.drivers):
        write_table(ws, d.drivers, drivers_cols, flags=True)
    else:
        safe_text(ws.cell(1, 1), "Темы не найдены: ни один ответ не отнесён к теме, анализ драйверов невозможен.")
    if d.segments is not None:
        seg_cols = {"segment": ("Сегмент", None), "n": ("n", INT), "score": (d.metric, SCORE),
                    "score_low": ("Мин. 95%", SCORE), "score_high": ("Макс. 95%", SCORE)}
        ws = wb.create_sheet("Сегменты")
        nxt = write_table(ws, d.segment_scores, seg_cols, flags=True)
        write_table(ws, d.segments, {"segment": ("Сегмент", None), **drivers_cols}, start_row=nxt, flags=True)
    if d.trends is not None:
        ws = wb.create_sheet("Динамика")
        write_table(ws, d.trends, {"period": ("Период", None), **drivers_cols}, flags=True)
        ws = wb.create_sheet("Изменения")
        change_cols = {
            "topic_name": ("Тема", None), "period_prev": ("Период до", None), "period_last": ("Период после", None),
            "n_prev": ("n до", INT), "n_last": ("n после", INT), "share_prev": ("Доля до", PCT),
            "share_last": ("Доля после", PCT), "share_change": ("Изменение доли", PCT),
            "share_p": ("p (доля)", P), "score_prev": (f"{d.metric} до", SCORE),
            "score_last": (f"{d.metric} после", SCORE), "score_change": ("Изменение оценки", SCORE),
            "score_p": ("p (оценка)", P), "significant": ("Значимо (BH, 5%)", None)}
        write_table(ws, d.changes, change_cols)
    if d.contacts:
        unit = "Обращений" if d.rows_are_contacts else "Ответов"
        ws = wb.create_sheet("Обращения" if d.rows_are_contacts else "Группы")
        safe_text(ws.cell(1, 1), contacts_note(d))
        nxt = write_table(ws, d.contacts["groups"], {
            "group_name": ("Группа", None), "contacts": (unit, INT), "share": ("Доля", PCT),
            "points": ("Баллы", INT), "cost": ("Стоимость, ₽", RUB)}, start_row=3)
        nxt = write_table(ws, d.contacts["topics"], {
            "topic_name": ("Тема", None), "contacts": (unit, INT), "share": ("Доля", PCT),
            "points": ("Баллы", INT), "cost": ("Стоимость, ₽", RUB), "rate": ("Контакт-рейт", "0.00%")},
            start_row=nxt)
        write_table(ws, d.contacts["periods"], {
            "period": ("Период", None), "contacts": (unit, INT), "points": ("Баллы", INT),
            "cost": ("Стоимость, ₽", RUB), "volume": ("Объём бизнеса", INT), "rate": ("Контакт-рейт", "0.00%")},
            start_row=nxt)
    ws = wb.create_sheet("Примеры")
    if d.examples is not None and len(d.examples):
        examples = d.examples.assign(score=d.examples["score"].map(_number)) if "score" in d.examples else d.examples
        write_table(ws, examples, {"topic_name": ("Тема", None), "text": ("Комментарий", None),
                                     "score": (f"Оценка ({d.metric})", None), "confidence": ("Уверенность", "0.00")},
                    wrap=("text",))
    else:
        safe_text(ws.cell(1, 1), "Колонка с текстом не передана: примеров нет.")
    ws = wb.create_sheet("Качество данных")
    if len(d.quality):
        write_table(ws, d.quality, {"reason": ("Причина", None), "n": ("Ответов", INT), "share": ("Доля", PCT),
                                    "examples": ("Примеры значений", None)})
    else:
        safe_text(ws.cell(1, 1), f"Все {fmt(d.rows, 0)} оценок пригодны: пропусков, нечисловых и вне шкалы нет.")
    path = Path(path)
    wb.save(path)
    return path
