"""The labelling of `cxtext label` as a Spark job: `label(df, text_col)` adds the label columns.

Rows are labelled with `mapInPandas`, a whole Arrow batch per `model.predict` call. The model directory
is shipped once with `SparkContext.addFile` and loaded once per executor Python process (cached in
`_MODELS`; Spark reuses its Python workers), never per row. Repeats from contact history are found per
customer in time order (`groupBy(customer).applyInPandas`), the rule `RepeatHistory` applies to a
time-sorted file.
"""
from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

import pandas as pd

from .errors import InputError

__all__ = ["label", "label_file"]

_MODELS: dict = {}  # model key -> loaded model, one per executor Python process
_ROW = "__cxtext_row"
_CUSTOMER = "__cxtext_customer"  # the customer id as history compares it
_LABEL_TYPES = {"group": "string", "group_name": "string", "topics": "string", "topic_names": "string",
                "is_general": "boolean", "is_repeat": "boolean", "confidence": "double",
                "needs_review": "boolean", "status": "string"}


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise InputError("engine 'spark' needs pyspark: pip install 'cxtext[spark]' (and Java 17+)") from exc


def _model(key: str | None):
    """The model for `key` in this process: None = the default model, else a file shipped by addFile."""
    if key not in _MODELS:
        from .classify import load_model

        if key is None:
            path = None
        else:
            from pyspark import SparkFiles

            path = SparkFiles.get(key)
        _MODELS[key] = load_model(path)
    return _MODELS[key]


def _ship(spark, model_path) -> str | None:
    """Send a model directory (local or a cluster URI) to every executor once; returns its SparkFiles name."""
    if model_path is None:
        return None
    path = str(model_path)
    if "://" not in path:
        local = Path(path)
        if not (local / "model.json").exists():
            raise InputError(f"no cxtext model in {local}: expected model.json and model.npz there; "
                             "pass the directory written by `cxtext train`")
        path = str(local.resolve())
    name = path.rstrip("/").rsplit("/", 1)[-1]
    added = {Path(p).name for p in spark.sparkContext.listFiles} if hasattr(spark.sparkContext, "listFiles") else set()
    if name not in added:
        spark.sparkContext.addFile(path, recursive=True)
    return name


def _label_batches(batches, *, text_col: str, key: str | None, mask: bool = True):
    from .batch import label_frame, mark_repeated_headers, predict_texts

    model = _model(key)
    for frame in batches:
        labels = predict_texts(model, frame[text_col].tolist())
        mark_repeated_headers(frame.drop(columns=[c for c in (_ROW, _CUSTOMER) if c in frame.columns]), labels)
        yield label_frame(frame, labels, text_col if mask else None)


def _repeats_of_customer(frame: pd.DataFrame, *, customer_col: str, time_col: str, window_days: int
                         ) -> pd.DataFrame:
    from .batch import apply_history
    from .repeats import RepeatHistory

    apply_history(frame, RepeatHistory(window_days=window_days), frame[customer_col].tolist(),
                   frame[time_col].tolist())
    return frame


def _schema(df, renamed: dict[str, str]):
    from pyspark.sql.types import StructField, StructType, _parse_datatype_string

    fields = [StructField(renamed.get(f.name, f.name), f.dataType, f.nullable) for f in df.schema.fields]
    fields += [StructField(name, _parse_datatype_string(kind), True) for name, kind in _LABEL_TYPES.items()]
    return StructType(fields)


def label(df, text_col: str, *, id_col: str | None = None, customer_col: str | None = None,
          time_col: str | None = None, model_path=None, keep_raw_text: bool = False):
    """A Spark DataFrame: every row and column of `df` plus the label columns of `cxtext label`, the text
    column's personal data masked unless `keep_raw_text`.

    `model_path`: None for the default model (cxtext installed on the executors), else a model directory
    on the driver or a cluster URI (hdfs://, s3a://), shipped once per executor.
    """
    from pyspark.sql import functions as F

    from . import io

    names = io.match_columns(df.columns, {"text-col": text_col, "id-col": id_col, "customer-col": customer_col,
                                          "time-col": time_col})  # " Text " for text, as the local engine finds it
    io.check_columns(df.columns, names)
    text_col, id_col, customer_col, time_col = names.values()
    if (customer_col is None) != (time_col is None):
        raise InputError("repeats from history need both a customer column and a time column; pass both or neither")
    spark = df.sparkSession
    key = _ship(spark, model_path)
    renamed = {c: f"{c}_input" for c in _LABEL_TYPES if c in df.columns}
    labeller = functools.partial(_label_batches, text_col=text_col, key=key, mask=not keep_raw_text)
    if customer_col is None:
        return df.mapInPandas(labeller, _schema(df, renamed)).drop(_ROW)
    window = _model(key).taxonomy_.repeat_window_days  # on the driver; SparkFiles serves it here too
    numbered = df if _ROW in df.columns else df.withColumn(_ROW, F.monotonically_increasing_id())
    labelled = numbered.mapInPandas(labeller, _schema(numbered, renamed))
    # one customer's contacts together, by the id as the local engine compares it: "42" and " 42 " are one
    keyed = labelled.withColumn(_CUSTOMER, F.trim(F.col(customer_col).cast("string")))
    has_customer = F.col(_CUSTOMER).isNotNull() & (F.col(_CUSTOMER) != "")
    marked = keyed.filter(has_customer).groupBy(_CUSTOMER).applyInPandas(
        functools.partial(_repeats_of_customer, customer_col=customer_col, time_col=time_col, window_days=window),
        keyed.schema)
    together = marked.unionByName(keyed.filter(~has_customer | F.col(_CUSTOMER).isNull()))
    return together.orderBy(_ROW).drop(_ROW, _CUSTOMER)


