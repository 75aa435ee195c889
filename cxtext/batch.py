"""`cxtext label` at any size: a table in, the same table plus the label columns out.

Every input row and column comes out, in order. CSV and Parquet stream in chunks, so memory stays flat;
`jobs` worker processes each hold one model (and one pymorphy3 analyzer) for the whole run. Workers
label texts without history; the parent then applies the repeat history in file order, so repeats
across chunks are the same for any number of jobs.
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from . import io
from .errors import CxTextError, InputError
from .mask import mask_text

__all__ = ["apply_history", "label_file", "label_frame", "mark_repeated_headers", "masked_value", "predict_texts"]

DEFAULT_CHUNK_SIZE = 20_000
INPUT_SUFFIX = "_input"  # a user column named like a label column is kept as e.g. "group_input"
EVIDENCE = "evidence"  # the column `explain=True` adds

_MODEL = None  # the model of this worker process, loaded once by _init_worker


def _label_columns() -> list[str]:
    from .classify import LABEL_COLUMNS

    return LABEL_COLUMNS


def _load(model):
    """A loaded model from a model object, a model directory or None (the default model)."""
    if model is None or isinstance(model, (str, os.PathLike)):
        from .classify import load_model

        return load_model(model)
    return model


def _failed_row(reason: str) -> dict:
    return {"group": "", "group_name": "", "topics": "", "topic_names": "", "is_general": False,
            "is_repeat": False, "confidence": 0.0, "needs_review": True, "status": f"error: {reason}"}


REPEATED_HEADER = "repeated header"


def _repeated_headers(chunk: pd.DataFrame) -> np.ndarray:
    """Rows that are the header line again (exports pasted one after another): each filled cell holds its own
    column's name, and at least two do."""
    same = np.zeros(len(chunk), dtype=int)
    other = np.zeros(len(chunk), dtype=bool)
    for name, series in chunk.items():
        text = series.astype("string").str.strip().fillna("")
        same += (text == str(name).strip()).to_numpy(dtype=bool)
        other |= ((text != "") & (text != str(name).strip())).to_numpy(dtype=bool)
    return (same >= 2) & ~other


def mark_repeated_headers(chunk: pd.DataFrame, labels: pd.DataFrame) -> None:
    """A repeated header line is kept as a row, with no labels and a status saying what it is."""
    header = _repeated_headers(chunk) if len(chunk.columns) >= 2 else np.zeros(len(chunk), dtype=bool)
    if header.any():
        for column, value in _failed_row("").items():
            labels.loc[header, column] = value
        labels.loc[header, "needs_review"] = False
        labels.loc[header, "status"] = REPEATED_HEADER


def predict_texts(model, texts: list, explain: bool = False) -> pd.DataFrame:
    """model.predict, but a chunk that raises is retried row by row and a failing row is marked, not lost;
    with `explain`, an `evidence` column names the words behind each row's labels."""
    columns = predict_columns(model, texts)
    labels = pd.DataFrame(columns, columns=_label_columns())
    if explain:
        labels[EVIDENCE] = _evidence(model, texts, columns)
    return labels


def _evidence(model, texts: list, columns: dict) -> list[str]:
    """`cxtext.attribution.evidence`; a text whose explanation fails says so, and keeps its labels."""
    from .attribution import evidence

    try:
        return evidence(model, texts, labels=columns)
    except Exception:  # noqa: BLE001 - an explanation is an aid: its failure must not cost the labels
        cells = []
        for k, text in enumerate(texts):
            try:
                cells += evidence(model, [text], labels={key: [v[k]] for key, v in columns.items()})
            except Exception as exc:  # noqa: BLE001
                cells.append(f"не удалось объяснить: {type(exc).__name__}")
        return cells


def predict_columns(model, texts: list) -> dict[str, list]:
    """`predict_texts` as plain lists per column (what the service answers from)."""
    try:
        return _model_columns(model, texts)
    except Exception:  # the model promises not to raise; if it does, keep every other row
        rows = []
        for text in texts:
            try:
                rows.append({k: v[0] for k, v in _model_columns(model, [text]).items()})
            except Exception as exc:  # noqa: BLE001 - the reason goes into the row's status
                rows.append(_failed_row(type(exc).__name__))
        return {column: [row[column] for row in rows] for column in _label_columns()}


