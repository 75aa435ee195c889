"""The analyst's labelling file: texts and labels under Russian headers, out to CSV/Excel and back.

`write_labels` writes texts with (predicted) labels as Russian names an analyst can read and edit;
`read_labels` reads the edited file back into the columns `train()` needs (text, group, topics,
is_general, is_repeat), with ids checked against the taxonomy and every bad cell reported by its row.

    >>> write_labels(labelled, "to_review.xlsx")                     # doctest: +SKIP
    >>> frame = read_labels("to_review.xlsx", taxonomy=my_taxonomy)  # doctest: +SKIP
"""
from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import InputError
from .evaluate import split_topics
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["HEADERS", "LabelFileError", "Problem", "example_path", "read_labels", "write_labels"]

# field -> the column header an analyst sees; read_labels also accepts the field names themselves
HEADERS = {
    "id": "ID",
    "text": "Текст",
    "group": "Группа",
    "topics": "Темы",
    "is_general": "Слишком общий",
    "is_repeat": "Повтор",
    "confidence": "Уверенность модели",
    "reason": "Почему в списке",
    "evidence": "По каким словам",
    "checked": "Проверено",
    "note": "Комментарий",
}
YES, NO = "да", "нет"
TOPIC_SEP = "; "  # topic names hold commas ("Тарифы, цены и комиссии"), so topics are split on ';'
_YES = {"да", "д", "1", "1.0", "true", "t", "yes", "y", "истина", "+", "x", "х", "v", "✓", "✔"}
_NO = {"", "нет", "н", "0", "0.0", "false", "f", "no", "n", "ложь", "-", "nan", "none"}
_SHEET, _REFERENCE = "Разметка", "Справочник"
UNKNOWN_TOPIC = "unknown topic"


def example_path() -> Path:
    """The bundled example of an analyst's labelled file (164 bank comments, with a topic of the analyst's
    own, 'Кешбэк-программа', and four labelling mistakes left in on purpose)."""
    from importlib import resources

    return Path(str(resources.files("cxtext").joinpath("data/analyst_labels_example.csv")))


@dataclass(frozen=True)
class Problem:
    """One bad cell: where (the row as the analyst sees it, header = row 1; or e.g. "task 12"), the column,
    the value, what is wrong."""

    row: int | str
    column: str
    value: str
    message: str
    kind: str = ""  # UNKNOWN_TOPIC for a topic the taxonomy lacks (a caller may suggest another model)

    def __str__(self) -> str:
        where = f"row {self.row}" if isinstance(self.row, int) else self.row
        return f"{where}, column '{self.column}', value '{self.value}': {self.message}"


class LabelFileError(InputError):
    """A labelled file with bad cells; `problems` lists every one of them, not only the first."""

    def __init__(self, problems: Sequence[Problem], source: str = "labels"):
        self.problems = list(problems)
        lines = _grouped(self.problems)
        shown = "\n  ".join(lines[:30])
        more = f"\n  ... and {len(lines) - 30} more" if len(lines) > 30 else ""
        super().__init__(f"{len(self.problems)} problem(s) in {source}:\n  {shown}{more}\n"
                         "Fix these cells (a group or topic is written as its Russian name or its id) and read "
                         "the file again.")


def _grouped(problems: Sequence[Problem]) -> list[str]:
    """One line per distinct bad value: "rows 2, 3, 4 and 27 more, column 'topics', value 'cashback': ...",
    so a topic missing from the taxonomy is said once, not on every row that names it."""
    rows: dict[tuple, list] = {}
    for p in problems:
        rows.setdefault((p.column, p.value, p.message), []).append(p.row)
    lines = []
    for (column, value, message), where in rows.items():
        if len(where) == 1:
            lines.append(str(Problem(where[0], column, value, message)))
        else:
            more = f" and {len(where) - 3} more" if len(where) > 3 else ""
            shown = ", ".join(map(str, where[:3])) + more
            lines.append(str(Problem(f"rows {shown}", column, value, message)))
    return lines


def _key(value: str) -> str:
    # "Жалоба ", "жалоба" and "ЖАЛОБА" are one name; so are "ё" and "е"
    return " ".join(str(value).replace("ё", "е").replace("Ё", "Е").split()).casefold()


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value).strip()


