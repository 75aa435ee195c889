"""Read and write tables (CSV, Excel, Parquet) the way CX exports arrive, and write output safely.

A CSV's encoding, delimiter and title rows are found by `csv_format`. Every column is read as text, so an
id "00123" stays "00123". Output goes to a temporary file
in the same folder and is renamed at the end: an interrupted run leaves no half-written file posing as
complete. A CSV cell Excel would run as a formula is written with a quote in front, and read back without.
"""
from __future__ import annotations

import codecs
import csv
import datetime
import itertools
import os
import re
import shlex
import tempfile
import warnings
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from .csv_format import (DELIMITERS, TITLE_ROWS, CsvFormat, checked_encoding, checked_sep, count_title_rows, csv_error,
                         csv_kwargs, existing_file, filled_cells, sniff_csv)
from .errors import InputError

__all__ = [
    "CsvFormat", "TableWriter", "check_columns", "count_rows", "iter_table", "match_columns", "open_writer",
    "read_table", "sniff_csv", "write_table",
]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx",)
PARQUET_SUFFIXES = (".parquet", ".pq")
SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CHARS = 32_767
def _kind(path: Path, role: str) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in EXCEL_SUFFIXES:
        return "xlsx"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise InputError(
        f"{role} file {path} has extension '{suffix or '(none)'}'; expected one of "
        f"{', '.join(SUFFIXES)}; rename the file or convert it (an old .xls: save as .xlsx in Excel)"
    )


def read_table(path: str | os.PathLike, *, encoding: str | None = None, sep: str | None = None,
               sheet: str | None = None, text_col: str | None = None) -> pd.DataFrame:
    """The whole table: CSV as text columns, .xlsx cells as Excel typed them, Parquet with its own types."""
    frames = list(iter_table(path, chunksize=None, encoding=encoding, sep=sep, sheet=sheet, text_col=text_col))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def iter_table(path: str | os.PathLike, chunksize: int | None = 50_000, *, encoding: str | None = None,
               sep: str | None = None, sheet: str | None = None, text_col: str | None = None
               ) -> Iterator[pd.DataFrame]:
    """Chunks of at most `chunksize` rows (CSV and Parquet stream; .xlsx is read whole, then cut).
    `encoding` and `sep` apply to CSV (detected when None), `sheet` and `text_col` to .xlsx (the first sheet
    when None; a yes/no or date cell among the texts of `text_col` stays a value, so it is not labelled as
    the text "True")."""
    path = existing_file(path)
    kind = _kind(path, "input")
    if kind == "csv":
        yield from _iter_csv(path, chunksize, encoding, sep)
    elif kind == "parquet":
        yield from _iter_parquet(path, chunksize)
    else:
        frame = _read_xlsx(path, sheet, text_col)
        step = chunksize or max(len(frame), 1)
        for start in range(0, max(len(frame), 1), step):
            chunk = frame.iloc[start:start + step].reset_index(drop=True)
            chunk.attrs = dict(frame.attrs)
            yield chunk


def _iter_csv(path: Path, chunksize: int | None, encoding: str | None, sep: str | None) -> Iterator[pd.DataFrame]:
    fmt = sniff_csv(path, encoding, sep)
    try:
        *titles, header = _csv_header(path, fmt)
        if chunksize is None:
            yield _restored(_clean_header(_strict(lambda: pd.read_csv(path, **csv_kwargs(fmt))), header, titles))
            return
        with pd.read_csv(path, chunksize=chunksize, **csv_kwargs(fmt)) as reader:
            while (chunk := _strict(lambda: next(reader, None))) is not None:
                yield _restored(_clean_header(chunk, header, titles))
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError,
            csv.Error) as exc:
        raise csv_error(path, fmt, exc) from exc


def _csv_header(path: Path, fmt: CsvFormat) -> list[list[str]]:
    """The title rows, then the header row as written (pandas renames a repeated name "a" to "a.1")."""
    with open(path, encoding=fmt.encoding, errors="replace", newline="") as handle:
        rows = list(itertools.islice(csv.reader(handle, delimiter=fmt.sep), fmt.title_rows + 1))
    return rows + [[]] * (fmt.title_rows + 1 - len(rows))


