"""Read and write tables (CSV, Excel, Parquet) the way CX exports arrive, and write output safely.

CSV comes as UTF-8 (with or without BOM), cp1251, KOI8-R or UTF-16 with a BOM, with `,` `;` or tab: both
are detected. Every column is read as text, so an id "00123" stays "00123". Output goes to a temporary file
in the same folder and is renamed at the end: an interrupted run leaves no half-written file posing as
complete. A CSV cell Excel would run as a formula is written with a quote in front, and read back without.
"""
from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import os
import re
import shlex
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd

from .errors import InputError

__all__ = [
    "CsvFormat", "TableWriter", "check_columns", "count_rows", "iter_table", "match_columns", "open_writer",
    "read_table", "sniff_csv", "write_table",
]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx",)
PARQUET_SUFFIXES = (".parquet", ".pq")
SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES
DELIMITERS = (",", ";", "\t")
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CHARS = 32_767
_SNIFF_BYTES = 1 << 20
_BOMS_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # Excel's "Unicode text" (tab-separated) starts so
# First bytes of files that are often renamed to .csv by mistake.
_MAGIC = {b"PK\x03\x04": "an Excel/zip file (save it as .xlsx)", b"PAR1": "a Parquet file (name it .parquet)",
          b"%PDF": "a PDF document", b"\xd0\xcf\x11\xe0": "an old Excel .xls file (save it as .xlsx or CSV)"}


_RUSSIAN = re.compile("[а-яА-ЯёЁ]")
# The ten commonest Russian letters make up about two thirds of Russian text (at least 0.54 of every comment
# of 20 letters or more in the dev set); KOI8-R read as cp1251 has a third of them (0.37), cp866 0.42.
_COMMON_LETTERS = frozenset("оеаинтсрвл")
# UTF-8 read as cp1251: each Russian letter turns into «Р» or «С» and one of cp1251's 0x80-0xBF characters
# ("нормально" -> «РЅРѕСЂРјР°Р»СЊРЅРѕ»)
_UTF8_PAIR = re.compile("[РС][" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1251", errors="replace")) + "]")
# KOI8-R read as cp1251 swaps the case of every letter: "Пришли" -> «пТЙЫМЙ», lower case before upper
_ODD_CASE = re.compile(r"\b[а-яё]+[А-ЯЁ]")
_CAPITALISED = re.compile(r"\b[А-ЯЁ][а-яё]")
# What a cp1251 line of Russian text holds besides ASCII (a line with «Ђ» or «Ѕ» is junk or UTF-8)
_CP1251_TEXT = re.compile("[а-яА-ЯёЁ«»—–№…“”„‘’\u00a0]*")