def _model_columns(model, texts: list) -> dict[str, list]:
    """model.predict_columns, or the columns of model.predict for any object with just `predict`."""
    if hasattr(model, "predict_columns"):
        return model.predict_columns(texts)
    frame = model.predict(texts)
    return dict(zip(frame.columns, frame.to_numpy(object).T.tolist()))


def _init_worker(model_ref) -> None:
    global _MODEL
    _MODEL = _load(model_ref)


def _predict_in_worker(texts: list, explain: bool) -> pd.DataFrame:
    return predict_texts(_MODEL, texts, explain)


def _labelled_chunks(chunks: Iterable[pd.DataFrame], text_col: str, model, model_ref, jobs: int,
                     explain: bool = False) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(chunk, labels) pairs in input order; at most 2 chunks per worker in flight, so memory stays flat."""
    if jobs <= 1:
        for chunk in chunks:
            yield chunk, predict_texts(model, chunk[text_col].tolist(), explain)
        return
    # fork (Linux): workers inherit the loaded model and warm lemma cache, nothing is pickled or reloaded
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method), initializer=_init_worker,
                               initargs=(model if method == "fork" else model_ref,))
    pending: deque = deque()
    try:
        for chunk in chunks:
            pending.append((chunk, pool.submit(_predict_in_worker, chunk[text_col].tolist(), explain)))
            if len(pending) >= 2 * jobs:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    except BrokenProcessPool as exc:
        raise CxTextError(
            "a worker process stopped unexpectedly (killed, out of memory, or it could not start); "
            "no output was written. Run again with fewer --jobs or a smaller chunk size"
        ) from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _renames(columns, labels) -> dict[str, str]:
    """A user column named like a label column -> NAME_input (NAME_input_2, ... when that is taken too)."""
    names = {str(c) for c in columns}
    taken = names | set(labels)
    renames = {}
    for col in labels:
        if col in names:
            new, k = f"{col}{INPUT_SUFFIX}", 2
            while new in taken:
                new, k = f"{col}{INPUT_SUFFIX}_{k}", k + 1
            taken.add(new)
            renames[col] = new
    return renames


def label_frame(frame: pd.DataFrame, labels: pd.DataFrame, masked_col: str | None = None) -> pd.DataFrame:
    """The input rows with the label columns appended (a clashing user column becomes NAME_input), and the
    personal data of the `masked_col` column (the text) masked: the output is stored, so it must not keep
    the cards and phones the labels were made without."""
    clash = _renames(frame.columns, labels.columns)
    out = frame.rename(columns=clash) if clash else frame.copy()
    if masked_col is not None:
        out[clash.get(masked_col, masked_col)] = [masked_value(v) for v in frame[masked_col]]
    for col in labels.columns:
        out[col] = labels[col].to_numpy()
    return out


def masked_value(value):
    """A cell with its personal data masked: a text (UTF-8 bytes become text), or the texts inside a list of
    turns; else as it is."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, (bytes, bytearray)):  # a Parquet text column stored as binary is read as UTF-8 too
        try:
            return mask_text(bytes(value).decode("utf-8"))
        except UnicodeDecodeError:
            return value
    if isinstance(value, dict):
        return {k: masked_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [masked_value(v) for v in value]
    return value


def _check_paths(input, output) -> tuple[Path, Path]:
    src, dst = Path(input), Path(output)
    io._kind(dst, "output")
    if not src.exists():
        raise InputError(f"input file {src} not found; check the path (current folder: {Path.cwd()})")
    if dst.exists() and dst.resolve() == src.resolve():
        raise InputError(f"output {dst} is the input file; write the labels to another file")
    if dst.is_dir():
        raise InputError(f"output {dst} is a folder; give a file name, such as {dst / ('labelled' + dst.suffix)}")
    return src, dst


def label_file(input, output, *, text_col: str, id_col: str | None = None, customer_col: str | None = None,
               time_col: str | None = None, model=None, jobs: int = 1, chunk_size: int = DEFAULT_CHUNK_SIZE,
               quiet: bool = False, engine: str = "local", encoding: str | None = None, bom: bool | None = None,
               sep: str | None = None, input_encoding: str | None = None, input_sep: str | None = None,
               sheet: str | None = None, keep_raw_text: bool = False, explain: bool = False) -> dict:
    """Label every row of a CSV/.xlsx/.parquet file into `output` (format by extension); returns a summary.

    The text column is written with its personal data masked, as every other step sees it, unless
    `keep_raw_text` (for an output that stays where the raw data already is). `explain` adds a column
    `evidence` with the words behind each row's group and topics (see `cxtext.attribution`).
    `model` is a loaded model, a model directory or None (the default model). `customer_col` and
    `time_col` together find repeats from contact history. A CSV input's encoding and delimiter are
    detected unless `input_encoding`/`input_sep` say them; an .xlsx is read from `sheet` (default: the
    first). CSV output keeps the input's delimiter and
    encoding unless `sep`/`encoding` (e.g. "cp1251") say otherwise; `bom=True` adds a UTF-8 BOM for Excel.
    """
    if engine == "spark":
        from .spark import label_file as spark_label_file

        ignored = [name for name, value in (("jobs", int(jobs) != 1), ("sheet", sheet), ("output encoding", encoding),
                                            ("output delimiter", sep), ("bom", bom),
                                            ("explain", explain)) if value]
        if ignored:
            raise InputError(f"the Spark engine does not take {', '.join(ignored)} (it writes Parquet and sets its "
                             "own parallelism); drop that option")
        return spark_label_file(input, output, text_col=text_col, id_col=id_col, customer_col=customer_col,
                                time_col=time_col, model_path=model, quiet=quiet, encoding=input_encoding,
                                sep=input_sep, keep_raw_text=keep_raw_text)
    if engine != "local":
        raise InputError(f"engine '{engine}' is unknown; use 'local' or 'spark'")
    if (customer_col is None) != (time_col is None):
        raise InputError("repeats from history need both a customer column and a time column; "
                         "pass both --customer-col and --time-col, or neither")
    if int(jobs) < 1 or int(chunk_size) < 1:
        raise InputError(f"jobs and chunk_size must be at least 1, got jobs={jobs}, chunk_size={chunk_size}")
    src, dst = _check_paths(input, output)
    _check_options(src, dst, input_encoding, input_sep, sheet, encoding, sep, bom)
    started = time.perf_counter()
    options = _output_options(src, dst, encoding, bom, sep, input_encoding, input_sep)
    chunks, (text_col, id_col, customer_col, time_col) = _checked(
        io.iter_table(src, chunk_size, encoding=input_encoding, sep=input_sep, sheet=sheet, text_col=text_col), src,
        sheet, text_col, id_col, customer_col, time_col)
    loaded = _load(model)
    # workers load a model directory themselves; a model object is pickled once per worker
    model_ref = model if model is None or isinstance(model, (str, os.PathLike)) else loaded
    history = loaded.new_history() if customer_col else None
    statuses: Counter = Counter()
    failed_ids: list[str] = []
    renamed: dict[str, str] = {}
    titles: list[str] = []
    masked = 0
    bar = _progress(src, quiet)
    try:
        with io.open_writer(dst, **options) as writer:
            for chunk, labels in _labelled_chunks(chunks, text_col, loaded, model_ref, int(jobs), explain):
                mark_repeated_headers(chunk, labels)
                if history is not None:
                    apply_history(labels, history, chunk[customer_col].tolist(), chunk[time_col].tolist())
                out = label_frame(chunk, labels, None if keep_raw_text else text_col)
                clash = _renames(chunk.columns, labels.columns)
                if not keep_raw_text:
                    masked += sum((a.decode() if isinstance(a, (bytes, bytearray)) else a) != b
                                  for a, b in zip(chunk[text_col], out[clash.get(text_col, text_col)])
                                  if isinstance(b, str))
                renamed.update(clash)
                titles = chunk.attrs.get("title_rows", titles)
                renamed.update({f"{old} (column {chunk.columns.get_loc(new) + 1})": new for new, old
                                in chunk.attrs.get("repeated_columns", {}).items()})
                writer.write(out)
                counts = labels["status"].value_counts()
                statuses.update({str(k): int(v) for k, v in counts.items()})
                if id_col is not None and len(failed_ids) < 20:
                    bad = labels["status"].astype(str).str.startswith("error")
                    failed_ids += chunk.loc[bad.to_numpy(), id_col].astype(str).tolist()[:20 - len(failed_ids)]
                bar.update(len(chunk))
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    rows = writer.info["rows"]
    summary = {"rows": rows, "statuses": dict(statuses), "seconds": round(seconds, 3),
               "rows_per_s": round(rows / seconds, 1) if seconds > 0 else None,
               "output": str(dst), "input": str(src), "jobs": int(jobs), "engine": "local"}
    summary.update({k: v for k, v in writer.info.items() if k not in summary and k != "rows"})
    if renamed:
        summary["renamed_columns"] = renamed
    if titles:
        summary["title_rows_skipped"] = titles
    summary["text_masked_rows"] = None if keep_raw_text else masked  # None: written raw, as asked
    if history is not None and history.unread_:
        # rows left out of the history still get repeats from their text; say how many, and why
        summary["rows_without_history"] = dict(history.unread_)
    if failed_ids:
        summary["failed_ids"] = failed_ids
    return summary


def apply_history(labels: pd.DataFrame, history, customer_ids: list, times: list) -> None:
    """Repeats from contact history, in file order (the same rule model.predict applies with a history)."""
    topics = [t.split(";") if isinstance(t, str) and t else [] for t in labels["topics"]]
    from_history = history.mark(customer_ids, times, topics)
    labels["is_repeat"] = [bool(a) or b for a, b in zip(labels["is_repeat"], from_history)]


def _checked(chunks: Iterator[pd.DataFrame], src: Path, sheet: str | None, text_col, id_col, customer_col,
             time_col) -> tuple[Iterator[pd.DataFrame], tuple]:
    """Chunks, with the asked-for columns checked now, on the first one (before any model is loaded), and the
    columns found for them (" Text " for "text": see io.match_columns)."""
    first = next(chunks, None)
    if first is None:
        raise InputError(f"input file {src} has no header or rows; export the data again")
    names = io.match_columns(first.columns, {"text-col": text_col, "id-col": id_col, "customer-col": customer_col,
                                             "time-col": time_col})
    io.check_columns(first.columns, names, src, sheet)
    repeated = first.attrs.get("repeated_columns", {})
    for option, name in names.items():
        if name is not None and name in repeated.values():
            raise InputError(f"input file {src} has more than one column named '{name}', so --{option} {name} "
                             "could mean either; rename one of them in the file and pass the one you mean")
    return itertools.chain([first], chunks), tuple(names.values())


def _check_options(src: Path, dst: Path, input_encoding, input_sep, sheet, encoding, sep, bom) -> None:
    """Options that do not apply to these files are refused, not silently ignored."""
    csv_in, csv_out = src.suffix.lower() in io.CSV_SUFFIXES, dst.suffix.lower() in io.CSV_SUFFIXES
    for given, applies, what in ((input_encoding is not None or input_sep is not None, csv_in,
                                  "the input's encoding and delimiter apply to a CSV input"),
                                 (sheet is not None, src.suffix.lower() == ".xlsx", "a sheet applies to an .xlsx input"),
                                 (encoding is not None or sep is not None or bool(bom), csv_out,
                                  "the output's encoding, delimiter and BOM apply to a CSV output")):
        if given and not applies:
            raise InputError(f"{what}; {src.name} -> {dst.name}: drop that option")


def _output_options(src: Path, dst: Path, encoding, bom, sep, input_encoding, input_sep) -> dict:
    if dst.suffix.lower() not in io.CSV_SUFFIXES:
        return {}
    found = io.sniff_csv(src, input_encoding, input_sep) if src.suffix.lower() in io.CSV_SUFFIXES else None
    if encoding is None:  # the input's, when it is a byte encoding that holds the labels' Russian names
        encoding = "utf-8" if found is None or found.encoding.startswith("utf") else found.encoding
        try:
            io.checked_encoding(encoding, output=True)
        except InputError:
            encoding = "utf-8"
    if bom is None:  # a BOM in, a BOM out; UTF-16 (Excel's "Unicode text") comes out as UTF-8 that Excel reads
        bom = found is not None and (found.encoding == "utf-8-sig" or found.encoding.startswith("utf-16"))
    if sep is None:
        sep = "\t" if dst.suffix.lower() == ".tsv" else (found.sep if found else ",")
    return {"encoding": encoding, "bom": bom, "sep": sep}


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(src: Path, quiet: bool):
    """A tqdm bar with rows/s and ETA on a terminal; nothing in scripts or with quiet=True."""
    if quiet or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=io.count_rows(src), unit=" rows", unit_scale=True, file=sys.stderr,
                dynamic_ncols=True, desc="labelling")