def _clean_header(frame: pd.DataFrame, header: Sequence[object] | None = None,
                  titles: Sequence[Sequence[object]] = ()) -> pd.DataFrame:
    """Column names without NUL bytes: invisible on a terminal, "\x00id" would be named "id" in every
    message and could never be typed as --id-col. Columns that repeat a name of `header` are listed
    in frame.attrs["repeated_columns"] (pandas' new name -> the name as written); the title rows skipped
    above the header, in frame.attrs["title_rows"]."""
    titles = [" ".join(str(v).strip() for v in filled_cells(row)) for row in titles]
    if any(titles):
        frame.attrs["title_rows"] = [title for title in titles if title]
    if any("\x00" in str(c) for c in frame.columns):
        frame.columns = [str(c).replace("\x00", "") for c in frame.columns]
    if header is not None and len(header) == len(frame.columns):
        written = ["" if h is None or h != h else str(h).replace("\x00", "") for h in header]  # blank: NaN
        seen: set[str] = set()
        repeated = {}
        for name, column in zip(written, frame.columns):
            if name and name in seen and str(column) != name:  # a blank header is pandas' "Unnamed: k"
                repeated[str(column)] = name
            seen.add(name)
        if repeated:
            frame.attrs["repeated_columns"] = repeated
    return frame