@dataclass(frozen=True)
class CsvFormat:
    """What `sniff_csv` found: the encoding to read with and the delimiter."""

    encoding: str
    sep: str
    errors: str = "strict"  # "replace": UTF-8 but for a few broken bytes; their rows read "\ufffd" and are marked
    given: frozenset = frozenset()  # "encoding", "sep": what the caller gave rather than detection found
    title_rows: int = 0  # lines above the header holding a title ("Выгрузка за июнь"), skipped


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


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"input file {path} not found; check the path (current folder: {Path.cwd()})")
    if path.is_dir():
        raise InputError(f"input {path} is a folder; pass a CSV, .xlsx or .parquet file")
    if path.stat().st_size == 0:
        raise InputError(f"input file {path} is empty (0 bytes); export the data again")
    return path


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        # final=False: the sample may end in the middle of a multi-byte letter
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        return True
    except UnicodeDecodeError:
        return False


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 but for a few broken bytes (a damaged row): its Russian letters far outnumber the breaks. A cp1251
    file read as UTF-8 breaks at nearly every Russian letter and decodes almost none."""
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=False)
    return len(_RUSSIAN.findall(text)) >= 50 * text.count("\ufffd")


def _looks_like_text(text: str) -> bool:
    """cp1251 decodes almost any byte, so check that the result reads as Russian/Latin text."""
    if not text:
        return True
    good = sum(ch.isalnum() or ch.isspace() or ch in ",.;:!?\"'()-–—«»№%/\\@#&*+=_<>[]{}|$€₽" for ch in text)
    return good / len(text) > 0.9


def _reads_as_russian(text: str) -> bool:
    """Whether Cyrillic text reads as Russian, not as UTF-8 or KOI8-R bytes decoded with a one-byte encoding:
    no run of «Р»/«С» pairs, no more words cased «пТЙЫМЙ» than «Пришли», and (given 20 letters to count)
    the common letters at their usual share."""
    letters = _RUSSIAN.findall(text)
    if len(_UTF8_PAIR.findall(text)) > max(2, len(letters) / 5):
        return False
    if len(_ODD_CASE.findall(text)) > max(1, len(_CAPITALISED.findall(text))):
        return False
    common = sum(ch.lower() in _COMMON_LETTERS for ch in letters)
    return len(letters) < 20 or common >= 0.45 * len(letters)


def _reads_as(sample: bytes, encoding: str) -> bool:
    """Whether a one-byte Cyrillic encoding turns `sample` into Russian text."""
    text = sample.decode(encoding, errors="replace")
    return _looks_like_text(text) and _reads_as_russian(text)


def _mixed_lines(sample: bytes) -> tuple[int, int] | None:
    """(a UTF-8 line, a cp1251 line) when the sample has Russian in both (two exports pasted together),
    else None. A line of broken bytes is not cp1251 unless it reads as Russian: it is a damaged row."""
    lines = sample.split(b"\n")
    if len(sample) >= _SNIFF_BYTES:
        lines = lines[:-1]  # may end in the middle of a letter
    found: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if line.isascii():
            continue
        try:
            if _RUSSIAN.search(line.decode("utf-8")):
                found.setdefault("utf-8", number)
        except UnicodeDecodeError:
            text = line.decode("cp1251", errors="replace")
            if _RUSSIAN.search(text) and _reads_as_russian(text) \
                    and all(_CP1251_TEXT.fullmatch(ch) for ch in text if not ch.isascii()):
                found.setdefault("cp1251", number)
        if len(found) == 2:
            return found["utf-8"], found["cp1251"]
    return None


def sniff_csv(path: str | os.PathLike, encoding: str | None = None, sep: str | None = None) -> CsvFormat:
    """Detect the encoding (utf-8 with or without BOM, cp1251, KOI8-R, UTF-16 with BOM) and delimiter
    (, ; tab) of a CSV file, unless given."""
    path = _existing(path)
    encoding, sep = checked_encoding(encoding), checked_sep(sep)
    with open(path, "rb") as f:
        sample = f.read(_SNIFF_BYTES)
    _check_text(path, sample, encoding)
    errors = "strict"
    given = frozenset(k for k, v in (("encoding", encoding), ("sep", sep)) if v is not None)
    if encoding is None:
        encoding, errors = _detected(path, sample)
    else:
        _check_given(path, sample, encoding)
    text = sample.decode(encoding, errors="replace")
    if not text.strip():
        raise InputError(f"input file {path} has no rows (only blank space); export the data again")
    sep = sep or _sniff_sep(text)
    return CsvFormat(encoding=encoding, sep=sep, errors=errors, given=given, title_rows=_csv_title_rows(text, sep))


def _check_text(path: Path, sample: bytes, encoding: str | None) -> None:
    """Refuse a file that is not text, or is text of two encodings at once."""
    for magic, what in _MAGIC.items():
        if sample.startswith(magic):
            raise InputError(f"input file {path} is not a CSV: it looks like {what}")
    wide = sample.startswith(_BOMS_UTF16) or (
        encoding is not None and codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")))
    if not wide and _utf16_or_binary(sample):
        raise InputError(
            f"input file {path} is UTF-16 without a byte-order mark, or binary (NUL bytes throughout), not "
            "UTF-8 or cp1251 text: save it from Excel as 'CSV UTF-8' or pass an .xlsx file"
        )
    mixed = None if wide or _decodes(sample, "utf-8") else _mixed_lines(sample)
    if mixed:
        raise InputError(
            f"input file {path} has UTF-8 text (line {mixed[0]}) and cp1251 text (line {mixed[1]}): the file "
            "mixes encodings, and either one makes the other's rows gibberish: re-save it in one encoding "
            "(Excel: 'CSV UTF-8')"
        )


def _detected(path: Path, sample: bytes) -> tuple[str, str]:
    """(encoding, decoding errors) of a sample, or InputError when no encoding reads it as text."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "strict"
    if sample.startswith(_BOMS_UTF16):
        return "utf-16", "strict"  # Excel's "Unicode text"; the BOM says which byte order
    if _decodes(sample, "utf-8"):
        return "utf-8", "strict"
    if _mostly_utf8(sample):
        return "utf-8", "replace"
    for encoding in ("cp1251", "koi8-r"):
        if _reads_as(sample, encoding):
            return encoding, "strict"
    raise InputError(
        f"input file {path} reads neither as UTF-8 nor as cp1251 text (nor as KOI8-R): check that it is the "
        "CSV export you meant; if it is text in another encoding, save it as 'CSV UTF-8' or give that "
        "encoding (encoding=...; on the command line --input-encoding, e.g. --input-encoding cp866)"
    )