class Resolver:
    """Turns what an analyst typed (an id or a Russian name, any case) into taxonomy ids."""

    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self._groups = {_key(g.id): g.id for g in taxonomy.groups} | {_key(g.name): g.id for g in taxonomy.groups}
        self._topics = {_key(t.id): t.id for t in taxonomy.topics} | {_key(t.name): t.id for t in taxonomy.topics}

    def group(self, value) -> tuple[str | None, str | None]:
        """(group id, None) or (None, what is wrong)."""
        text = _cell(value)
        found = self._groups.get(_key(text))
        if found:
            return found, None
        names = [g.name for g in self.taxonomy.groups]
        return None, f"not a group{_did_you_mean(text, names)}; groups are: {', '.join(names)}"

    def topics(self, value) -> tuple[list[str], list[str]]:
        """(topic ids, problems) from '; '-joined names or ids (a list works too)."""
        parts = split_topics(value) if isinstance(value, (list, tuple, np.ndarray)) else \
            [p.strip() for p in _cell(value).replace("\n", ";").split(";") if p.strip()]
        ids, problems = [], []
        for part in parts:
            found = self._topics.get(_key(part))
            if found is None and "," in part:  # "payments, refunds": ids joined by commas
                pieces = [self._topics.get(_key(p)) for p in part.split(",") if p.strip()]
                if pieces and all(pieces):
                    ids += [p for p in pieces if p not in ids]
                    continue
            if found is None:
                names = [t.name for t in self.taxonomy.topics]
                problems.append(f"'{part}' is not a topic of taxonomy '{self.taxonomy.name}'"
                                f"{_did_you_mean(part, names)}; separate topics with ';'. {self._declare(part)}")
            elif found not in ids:
                ids.append(found)
        return ids, problems


    def _declare(self, topic: str) -> str:
        """How to make a topic that is not in this taxonomy one: put back a default topic the taxonomy
        left out, or declare a new one."""
        default = _default_taxonomy()
        dropped = {_key(t.id): t for t in default.topics} | {_key(t.name): t for t in default.topics}
        left_out = dropped.get(_key(topic))
        if left_out is not None and left_out.id not in {t.id for t in self.taxonomy.topics}:
            return (f"It is the default topic '{left_out.id}' ({left_out.name}), which taxonomy "
                    f"'{self.taxonomy.name}' leaves out: put it back in your taxonomy file, or relabel the row")
        return ("A topic of your own is declared first in a taxonomy file given with --taxonomy FILE "
                "(in Python: load_taxonomy(FILE), or taxonomy.with_topic(id, name))")


@lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    return load_taxonomy()  # read once: a file of 5,000 rows with one undeclared topic names it 5,000 times


def _did_you_mean(text: str, options: Iterable[str]) -> str:
    options = list(options)
    close = difflib.get_close_matches(_key(text), [_key(o) for o in options], n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean '{next(o for o in options if _key(o) == close[0])}'?)"


def parse_flag(value) -> bool | None:
    """да/нет, true/false, 1/0, yes/no, x or empty -> bool; anything else -> None."""
    if isinstance(value, bool):
        return value
    text = _key(_cell(value))
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


# ---- writing ---------------------------------------------------------------------------------------
def review_frame(frame: pd.DataFrame, *, taxonomy: Taxonomy | None = None, text_col: str = "text",
                 id_col: str | None = None, keep: Sequence[str] = ()) -> pd.DataFrame:
    """The table write_labels writes: Russian headers, names instead of ids, да/нет for flags, and the text
    with its personal data masked (the file is stored and shared, as `cxtext label` output is)."""
    from .batch import masked_value

    tax = taxonomy or load_taxonomy()
    if text_col not in frame.columns:
        raise InputError(f"column '{text_col}' not found; columns are: {', '.join(map(str, frame.columns))}; "
                         "pass text_col=")
    n = len(frame)
    get = lambda col, default: frame[col].tolist() if col in frame.columns else [default] * n  # noqa: E731
    out = {}
    if id_col is not None:
        out[HEADERS["id"]] = get(id_col, "")
    out[HEADERS["text"]] = [masked_value(v) for v in get(text_col, "")]
    for col in keep:
        out[col] = get(col, "")
    out[HEADERS["group"]] = [tax.group_name(_cell(g)) if _cell(g) else "" for g in get("group", "")]
    out[HEADERS["topics"]] = [TOPIC_SEP.join(tax.topic_name(t) for t in split_topics(v)) for v in get("topics", "")]
    out[HEADERS["is_general"]] = [YES if parse_flag(v) else NO for v in get("is_general", False)]
    out[HEADERS["is_repeat"]] = [YES if parse_flag(v) else NO for v in get("is_repeat", False)]
    if "confidence" in frame.columns:
        out[HEADERS["confidence"]] = pd.to_numeric(frame["confidence"], errors="coerce").round(2).tolist()
    if "reason" in frame.columns:
        out[HEADERS["reason"]] = frame["reason"].tolist()
    if "evidence" in frame.columns:
        out[HEADERS["evidence"]] = frame["evidence"].fillna("").tolist()
    out[HEADERS["checked"]] = [""] * n
    out[HEADERS["note"]] = [""] * n
    return pd.DataFrame(out)