def _strict(read):
    """read(), with pandas' warning of a row longer than the header raised: it would cut that row's text."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return read()


def _iter_parquet(path: Path, chunksize: int | None) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"input file {path} is not a readable Parquet file ({exc}); export it again") from exc
    with file:
        if file.metadata.num_rows == 0:
            yield file.schema_arrow.empty_table().to_pandas(types_mapper=_nullable_ints)
            return
        for batch in file.iter_batches(batch_size=chunksize or file.metadata.num_rows):
            yield batch.to_pandas(types_mapper=_nullable_ints)


def _nullable_ints(arrow_type):
    """Integer columns stay integers when they hold nulls (as floats, an id like 9007199254740993 changes)."""
    import pyarrow as pa

    if not pa.types.is_integer(arrow_type):
        return None
    sign = "" if pa.types.is_signed_integer(arrow_type) else "U"
    return pd.api.types.pandas_dtype(f"{sign}Int{arrow_type.bit_width}")  # Int64, UInt8...


def _read_xlsx(path: Path, sheet: str | None = None, text_col: str | None = None) -> pd.DataFrame:
    """A sheet (the first unless named), each cell as Excel typed it: numbers stay numbers (an NPS column can
    still be averaged in the output), text stays text ("00123" keeps its zeros), an empty cell is "".
    A title above the header ("Выгрузка опроса за июнь" alone on row 1) is skipped and kept in
    frame.attrs["title_rows"].
    """
    import zipfile

    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = book.sheet_names
            if sheet is None or sheet in names:
                name = sheet if sheet is not None else 0
                top = pd.read_excel(book, sheet_name=name, header=None, nrows=TITLE_ROWS + 1, dtype=object)
                skip = count_title_rows(top.values.tolist())
                frame = pd.read_excel(book, sheet_name=name, dtype=object, skiprows=skip,
                                      keep_default_na=False, na_filter=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(
            f"input file {path} is not a readable .xlsx workbook ({exc}); open it in Excel and save as .xlsx"
        ) from exc
    if sheet is not None and sheet not in names:
        raise InputError(f"input file {path} has no sheet '{sheet}'; its sheets are: {', '.join(names)}")
    frame.columns = [str(c) for c in frame.columns]
    text_col = match_columns(frame.columns, {"text": text_col})["text"]
    for col in frame.columns:
        frame[col] = _typed_or_text(frame[col], text=col == text_col)
    rows = top.values.tolist()
    # a column filled only below the first rows read is missing from `top`: its header cell is blank
    header = (rows[skip] + [None] * len(frame.columns))[:len(frame.columns)] if rows else []
    return _clean_header(frame, header, rows[:skip])


def _typed_or_text(cells: pd.Series, text: bool = False) -> pd.Series:
    """A column of Excel cells: numbers (or dates, or yes/no) with blanks as missing when every filled cell
    is of that one kind; otherwise text, as a CSV gives it ("5", "", "n/a"), so Parquet can store it. In
    the `text` column a yes/no or date stays a value: preprocessing marks it "not text" (as "True" it
    would be labelled)."""
    filled = cells[cells != ""]
    kinds = {"text" if isinstance(v, str) else "bool" if isinstance(v, bool) else
             "number" if isinstance(v, (int, float)) else "time" for v in filled}
    if len(kinds) == 1 and "text" not in kinds:
        return cells.where(cells != "", None)
    if kinds <= {"text"}:
        return cells
    return cells.map(_number_as_text if text else _as_cell_text)


def _number_as_text(value: object) -> object:
    return _as_cell_text(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _as_cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def count_rows(path: str | os.PathLike) -> int | None:
    """Row count for a progress bar: exact for Parquet, an estimate (lines - 1) for CSV."""
    path = Path(path)
    kind = _kind(path, "input")
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if kind == "csv":
        lines, last = 0, b"\n"
        with open(path, "rb") as f:
            while block := f.read(1 << 22):
                lines += block.count(b"\n")
                last = block[-1:]
        return max(lines + (last != b"\n") - 1, 0)
    return None


def check_columns(columns: Sequence[str], wanted: dict[str, str | None], path: str | os.PathLike = "",
                  sheet: str | None = None) -> None:
    """Raise InputError when a wanted column is missing, naming the columns and the fix.

    `wanted` maps an option name (e.g. "text-col") to the column asked for (None = not asked); `sheet` is
    the sheet of an .xlsx that was read, when one was named.
    """
    columns = [str(c) for c in columns]
    where = f" in {path}" if path else ""
    for option, name in wanted.items():
        if name is None or name in columns:
            continue
        if len(columns) == 1 and any(d in columns[0] for d in DELIMITERS):
            found = next(d for d in (";", ",", "\t") if d in columns[0])
            raise InputError(
                f"column '{name}' not found{where}: the file was read as one column named "
                f"'{columns[0][:80]}', so its delimiter is probably '{found}' rather than the one detected; "
                f"give the delimiter (sep='{found}'; on the command line --input-sep '{found}') or re-save the "
                "file with one delimiter"
            )
        hint = _likely_column(columns, name, option)
        spaces = " (its name has spaces around it: keep the quotes)" if hint != hint.strip() else ""
        if sheet is not None:
            read = f" (sheet '{sheet}')"
        elif str(path).lower().endswith(".xlsx"):
            read = " (of an .xlsx, the first sheet is read unless you name one: --sheet NAME)"
        else:
            read = ""
        found = f"columns are: {', '.join(map(_shown, columns))}" if columns else "there are no columns (no header row)"
        raise InputError(f"column '{name}' not found{where}{read}; {found}; pass --{option} {_quoted(hint)}{spaces}")


def match_columns(columns: Sequence[str], wanted: dict[str, str | None]) -> dict[str, str | None]:
    """`wanted` (option -> column name) with a name that is no column but differs from exactly one column only
    by case or surrounding spaces replaced by that column: --text-col text finds the header " Text "."""
    columns = [str(c) for c in columns]
    matched = {}
    for option, name in wanted.items():
        fits = [] if name is None or name in columns else [c for c in columns if _loose(c) == _loose(name)]
        matched[option] = fits[0] if len(fits) == 1 else name
    return matched


def _loose(name: str) -> str:
    return name.strip().casefold()


def _quoted(name: str) -> str:
    """A column name as it is typed on a command line: quoted when it holds spaces or shell characters."""
    return name if re.fullmatch(r"[\w.\-]+", name) else shlex.quote(name)


def _shown(name: str) -> str:
    """A column name in a list: quoted when spaces around it would be invisible."""
    return f"'{name}'" if name != name.strip() else name


# Column names that usually hold what an option asks for, as exported by survey tools and CRMs.
_USUAL_NAMES = {
    "text-col": ("text", "comment", "комментарий", "отзыв", "текст", "message", "сообщение", "answer", "ответ",
                 "review", "feedback", "обращение", "описание"),
    "id-col": ("id", "ид", "номер", "ticket", "заявка"),
    "customer-col": ("customer", "client", "клиент", "абонент", "user"),
    "time-col": ("date", "time", "created", "дата", "время"),
}


def _likely_column(columns: list[str], name: str, option: str) -> str:
    """The column to suggest: same name in another case or with spaces around it, else one whose name says
    what it holds."""
    for column in columns:
        if _loose(column) == _loose(name):
            return column
    for usual in _USUAL_NAMES.get(option, ()):
        for column in columns:
            if usual in column.strip().lower():
                return column
    return "NAME"


def _text_if_mixed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns holding text among yes/no, number or date cells, all as text: Parquet stores one type per
    column. Lists and missing cells stay as they are."""
    out = frame.copy()
    for k, (_, series) in enumerate(frame.items()):
        if series.dtype == object and any(isinstance(v, str) for v in series):
            out.isetitem(k, series.map(_value_as_text))
    return out