def _check_given(path: Path, sample: bytes, encoding: str) -> None:
    """Refuse an encoding the caller gave that would turn the file into gibberish."""
    utf = codecs.lookup(encoding).name.startswith("utf")
    if not utf and _decodes(sample, "utf-8") and _RUSSIAN.search(sample.decode("utf-8", errors="replace")):
        raise InputError(f"input file {path} is UTF-8 text with Russian letters; read as {encoding} it would be "
                         "gibberish: leave the encoding to detection (drop --input-encoding / encoding=)")
    if not (_decodes(sample, encoding) and (utf or _looks_like_text(sample.decode(encoding)))):
        found = _detected_encoding(sample)
        raise InputError(f"input file {path} does not read as {encoding} text, the encoding you gave"
                         + (f"; it reads as {found}: drop --input-encoding (encoding=) and it is detected"
                            if found else "; nor as UTF-8 or cp1251: check that it is the CSV export you meant"))


def _detected_encoding(sample: bytes) -> str | None:
    """What detection would read `sample` as: "UTF-8", "cp1251", "koi8-r" or None."""
    if _decodes(sample, "utf-8"):
        return "UTF-8"
    return next((encoding for encoding in ("cp1251", "koi8-r") if _reads_as(sample, encoding)), None)


def checked_encoding(encoding: str | None, *, output: bool = False) -> str | None:
    """A text encoding Python knows; for output, one byte-based encoding that holds Russian letters (the
    labels' names are Russian), so not latin-1, ascii or UTF-16, whose BOM would repeat in every chunk
    (utf-8-sig is written as utf-8 with one BOM)."""
    if encoding is None:
        return None
    try:
        name = codecs.lookup(encoding).name
        "a".encode(encoding).decode(encoding)  # "rot13", "base64": codecs, but not text encodings
    except (LookupError, UnicodeError):
        raise InputError(f"encoding '{encoding}' is unknown or not a text encoding; use utf-8 or cp1251") from None
    if output:
        if name.startswith(("utf-16", "utf-32")):
            raise InputError(f"output encoding '{encoding}' is not supported: use utf-8, utf-8-sig (UTF-8 with the "
                             "BOM Excel needs to show Russian letters) or cp1251")
        try:
            "Ёё".encode(encoding)
        except UnicodeEncodeError:
            raise InputError(f"output encoding '{encoding}' cannot hold Russian letters, which the labels' names "
                             "are written in: use utf-8 or cp1251") from None
    return encoding