def write_labels(frame: pd.DataFrame, path: str | os.PathLike, *, taxonomy: Taxonomy | None = None,
                 text_col: str = "text", id_col: str | None = None, keep: Sequence[str] = ()) -> Path:
    """Write texts and their labels for an analyst to check: .xlsx (with a reference sheet of names and
    drop-down lists) or .csv (';'-separated UTF-8 with BOM, which Excel opens as is).

    `frame` holds `text_col` and any of the label columns group, topics (ids joined by ';'), is_general,
    is_repeat, confidence, reason and evidence (the words behind the labels: `cxtext.evidence`), as
    `TextClassifier.predict` joined to the texts or `cxtext label` gives them. `keep` names extra columns
    to show after the text (e.g. the score). The text is written with its personal data masked (cards,
    phones, e-mails, full names...), as `cxtext label` writes it.
    Empty columns 'Проверено' and 'Комментарий' are for the analyst.
    """
    from . import io

    tax = taxonomy or load_taxonomy()
    table = review_frame(frame, taxonomy=tax, text_col=text_col, id_col=id_col, keep=keep)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        io.write_table(table, path, bom=True, sep=";")
    elif suffix == ".xlsx":
        _write_xlsx(table, path, tax)
    else:
        raise InputError(f"labels file must end with .xlsx or .csv, got '{path.name}'")
    return path


def _reference(tax: Taxonomy) -> pd.DataFrame:
    rows = [("Группа", g.name, g.id, g.description) for g in tax.groups]
    rows += [("Тема", t.name, t.id, t.description) for t in tax.topics]
    rows += [("Флаг", f"{YES} / {NO}", "is_general, is_repeat",
              f"«{HEADERS['is_general']}»: {tax.general_name.lower()}; темы тогда не ставятся")]
    return pd.DataFrame(rows, columns=["Что", "Название", "id", "Описание"])