def _value_as_text(value: object) -> object:
    if isinstance(value, (bool, int, float, datetime.date, datetime.time)) and value == value:  # NaN != NaN
        return _as_cell_text(value)
    return value


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _text_cell(value) -> object:
    """A label value as CSV/Excel shows it: lists joined with '; ', missing as empty."""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays from Parquet lists
        value = value.tolist()
        return "; ".join(str(v) for v in value) if isinstance(value, list) else value
    return value


# A number as a CSV holds it ("9", "-3", "8,5", a sum); "00123" (an id) and 11+ digits (an INN, an OGRN, a card,
# which Excel would show as 1,002E+14) are not
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,9})(?:[.,]\d{1,10})?")


def _number_columns(frame: pd.DataFrame) -> set[int]:
    """Positions of text columns whose every filled cell is a plain number (a CSV's scores): Excel output
    writes them as numbers, so they sum and pivot. A column with one id like "00123" stays text."""
    found = set()
    for c, (_, series) in enumerate(frame.items()):
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            filled = series.dropna()
            filled = filled[filled.astype(str) != ""]
            if len(filled) and all(isinstance(v, str) and _PLAIN_NUMBER.fullmatch(v) for v in filled):
                found.add(c)
    return found


def _no_carriage_returns(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells with "\r\n" and a lone "\r" as "\n": CSV lines end in "\n", so a lone "\r" would go
    unquoted and split its row in two when read back."""
    out = frame
    for k, (_, series) in enumerate(frame.items()):
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        try:
            has = series.str.contains("\r", regex=False, na=False).to_numpy(bool)
        except AttributeError:  # a column of no text at all (yes/no flags)
            continue
        if has.any():
            out = frame.copy() if out is frame else out
            out.iloc[has, k] = series[has].map(lambda v: v.replace("\r\n", "\n").replace("\r", "\n"))
    return out


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists become '; '-joined text so CSV and Excel show them readably."""
    out = None
    for col in frame.columns:
        series = frame[col]
        if series.dtype == object and series.map(lambda v: isinstance(v, (list, tuple)) or hasattr(v, "tolist")).any():
            out = frame.copy() if out is None else out
            out[col] = series.map(_text_cell)
    return frame if out is None else out


# A CSV cell Excel would run as a formula: "=HYPERLINK(...)", "@SUM(1+1)", "+cmd|' /C calc'!A0", a leading tab
# or CR. A sign is harmless before a number or phone ("-5", "+7 (912) 123-45-67"; not "-2+3+cmd|...") and
# as a list dash before words ("- долго ждал", "+ удобно"): a formula needs "(" (a function), "|" or "!" (DDE).
_FORMULA_START = r"(?:[=@\t\r]|[+-](?![\d\s().,-]*\Z)(?!\s[^(|!]*\Z))"
# Written with one more quote in front; quotes already there count, so reading drops exactly the one added
_FORMULA = re.compile("'*" + _FORMULA_START)
_NEUTRALISED = re.compile("'+" + _FORMULA_START)


def _neutralised(frame: pd.DataFrame, header: bool) -> tuple[pd.DataFrame, int]:
    """The frame with text cells (and, with `header`, column names) that Excel would run as a formula prefixed
    with a quote (OWASP's fix for CSV injection: Excel shows the cell as text), and how many. Numbers stay
    numbers."""
    out, count = frame, 0
    for k, (_, series) in enumerate(frame.items()):
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue
        risky = series.map(_is_formula).to_numpy(bool)
        if risky.any():
            out = frame.copy() if out is frame else out
            out.iloc[risky, k] = "'" + series[risky]
            count += int(risky.sum())
    names = [_safe_name(c) for c in out.columns]  # a header cell runs as well as any other
    if header and names != list(out.columns):
        out = out.set_axis(names, axis=1)
        count += sum(a != b for a, b in zip(names, frame.columns))
    return out, count


def _is_formula(value: object) -> bool:
    return isinstance(value, str) and _FORMULA.match(value) is not None


def _restored(frame: pd.DataFrame) -> pd.DataFrame:
    """CSV cells and column names as they were before `_neutralised` quoted them: "'=СУММ(A1)" reads back
    as "=СУММ(A1)", the text the customer wrote."""
    frame.columns = [_unquoted(c) for c in frame.columns]
    for k, (_, series) in enumerate(frame.items()):
        quoted = series.str.startswith("'", na=False).to_numpy(bool)
        if quoted.any():
            frame.iloc[quoted, k] = series[quoted].map(_unquoted)
    return frame


def _unquoted(value: object) -> object:
    return value[1:] if isinstance(value, str) and _NEUTRALISED.match(value) else value


def _safe_name(name: object) -> object:
    return "'" + name if _is_formula(name) else name


class TableWriter:
    """Writes chunks to a temporary file beside `path`; `commit()` renames it into place.

    Use as a context manager: on an exception the temporary file is removed and `path` is untouched.
    `info` reports what the reader of the output should know (characters replaced for cp1251, cells
    cut to Excel's limit).
    """

    def __init__(self, path: str | os.PathLike, *, encoding: str = "utf-8", bom: bool = False,
                 sep: str = ","):
        self.path = Path(path)
        self.kind = _kind(self.path, "output")
        self.encoding, self.bom, self.sep = encoding, bom, sep
        self.info: dict = {"output": str(self.path), "format": self.kind, "rows": 0}
        if self.kind == "csv":
            self.encoding, self.sep = checked_encoding(encoding, output=True), checked_sep(sep)  # before any work
            if codecs.lookup(self.encoding).name == "utf-8-sig":  # encoded chunk by chunk, it would add a BOM to each
                self.encoding, self.bom = "utf-8", True
            self.bom = self.bom and codecs.lookup(self.encoding).name == "utf-8"
            self.info.update(encoding=self.encoding + ("-sig" if self.bom else ""), sep=self.sep, replaced_chars=0,
                             neutralised_cells=0)
        if self.kind == "xlsx":
            self.info["cut_cells"] = 0
            self._numbers: set[int] | None = None  # columns written as numbers: decided on the first chunk
        if not self.path.parent.exists():
            raise InputError(f"output folder {self.path.parent} does not exist; create it or choose another path")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        os.chmod(self._tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the output gets the usual mode
        self._handle = None
        self._columns: list[str] | None = None
        self._done = False

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def write(self, frame: pd.DataFrame) -> None:
        if self._columns is None:
            self._columns = [str(c) for c in frame.columns]
            self._open(frame)
        getattr(self, f"_write_{self.kind}")(frame)
        self.info["rows"] += len(frame)

    def _open(self, frame: pd.DataFrame) -> None:
        if self.kind == "csv":
            self._handle = open(self._tmp, "wb")
            if self.bom:
                self._handle.write(codecs.BOM_UTF8)
            self._write_csv(frame.iloc[:0], header=True)
        elif self.kind == "xlsx":
            import xlsxwriter

            # strings stay strings: "=СУММ(A1)" or "+7 999..." from a customer is never a formula
            self._handle = xlsxwriter.Workbook(str(self._tmp), {
                "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                "strings_to_numbers": False, "nan_inf_to_errors": True})
            self._sheet = self._handle.add_worksheet("labels")
            self._sheet.write_row(0, 0, self._columns, self._handle.add_format({"bold": True}))
            self._sheet.freeze_panes(1, 0)
        # parquet opens on the first write, once the schema is known

    def _write_csv(self, frame: pd.DataFrame, header: bool = False) -> None:
        frame, neutralised = _neutralised(_no_carriage_returns(_flat(frame)), header)
        self.info["neutralised_cells"] += neutralised
        text = frame.to_csv(sep=self.sep, index=False, header=header, lineterminator="\n")
        try:
            data = text.encode(self.encoding)
        except UnicodeEncodeError:
            # emoji and other letters cp1251 lacks become '?', and the summary counts them
            data = text.encode(self.encoding, errors="replace")
            self.info["replaced_chars"] += len(text) - len(text.encode(self.encoding, errors="ignore").decode(self.encoding))
        self._handle.write(data)

    def _write_xlsx(self, frame: pd.DataFrame) -> None:
        start = self.info["rows"] + 1
        if start + len(frame) > EXCEL_MAX_ROWS:
            raise InputError(
                f"output {self.path} would have more than {EXCEL_MAX_ROWS - 1:,} rows, Excel's limit; "
                "write .csv or .parquet instead"
            )
        sheet = self._sheet
        flat = _flat(frame)
        if self._numbers is None:
            self._numbers = _number_columns(flat)
        numeric = self._numbers
        for r, row in enumerate(flat.itertuples(index=False, name=None)):
            for c, value in enumerate(row):
                if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
                    continue
                if c in numeric and isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
                    number = float(value.replace(",", "."))
                    sheet.write_number(start + r, c, int(number) if number.is_integer() else number)
                elif isinstance(value, str):
                    if len(value) > EXCEL_MAX_CHARS:
                        self.info["cut_cells"] += 1
                        value = value[:EXCEL_MAX_CHARS]
                    sheet.write_string(start + r, c, value)
                elif isinstance(value, (bool, int, float)) or hasattr(value, "dtype"):
                    sheet.write(start + r, c, value.item() if hasattr(value, "item") else value)
                else:
                    sheet.write_string(start + r, c, str(value))

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowTypeError, pa.ArrowInvalid):  # text mixed with yes/no or dates: the text column of a sheet
            table = pa.Table.from_pandas(_text_if_mixed(frame), preserve_index=False)
        if self._handle is None:
            # an all-empty column in the first chunk would fix its type as null: make it text
            schema = pa.schema([
                f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
            ]).remove_metadata()
            self._handle = pq.ParquetWriter(self._tmp, schema)
        schema = self._handle.schema
        if not table.schema.equals(schema, check_metadata=False):
            try:
                table = table.select(schema.names).cast(schema)
            except (pa.ArrowException, KeyError) as exc:
                raise InputError(
                    f"a later chunk of the data has different column types than the first ({exc}); "
                    "make the column types consistent or write CSV"
                ) from exc
        self._handle.write_table(table)

    def commit(self) -> dict:
        """Finish the file and move it into place; returns `info`."""
        if self._done:
            return self.info
        try:
            if self._columns is None:
                raise InputError(f"nothing was written to {self.path}: the input had no header or rows")
            if self.kind == "xlsx":
                self._handle.close()
            elif self._handle is not None:
                self._handle.close()
                if self.kind == "csv":
                    with open(self._tmp, "rb") as f:
                        os.fsync(f.fileno())
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return self.info

    def abort(self) -> None:
        """Drop the temporary file; the output path keeps whatever it had before."""
        if self._done:
            return
        self._done = True
        try:
            if self._handle is not None:
                self._handle.close()
        except Exception:  # closing a half-written workbook may fail; the file is discarded anyway
            pass
        self._tmp.unlink(missing_ok=True)


def open_writer(path: str | os.PathLike, *, encoding: str = "utf-8", bom: bool = False,
                sep: str = ",") -> TableWriter:
    """A TableWriter for CSV (utf-8 or cp1251, optional BOM), .xlsx or .parquet, chosen by extension."""
    return TableWriter(path, encoding=encoding, bom=bom, sep=sep)


def write_table(frame: pd.DataFrame, path: str | os.PathLike, **options) -> dict:
    """Write a whole table safely (temporary file + rename); returns the writer's info."""
    with open_writer(path, **options) as writer:
        writer.write(frame)
    return writer.info
