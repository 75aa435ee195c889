"""Spark gives the labels `cxtext label` gives, on the same rows (local[2], small data)."""
from __future__ import annotations

import os
import shutil
import sys

import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'cxtext[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17+, and no java is on PATH (nor JAVA_HOME set)", allow_module_level=True)

from cxtext import io  # noqa: E402
from cxtext.batch import label_file  # noqa: E402
from cxtext.classify import LABEL_COLUMNS, load_model  # noqa: E402

pytestmark = pytest.mark.slow

TEXTS = [
    "не могу дозвониться до колл-центра уже час",
    "верните деньги за смс-информирование, я его не подключал",
    "как поменять тариф на Премиум?",
    "",
    "Спасибо, всё быстро решили 👍",
    "приложение вылетает после обновления",
    "снова час жду ответа оператора на линии, не дозвониться",
    "заблокируйте карту, потерял",
    "списали дважды с карты 4276 3800 1234 5679, верните",
]


@pytest.fixture(scope="session")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers need this venv's pandas/pyarrow
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("cxtext-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.memory", "1g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def model_path():
    # the default model, passed as a directory so Spark ships it to the executors with addFile
    from cxtext.persist import default_model_dir

    return str(default_model_dir())


@pytest.fixture(scope="session")
def rows() -> pd.DataFrame:
    n = 40
    return pd.DataFrame({
        "id": [f"{i:04d}" for i in range(n)],
        "text": [TEXTS[i % len(TEXTS)] for i in range(n)],
        "customer": [f"c{i % 5}" for i in range(n)],
        "created": [f"2024-03-{1 + i // 4:02d} 10:00" for i in range(n)],
    })


def _batch(tmp_path, rows, model_path, **columns) -> pd.DataFrame:
    io.write_table(rows, tmp_path / "in.parquet")
    label_file(tmp_path / "in.parquet", tmp_path / "batch.parquet", text_col="text",
               model=load_model(model_path), quiet=True, **columns)
    return pd.read_parquet(tmp_path / "batch.parquet")


def test_spark_labels_equal_batch_labels(spark, tmp_path, rows, model_path):
    from cxtext.spark import label

    expected = _batch(tmp_path, rows, model_path)
    got = label(spark.createDataFrame(rows).repartition(3), "text", id_col="id", model_path=model_path).toPandas()
    assert list(got.columns) == list(rows.columns) + LABEL_COLUMNS
    got = got.sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got[["id", "text"] + LABEL_COLUMNS], expected[["id", "text"] + LABEL_COLUMNS],
                                  check_dtype=False)
    assert got["text"].str.contains("<CARD>").any() and not got["text"].str.contains("4276").any()


def test_spark_repeats_and_order_match_batch(spark, tmp_path, rows, model_path):
    from cxtext.spark import label

    expected = _batch(tmp_path, rows, model_path, customer_col="customer", time_col="created")
    assert expected["is_repeat"].any()
    got = label(spark.createDataFrame(rows), "text", customer_col="customer", time_col="created",
                model_path=model_path).toPandas()
    assert got["id"].tolist() == rows["id"].tolist()  # input order is kept
    assert got["is_repeat"].tolist() == expected["is_repeat"].tolist()


def test_label_file_with_the_spark_engine(spark, tmp_path, rows, model_path):
    expected = _batch(tmp_path, rows, model_path)
    summary = label_file(tmp_path / "in.parquet", tmp_path / "spark_out", text_col="text", model=model_path,
                         engine="spark")
    assert summary["rows"] == len(rows) and summary["engine"] == "spark"
    assert (tmp_path / "spark_out" / "_SUCCESS").exists()
    got = pd.read_parquet(tmp_path / "spark_out").sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got[LABEL_COLUMNS], expected[LABEL_COLUMNS], check_dtype=False)


def test_a_cp1251_csv_with_semicolons_is_read_by_spark(spark, tmp_path, model_path):
    texts = ["курьер опоздал на час", "спасибо, всё отлично"]
    lines = "id;text\n" + "".join(f"{i};{t}\n" for i, t in enumerate(texts))
    (tmp_path / "in.csv").write_bytes(lines.encode("cp1251"))
    summary = label_file(tmp_path / "in.csv", tmp_path / "spark_out", text_col="text", id_col="id",
                         model=model_path, engine="spark")
    got = pd.read_parquet(tmp_path / "spark_out").sort_values("id")
    assert summary["rows"] == 2 and got["text"].tolist() == texts and (got["status"] == "ok").all()


def test_missing_column_is_named(spark):
    from cxtext.errors import InputError
    from cxtext.spark import label

    df = spark.createDataFrame(pd.DataFrame({"id": ["1"], "comment": ["ok"]}))
    with pytest.raises(InputError, match="column 'text' not found; columns are: id, comment"):
        label(df, "text")


