"""What a CSV file is before it is read: its encoding, its delimiter and the title rows above its header.

Exports arrive as UTF-8 (with or without BOM), cp1251, KOI8-R or UTF-16 with a BOM, with `,` `;` or tab.
Detection reads the first megabyte: it refuses what would read as gibberish (UTF-8 taken for cp1251, lines in
two encodings) and binary files renamed .csv, naming the option that fixes a wrong guess.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from .errors import InputError

DELIMITERS = (",", ";", "\t")

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
    # "\n" when lines end in "\n" alone: a cell's lone "\r" (pandas writes it unquoted) then stays in its cell
    line_end: str | None = None


def existing_file(path: str | os.PathLike) -> Path:
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
    path = existing_file(path)
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
    first_end = text.find("\n")  # lines end as the first one does: "\n" alone, or "\r\n" (then the default)
    line_end = "\n" if first_end > 0 and text[first_end - 1] != "\r" else None
    return CsvFormat(encoding=encoding, sep=sep, errors=errors, given=given, title_rows=_csv_title_rows(text, sep),
                     line_end=line_end)


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
        return count_title_rows(_first_rows(text, sep)[:TITLE_ROWS + 1])
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
        rows = [r for r in rows[count_title_rows(rows[:TITLE_ROWS + 1]):] if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def csv_kwargs(fmt: CsvFormat) -> dict:
    # keep_default_na=False: a comment "NA" or "null" is text, and an empty cell stays ""
    # index_col=False: a first row longer than the header must not turn the first column into an index
    return dict(sep=fmt.sep, encoding=fmt.encoding, encoding_errors=fmt.errors, dtype=str, keep_default_na=False,
                na_filter=False, engine="c", index_col=False, skiprows=fmt.title_rows, lineterminator=fmt.line_end)


def csv_error(path: Path, fmt: CsvFormat, exc: Exception) -> InputError:
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


TITLE_ROWS = 10  # rows above the header that may hold a report title, a date, a blank line


def filled_cells(row: Sequence[object]) -> list[object]:
    """The cells of a row that hold something (not None, NaN or blank)."""
    return [v for v in row if v is not None and v == v and str(v).strip()]  # v != v: NaN


def count_title_rows(rows: Sequence[Sequence[object]]) -> int:
    """How many rows above the header hold a title or column groups: 0 unless the rows above a row of three or
    more distinct column names (at least as wide as the rows under it) are blank, titles (one cell of several
    words in the first column: "Выгрузка опроса за июнь") or group rows ("Клиент", "", "Опрос", "" over
    merged cells). Anything less is left for the reader to see."""
    cells = [filled_cells(row) for row in rows]
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
    filled = [k for k, v in enumerate(row) if filled_cells([v])]
    if len(filled) == 1 and filled[0] == 0 and " " in str(row[0]).strip():
        return True  # a title: "Выгрузка опроса NPS за июнь"
    width = next((len(filled_cells(r)) for r in below if filled_cells(r)), 0)
    # a group over merged cells: Excel keeps the name in the first cell and leaves the others empty
    return 1 < width and len(filled) < width and all(k + 1 < len(row) and not filled_cells([row[k + 1]]) for k in filled)