def checked_sep(sep: str | None) -> str | None:
    """A one-character delimiter; "tab" and "\\t" name the tab. Quotes and line ends cannot delimit."""
    if sep is None:
        return None
    sep = {"tab": "\t", "\\t": "\t"}.get(sep.lower(), sep)
    if len(sep) != 1 or sep in "\"\r\n":
        raise InputError(f"the delimiter must be one character other than a quote or a line end (',', ';' or "
                         f"'tab'), got {sep!r}")
    return sep


def _utf16_or_binary(sample: bytes) -> bool:
    """UTF-16 without a BOM (with one, it is read) puts a NUL beside every Latin letter, digit, comma and line
    end (and 0x04 beside every Russian letter), binary files NULs anywhere; a few stray NULs in cells of a
    text file are read, and preprocessing marks those rows "not text"."""
    head = sample[:4096]
    # a NUL in one byte in ten of one parity, and far fewer in the other: a run of NULs fills both alike;
    # Cyrillic UTF-16 has byte 0x04 (U+04xx) beside each letter, a byte text files never hold
    for byte, share in ((0, 20), (4, 8)):
        even, odd = head[0::2].count(byte), head[1::2].count(byte)
        if max(even, odd) >= 4 and max(even, odd) > len(head) / share and min(even, odd) < max(even, odd) / 4:
            return True
    return False


def _first_rows(text: str, sep: str) -> list[list[str]]:
    """The first (up to 50) whole rows of a sample, split by `sep`."""
    lines = text.splitlines()[:50]
    if len(text) >= _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))


def _csv_title_rows(text: str, sep: str) -> int:
    try:
        return _title_rows(_first_rows(text, sep)[:_TITLE_ROWS + 1])
    except csv.Error:
        return 0