def test_spark_engine_refuses_what_it_cannot_do_before_starting(tmp_path, rows):
    from cxtext.errors import InputError

    io.write_table(rows, tmp_path / "in.csv")
    with pytest.raises(InputError, match="writes a folder of Parquet files, not .csv"):
        label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", engine="spark")
    (tmp_path / "done").mkdir()
    with pytest.raises(InputError, match="already exists; remove it or name another folder"):
        label_file(tmp_path / "in.csv", tmp_path / "done", text_col="text", engine="spark")
    with pytest.raises(InputError, match="column 'comment' not found in .*in.csv; columns are: id, text"):
        label_file(tmp_path / "in.csv", tmp_path / "out", text_col="comment", engine="spark")
    with pytest.raises(InputError, match="does not take jobs, output delimiter"):
        label_file(tmp_path / "in.csv", tmp_path / "out", text_col="text", engine="spark", jobs=2, sep=";")
    (tmp_path / "csvs").mkdir()
    io.write_table(rows, tmp_path / "csvs" / "a.csv")
    with pytest.raises(InputError, match="is a folder of CSV files; the Spark engine reads a folder as Parquet"):
        label_file(tmp_path / "csvs", tmp_path / "out", text_col="text", engine="spark")
    with pytest.raises(InputError, match="does not take explain"):
        label_file(tmp_path / "in.csv", tmp_path / "out", text_col="text", engine="spark", explain=True)


def test_a_multiline_csv_is_labelled_on_every_core_and_keeps_its_order(spark, tmp_path, model_path):
    n = 400
    frame = pd.DataFrame({"id": [f"{i:04d}" for i in range(n)],
                          "text": [f"{TEXTS[i % len(TEXTS)]}\nстрока {i}" for i in range(n)]})  # cells with newlines
    io.write_table(frame, tmp_path / "in.csv")
    summary = label_file(tmp_path / "in.csv", tmp_path / "spark_out", text_col="text", id_col="id",
                         model=model_path, engine="spark")
    parts = sorted((tmp_path / "spark_out").glob("part-*.parquet"))
    assert summary["rows"] == n and len(parts) == spark.sparkContext.defaultParallelism > 1
    got = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)  # the parts in name order
    assert got["id"].tolist() == frame["id"].tolist()
    assert all(t.endswith(f"\nстрока {i}") for i, t in enumerate(got["text"]))  # each cell whole, on its row

    n = 2000  # enough rows for range partitioning to sample them differently on each pass
    frame = pd.DataFrame({"id": [f"{i:04d}" for i in range(n)], "text": [TEXTS[i % len(TEXTS)] for i in range(n)],
                          "customer": [None if i % 5 == 0 else f"c{i % 7}" for i in range(n)],
                          "created": [f"2024-03-{1 + i // 100:02d} 10:00" for i in range(n)]})
    io.write_table(frame, tmp_path / "history.csv")
    label_file(tmp_path / "history.csv", tmp_path / "history_out", text_col="text", id_col="id",
               customer_col="customer", time_col="created", model=model_path, engine="spark")
    got = pd.concat([pd.read_parquet(p) for p in sorted((tmp_path / "history_out").glob("part-*.parquet"))])
    assert got["id"].tolist() == frame["id"].tolist() and got["is_repeat"].any()
    assert "__cxtext_row" not in got.columns


def test_spark_matches_the_local_engine_on_spaced_ids_quoted_formulas_and_loose_column_names(spark, tmp_path,
                                                                                              model_path):
    text = "не могу дозвониться до оператора горячей линии"
    frame = pd.DataFrame({"id": ["1", "2", "3", "4"], " Text ": [text, text, "'=СУММ(A1) не работает", text],
                          "client": ["42", " 42 ", "7", "c7 "], "created": ["2024-05-01", "2024-05-03", "2024-05-04",
                                                                           "2024-05-05"]})
    io.write_table(frame, tmp_path / "in.csv")  # the local writer quotes "'=СУММ" once more; reading drops one
    local = label_file(tmp_path / "in.csv", tmp_path / "local.parquet", text_col="text", id_col="id",
                       customer_col="client", time_col="created", model=load_model(model_path), quiet=True)
    label_file(tmp_path / "in.csv", tmp_path / "spark_out", text_col="text", id_col="id", customer_col="client",
               time_col="created", model=model_path, engine="spark")
    expected, got = pd.read_parquet(tmp_path / "local.parquet"), pd.read_parquet(tmp_path / "spark_out")
    assert local["rows"] == 4 and got["id"].tolist() == ["1", "2", "3", "4"]
    assert got["is_repeat"].tolist() == expected["is_repeat"].tolist() == [False, True, False, False]
    assert got[" Text "].tolist() == expected[" Text "].tolist() and got[" Text "][2] == "'=СУММ(A1) не работает"


def test_spark_marks_a_header_line_pasted_again_as_the_local_engine_does(spark, tmp_path, model_path):
    (tmp_path / "in.csv").write_text("id,text\n1,курьер опоздал\nid,text\n2,спасибо\n", encoding="utf-8")
    label_file(tmp_path / "in.csv", tmp_path / "spark_out", text_col="text", id_col="id", model=model_path,
               engine="spark")
    got = pd.read_parquet(tmp_path / "spark_out")
    assert got["id"].tolist() == ["1", "id", "2"] and got["status"].tolist() == ["ok", "repeated header", "ok"]