def _write_xlsx(table: pd.DataFrame, path: Path, tax: Taxonomy) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from .io import _umask

    if not path.parent.exists():
        raise InputError(f"output folder {path.parent} does not exist; create it or choose another path")
    book = Workbook()
    sheet = book.active
    sheet.title = _SHEET
    _fill(sheet, table)
    widths = {HEADERS["text"]: 70, HEADERS["topics"]: 45, HEADERS["group"]: 20, HEADERS["reason"]: 40,
              HEADERS["evidence"]: 45, HEADERS["note"]: 30}
    for j, col in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = widths.get(col, 14)
        if col in (HEADERS["text"], HEADERS["topics"], HEADERS["reason"], HEADERS["evidence"]):
            for cell in sheet[get_column_letter(j)][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    last = max(len(table) + 1, 2)
    lists = {HEADERS["group"]: ",".join(g.name for g in tax.groups),
             HEADERS["is_general"]: f"{YES},{NO}", HEADERS["is_repeat"]: f"{YES},{NO}",
             HEADERS["checked"]: f"{YES},{NO}"}
    for j, col in enumerate(table.columns, start=1):
        if col in lists and len(lists[col]) < 250:  # Excel's limit for an inline list
            letter = get_column_letter(j)
            check = DataValidation(type="list", formula1=f'"{lists[col]}"', allow_blank=True)
            check.add(f"{letter}2:{letter}{last}")
            sheet.add_data_validation(check)
    ref = book.create_sheet(_REFERENCE)
    _fill(ref, _reference(tax))
    for letter, width in zip("ABCD", (10, 34, 20, 90)):
        ref.column_dimensions[letter].width = width
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600: colleagues on a shared folder could not open it
        book.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _fill(sheet, table: pd.DataFrame) -> None:
    sheet.append([str(c) for c in table.columns])
    for row in table.itertuples(index=False):
        sheet.append([_excel_value(v) for v in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                cell.data_type = "s"  # "=СУММ(...)" typed by a customer stays text, never a formula


def _excel_value(value):
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return value if isinstance(value, (int, float, str)) else str(value)


# ---- reading ---------------------------------------------------------------------------------------
def _columns(frame: pd.DataFrame, source: str, names: Mapping[str, str]) -> dict[str, str]:
    """field -> column of the frame: the column `names` gives for a field, else its Russian header or the
    field name (any case)."""
    by_key = {_key(c): c for c in map(str, frame.columns)}
    found, named = {}, {f: c for f, c in names.items() if c and c != f}
    for field, header in HEADERS.items():
        for name in ([named[field]] if field in named else [header, field]):
            if _key(name) in by_key:
                found[field] = by_key[_key(name)]
                break
    missing = [c for f, c in named.items() if f not in found]
    if missing:
        raise InputError(f"{source}: column(s) {', '.join(map(repr, missing))} not found; columns are: "
                         f"{', '.join(map(str, frame.columns))}. Check the column names given "
                         "(--text-col, --group-col, --topics-col, --general-col, --repeat-col).")
    missing = [HEADERS[f] for f in ("text", "group", "topics") if f not in found]
    if missing:
        raise InputError(f"{source}: column(s) {', '.join(repr(m) for m in missing)} not found; columns are: "
                         f"{', '.join(map(str, frame.columns))}. A labels file needs "
                         f"'{HEADERS['text']}', '{HEADERS['group']}' and '{HEADERS['topics']}' "
                         "(or text, group, topics), or name yours with --text-col, --group-col and --topics-col.")
    return found


def read_labels(source: str | os.PathLike | pd.DataFrame, *, taxonomy: Taxonomy | None = None,
                checked_only: bool = False, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read an analyst's labelled file (.xlsx or .csv, or a frame) into the columns train() needs.

    Returns columns text, group (id), topics (ids joined by ';'), is_general, is_repeat, row (the row in
    the file, header = 1) and id when the file has one. Groups and topics may be Russian names or ids in
    any case. Columns are found by their Russian headers or field names, or as `columns` names them
    (field -> column, e.g. {"text": "comment"}); attrs['columns'] says which were found. Rows without a
    group are not labelled yet and are skipped (counted in attrs['skipped']); with `checked_only`, so are
    rows whose 'Проверено' is not 'да'. Every bad cell is collected and raised at once as LabelFileError,
    with its row number.
    """
    from . import io

    tax = taxonomy or load_taxonomy()
    if isinstance(source, pd.DataFrame):
        name, frame = source.attrs.get("source", "the labels frame"), source
    else:
        name, frame = str(source), io.read_table(source)
    cols = _columns(frame, name, columns or {})
    if checked_only and "checked" not in cols:
        raise InputError(f"{name}: checked_only=True needs a '{HEADERS['checked']}' column; it is not there")
    resolve = Resolver(tax)
    records, problems, skipped = [], [], 0
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2  # the row number Excel shows: the header is row 1
        text, group = _cell(row[cols["text"]]), _cell(row[cols["group"]])
        if not group:
            if _cell(row[cols["topics"]]):  # half-labelled: the analyst forgot the group
                problems.append(Problem(line, cols["group"], "", "topics are given but no group; "
                                        "fill the group or clear the topics"))
            elif text:
                skipped += 1  # not labelled yet
            continue
        if checked_only and not parse_flag(row[cols["checked"]]):
            skipped += 1
            continue
        record, row_problems = _record(row, cols, resolve, line)
        problems += row_problems
        if not row_problems:
            records.append(record)
    if problems:
        raise LabelFileError(problems, name)
    fields = ["row"] + (["id"] if "id" in cols else []) + ["text", "group", "topics", "is_general", "is_repeat"]
    out = pd.DataFrame(records, columns=fields)
    out.attrs = {"source": name, "skipped": skipped, "taxonomy": tax.name, "columns": cols}
    return out


def _record(row: dict, cols: dict, resolve: Resolver, line: int) -> tuple[dict, list[Problem]]:
    problems = []
    text = _cell(row[cols["text"]])
    if not text:
        problems.append(Problem(line, cols["text"], "", "the text is empty; remove the row or fill the text"))
    group, bad = resolve.group(row[cols["group"]])
    if bad:
        problems.append(Problem(line, cols["group"], _cell(row[cols["group"]]), bad))
    topics, bad_topics = resolve.topics(row[cols["topics"]])
    problems += [Problem(line, cols["topics"], _cell(row[cols["topics"]]), msg, UNKNOWN_TOPIC) for msg in bad_topics]
    flags = {}
    for field in ("is_general", "is_repeat"):
        value = row[cols[field]] if field in cols else ""
        flags[field] = parse_flag(value)
        if flags[field] is None:
            problems.append(Problem(line, cols[field], _cell(value), f"write '{YES}' or '{NO}'"))
    if flags["is_general"] and topics:
        problems.append(Problem(line, cols["is_general"], _cell(row[cols["is_general"]]),
                                "a too-general comment names no process, so it has no topics; "
                                f"clear '{cols['topics']}' or write '{NO}' here"))
    record = {"row": line, "text": text, "group": group, "topics": ";".join(topics),
              "is_general": bool(flags["is_general"]), "is_repeat": bool(flags["is_repeat"])}
    if "id" in cols:
        record["id"] = _cell(row[cols["id"]])
    return record, problems