def _sniff_sep(text: str) -> str:
    """The delimiter that splits the first lines (below a title) into the most columns, consistently."""
    best, best_score = ",", (0.0, 1)
    for sep in DELIMITERS:
        try:
            rows = _first_rows(text, sep)
        except csv.Error:
            continue
        rows = [r for r in rows[_title_rows(rows[:_TITLE_ROWS + 1]):] if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _csv_kwargs(fmt: CsvFormat) -> dict:
    # keep_default_na=False: a comment "NA" or "null" is text, and an empty cell stays ""
    # index_col=False: a first row longer than the header must not turn the first column into an index
    return dict(sep=fmt.sep, encoding=fmt.encoding, encoding_errors=fmt.errors, dtype=str, keep_default_na=False,
                na_filter=False, engine="c", index_col=False, skiprows=fmt.title_rows)


def _csv_error(path: Path, fmt: CsvFormat, exc: Exception) -> InputError:
    if isinstance(exc, UnicodeDecodeError):
        other = "cp1251" if fmt.encoding.startswith("utf") else "utf-8"
        if "encoding" in fmt.given:
            return InputError(f"input file {path} is not valid {fmt.encoding}, the encoding you gave, further down "
                              f"({exc.reason} at byte {exc.start} of a block): drop --input-encoding (encoding=) "
                              "to let it be detected, or re-save the file in one encoding")
        return InputError(
            f"input file {path} is not valid {fmt.encoding} further down ({exc.reason} at byte "
            f"{exc.start} of a block); the file mixes encodings: re-save it in one encoding "
            f"or give its encoding (encoding='{other}'; on the command line --input-encoding {other})"
        )
    if isinstance(exc, pd.errors.EmptyDataError):
        return InputError(f"input file {path} has no header row; export the data again with a header")
    sep = {"\t": "tab"}.get(fmt.sep, fmt.sep)
    other = "," if fmt.sep == ";" else ";"
    detail = "a row has more fields than the header" if isinstance(exc, pd.errors.ParserWarning) else str(exc).strip()
    if "sep" in fmt.given:
        return InputError(
            f"input file {path} could not be read as CSV with '{sep}', the delimiter you gave: {detail}. "
            "Drop --input-sep (sep=) to let it be detected; if it is right, a text cell holds it or a line "
            "break without quotes: export with quoting, or save as .xlsx"
        )
    return InputError(
        f"input file {path} could not be read as CSV with delimiter '{sep}': {detail}. "
        "Usually a text cell holds the delimiter or a line break without quotes: export with quoting, "
        f"or save as .xlsx; if the delimiter is another one, give it (sep='{other}'; on the command line "
        f"--input-sep '{other}')"
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
    path = _existing(path)
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
            yield _restored(_clean_header(_strict(lambda: pd.read_csv(path, **_csv_kwargs(fmt))), header, titles))
            return
        with pd.read_csv(path, chunksize=chunksize, **_csv_kwargs(fmt)) as reader:
            while (chunk := _strict(lambda: next(reader, None))) is not None:
                yield _restored(_clean_header(chunk, header, titles))
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError,
            csv.Error) as exc:
        raise _csv_error(path, fmt, exc) from exc


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
    titles = [" ".join(str(v).strip() for v in _filled(row)) for row in titles]
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
                top = pd.read_excel(book, sheet_name=name, header=None, nrows=_TITLE_ROWS + 1, dtype=object)
                skip = _title_rows(top.values.tolist())
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


_TITLE_ROWS = 10  # rows above the header that may hold a report title, a date, a blank line


def _filled(row: Sequence[object]) -> list[object]:
    """The cells of a row that hold something (not None, NaN or blank)."""
    return [v for v in row if v is not None and v == v and str(v).strip()]  # v != v: NaN


def _title_rows(rows: Sequence[Sequence[object]]) -> int:
    """How many rows above the header hold a title or column groups: 0 unless the rows above a row of three or
    more distinct column names (at least as wide as the rows under it) are blank, titles (one cell of several
    words in the first column: "Выгрузка опроса за июнь") or group rows ("Клиент", "", "Опрос", "" over
    merged cells). Anything less is left for the reader to see."""
    cells = [_filled(row) for row in rows]
    if not cells or not cells[0]:
        return 0  # the first row is the header (or the file is not a table with a title)
    header = next((i for i, row in enumerate(rows) if cells[i] and not _above_header(row, rows[i + 1:])), 0)
    names = cells[header] if header else []
    if len(names) < 3 or len(set(map(str, names))) < len(names):
        return 0
    if not all(isinstance(v, str) and not v.strip().isdigit() for v in names):
        return 0
    return header if len(names) >= max(map(len, cells[header:])) else 0  # not a comment split at its commas


def _above_header(row: Sequence[object], below: Sequence[Sequence[object]]) -> bool:
    """Whether a row reads as a title or as groups of the columns below it, not as the header."""
    filled = [k for k, v in enumerate(row) if _filled([v])]
    if len(filled) == 1 and filled[0] == 0 and " " in str(row[0]).strip():
        return True  # a title: "Выгрузка опроса NPS за июнь"
    width = next((len(_filled(r)) for r in below if _filled(r)), 0)
    # a group over merged cells: Excel keeps the name in the first cell and leaves the others empty
    return 1 < width and len(filled) < width and all(k + 1 < len(row) and not _filled([row[k + 1]]) for k in filled)


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


# A number as a CSV holds it ("9", "-3", "8,5"); "00123" (an id) and 16+ digits (a card, an account) are not
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:[.,]\d{1,10})?")


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
        frame, neutralised = _neutralised(_flat(frame), header)
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
        numeric = _number_columns(flat)
        for r, row in enumerate(flat.itertuples(index=False, name=None)):
            for c, value in enumerate(row):
                if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
                    continue
                if c in numeric and isinstance(value, str) and value:
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