def _unquoted(df):
    """CSV cells without the quote cxtext writes before a cell Excel would run ("'=СУММ(A1)" reads "=СУММ(A1)"),
    as the local engine reads them (io._restored)."""
    from pyspark.sql import functions as F

    from .io import _FORMULA_START

    pattern = "^'(?='*" + _FORMULA_START.replace(r"\Z", r"\z") + ")"  # Java's \z is Python's \Z
    return df.select([F.regexp_replace(F.col(f"`{c}`"), pattern, "").alias(c) if t == "string" else F.col(f"`{c}`")
                      for c, t in df.dtypes])


def _spread(df):
    """A CSV read with multiLine cannot be split, so each file is one partition and one core would label it:
    spread its rows over the cluster's cores in contiguous, ordered ranges, so that the output's parts, read
    in order, hold the rows in input order. The rows are numbered first (`_ROW`, which `label` keeps to put
    repeats from history back in order): a single file reads the same on every pass, so the numbers agree
    however often Spark recomputes them."""
    from pyspark.sql import functions as F

    cores = df.sparkSession.sparkContext.defaultParallelism
    if df.rdd.getNumPartitions() >= cores:
        return df
    numbered = df.withColumn(_ROW, F.monotonically_increasing_id())
    return numbered.repartitionByRange(cores, _ROW).sortWithinPartitions(_ROW)


def _session():
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # a local session needs its Python workers to be this interpreter (with pandas, pyarrow, cxtext)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("cxtext-label")
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # set by spark-submit, which brings its own master
        builder = builder.master("local[*]")
    return builder.getOrCreate()


def _check_output(output: str, mode: str) -> None:
    """Spark writes a Parquet folder: an output named like another format, or one that exists (unless
    mode says what to do with it), is refused before any work."""
    if output.lower().rstrip("/").endswith((".csv", ".tsv", ".txt", ".xlsx")):
        raise InputError(f"output {output}: the Spark engine writes a folder of Parquet files, not "
                         f"{Path(output).suffix}; name the output folder without it (e.g. labelled_parquet), "
                         "or use the local engine for a single file")
    if mode == "errorifexists" and "://" not in output and Path(output).exists():
        raise InputError(f"output {output} already exists; remove it or name another folder")


def label_file(input, output, *, text_col: str, id_col: str | None = None, customer_col: str | None = None,
               time_col: str | None = None, model_path=None, quiet: bool = False, spark=None,
               mode: str = "errorifexists", encoding: str | None = None, sep: str | None = None,
               keep_raw_text: bool = False) -> dict:
    """Label a Parquet (or CSV) file or folder, local or on a cluster path, into a Parquet folder.

    Spark writes `output` through its commit protocol: parts appear only when the job succeeds, and
    `_SUCCESS` marks a complete output. Returns the same summary as `cxtext.batch.label_file`.
    """
    _require_pyspark()
    started = time.perf_counter()
    src, dst = str(input), str(output)
    if "://" not in src and not Path(src).exists():
        raise InputError(f"input {src} not found; check the path (current folder: {Path.cwd()})")
    _check_output(dst, mode)
    if "://" not in src and Path(src).is_dir() and not src.lower().rstrip("/").endswith((".csv", ".tsv", ".txt")):
        if any(Path(src).glob("*.csv")) and not any(Path(src).glob("*.parquet")):
            raise InputError(f"input {src} is a folder of CSV files; the Spark engine reads a folder as Parquet. "
                             "Label each CSV file (its rows keep their order), or convert the folder to Parquet")
    if "://" not in src and Path(src).is_file():  # the columns, before a Spark session is started
        from . import io

        columns = next(io.iter_table(src, 1, encoding=encoding, sep=sep)).columns
        names = io.match_columns(columns, {"text-col": text_col, "id-col": id_col, "customer-col": customer_col,
                                           "time-col": time_col})
        io.check_columns(columns, names, src)
    spark = spark or _session()
    if src.lower().rstrip("/").endswith((".csv", ".tsv", ".txt")):
        if "://" not in src and Path(src).is_file():
            from .io import sniff_csv

            found = sniff_csv(src, encoding, sep)
            if found.title_rows:
                raise InputError(f"input {src} has a title above its header (row 1), which Spark would read as the "
                                 "header; delete the title row, or label it with the local engine, which skips it")
            sep, encoding = found.sep, found.encoding.replace("utf-8-sig", "utf-8")
        else:  # a cluster path is not sniffed
            from .io import checked_encoding, checked_sep

            sep, encoding = checked_sep(sep) or ",", checked_encoding(encoding) or "utf-8"
        if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            # Spark 4 reads only UTF/ASCII/latin-1 CSV unless Java's other charsets are let in (cp1251)
            spark.conf.set("spark.sql.legacy.javaCharsets", "true")
        df = _unquoted(_spread(spark.read.csv(src, header=True, sep=sep, encoding=encoding, inferSchema=False,
                                              multiLine=True, escape='"')))
    else:
        df = spark.read.parquet(src)
    out = label(df, text_col, id_col=id_col, customer_col=customer_col, time_col=time_col, model_path=model_path,
                keep_raw_text=keep_raw_text)
    out.write.mode(mode).parquet(str(output))
    written = spark.read.parquet(str(output))
    statuses = {row["status"]: int(row["count"]) for row in written.groupBy("status").count().collect()}
    rows = sum(statuses.values())
    seconds = time.perf_counter() - started
    return {"rows": rows, "statuses": statuses, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds, 1) if seconds > 0 else None, "output": str(output),
            "input": src, "engine": "spark", "format": "parquet", "text_masked": not keep_raw_text}
