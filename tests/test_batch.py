"""`cxtext label` on files: every row and column kept in order, bad rows marked, same result for any jobs."""
from __future__ import annotations

import os

import openpyxl
import pandas as pd
import pytest

from cxtext import io
from cxtext.batch import label_file
from cxtext.classify import LABEL_COLUMNS, load_model
from cxtext.errors import CxTextError, InputError

TEXTS = [
    "не могу дозвониться до колл-центра уже час",
    "Спасибо оператору Анне, всё быстро решили 👍",
    "верните деньги за смс-информирование, я его не подключал",
    "",
    "   ",
    "как поменять тариф на Премиум?",
    "NA",
    "приложение вылетает после обновления",
    "=СУММ(A1:A9) норм",
    "заблокируйте карту, потерял",
]


@pytest.fixture(scope="session")
def model():
    return load_model()  # the default model that ships with cxtext


@pytest.fixture()
def survey():
    return pd.DataFrame({
        "id": [f"{i:05d}" for i in range(len(TEXTS))],
        "comment": TEXTS,
        "score": [str(i % 11) for i in range(len(TEXTS))],
    })


def _csv(path, frame, sep=";", encoding="cp1251"):
    path.write_bytes(frame.to_csv(index=False, sep=sep).encode(encoding, errors="replace"))
    return path


def test_cp1251_semicolon_csv_in_and_out_keeps_every_row_column_and_order(tmp_path, model, survey):
    src = _csv(tmp_path / "survey.csv", survey)
    summary = label_file(src, tmp_path / "labels.csv", text_col="comment", id_col="id", model=model, quiet=True)
    assert io.sniff_csv(tmp_path / "labels.csv").encoding == "cp1251"
    assert io.sniff_csv(tmp_path / "labels.csv").sep == ";"
    out = io.read_table(tmp_path / "labels.csv")
    assert list(out.columns) == ["id", "comment", "score"] + LABEL_COLUMNS
    assert out["id"].tolist() == survey["id"].tolist()  # "00001" stays "00001", order kept
    assert out["score"].tolist() == survey["score"].tolist()
    assert summary["rows"] == len(TEXTS) and sum(summary["statuses"].values()) == len(TEXTS)
    assert summary["output"] == str(tmp_path / "labels.csv")
    assert {"seconds", "rows_per_s"} <= set(summary)


def test_labels_equal_the_model_and_bad_rows_are_marked_not_dropped(tmp_path, model, survey):
    label_file(_csv(tmp_path / "s.csv", survey, sep=",", encoding="utf-8"), tmp_path / "o.parquet",
               text_col="comment", model=model, quiet=True)
    out = pd.read_parquet(tmp_path / "o.parquet")
    expected = model.predict(TEXTS)
    pd.testing.assert_frame_equal(out[LABEL_COLUMNS].reset_index(drop=True), expected, check_dtype=False)
    assert out.loc[3, "status"] == "empty text" and out.loc[4, "status"] == "empty text"
    assert out.loc[8, "comment"] == "=СУММ(A1:A9) норм"


def test_null_and_huge_texts_in_parquet_get_a_status(tmp_path, model):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "text": [None, "ужасно " * 50_000, "норм"]})
    frame.to_parquet(tmp_path / "in.parquet")
    summary = label_file(tmp_path / "in.parquet", tmp_path / "out.parquet", text_col="text", model=model,
                         quiet=True)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["id"].tolist() == ["a", "b", "c"]
    assert out["status"].tolist()[:2] == ["empty text", "truncated"]  # a null cell, as an empty CSV cell
    assert summary["statuses"]["truncated"] == 1


def test_xlsx_in_and_out(tmp_path, model, survey):
    io.write_table(survey, tmp_path / "in.xlsx")
    label_file(tmp_path / "in.xlsx", tmp_path / "out.xlsx", text_col="comment", model=model, quiet=True)
    out = io.read_table(tmp_path / "out.xlsx")
    assert out["id"].tolist() == survey["id"].tolist()
    assert out["comment"].tolist()[8] == "=СУММ(A1:A9) норм"
    assert list(out.columns)[-len(LABEL_COLUMNS):] == LABEL_COLUMNS


def test_xlsx_numbers_stay_numbers_so_excel_can_average_them(tmp_path, model, survey):
    io.write_table(survey.assign(score=survey["score"].astype(int)), tmp_path / "in.xlsx")
    label_file(tmp_path / "in.xlsx", tmp_path / "out.xlsx", text_col="comment", model=model, quiet=True)
    cells = list(openpyxl.load_workbook(tmp_path / "out.xlsx").active.iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in cells] == survey["score"].astype(int).tolist()
    assert [row[0] for row in cells] == survey["id"].tolist()  # "00000" keeps its zeros


def _contacts() -> pd.DataFrame:
    # customer c1 asks about reachability on day 1 and again on day 5, three chunks apart
    rows = [("c1", "2024-03-01 10:00", "не дозвониться до колл-центра, час на линии")]
    rows += [(f"x{i}", f"2024-03-0{1 + i % 3} 12:00", TEXTS[i % len(TEXTS)]) for i in range(12)]
    rows += [("c1", "2024-03-05 09:00", "снова час жду ответа оператора на линии, не дозвониться")]
    rows += [("c2", "2024-03-06 09:00", "не дозвониться до колл-центра, час на линии")]
    return pd.DataFrame(rows, columns=["customer", "created", "text"]).assign(
        id=lambda f: [f"{i:03d}" for i in range(len(f))])


@pytest.mark.parametrize("jobs", [1, 2])
def test_repeats_from_history_are_found_across_chunks_for_any_jobs(tmp_path, model, jobs):
    frame = _contacts()
    io.write_table(frame, tmp_path / "in.csv")
    label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", customer_col="customer",
               time_col="created", model=model, jobs=jobs, chunk_size=4, quiet=True)
    out = io.read_table(tmp_path / "out.csv")
    assert out["id"].tolist() == frame["id"].tolist()
    assert "reachability" in out["topics"].iloc[0] and "reachability" in out["topics"].iloc[13]
    assert out["is_repeat"].tolist()[13] == "True"  # c1's second contact, in another chunk
    assert out["is_repeat"].tolist()[14] == "False"  # c2 is someone else

    whole = model.predict(frame["text"], customer_ids=frame["customer"], times=frame["created"])
    assert out["is_repeat"].tolist() == whole["is_repeat"].astype(str).tolist()


def test_two_jobs_give_the_same_file_as_one(tmp_path, model):
    frame = pd.DataFrame({"id": [f"{i:04d}" for i in range(300)], "text": [TEXTS[i % 10] for i in range(300)]})
    io.write_table(frame, tmp_path / "in.csv")
    for jobs in (1, 2):
        label_file(tmp_path / "in.csv", tmp_path / f"out{jobs}.csv", text_col="text", model=model, jobs=jobs,
                   chunk_size=37, quiet=True)
    assert (tmp_path / "out1.csv").read_bytes() == (tmp_path / "out2.csv").read_bytes()


@pytest.mark.parametrize("user, kept, renamed", [
    ({"status": "VIP", "group": "retail"}, {"status_input": "VIP", "group_input": "retail"},
     {"group": "group_input", "status": "status_input"}),
    # relabelling a labelled file: "status" and "status_input" are both there already
    ({"status": "VIP", "status_input": "old"}, {"status_input": "old", "status_input_2": "VIP"},
     {"status": "status_input_2"}),
])
def test_user_columns_named_like_labels_are_kept(tmp_path, model, user, kept, renamed):
    frame = pd.DataFrame({"text": ["спасибо"], **{name: [value] for name, value in user.items()}})
    io.write_table(frame, tmp_path / "in.csv")
    summary = label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", model=model, quiet=True)
    out = io.read_table(tmp_path / "out.csv")
    assert {name: out.loc[0, name] for name in kept} == kept
    assert out.loc[0, "status"] == "ok"
    assert summary["renamed_columns"] == renamed


@pytest.mark.parametrize("content", [
    "id,text\n1,Плохо, работает\n2,Карта заблокирована\n",  # the first row is longer than the header
    "text\nПлохо, очень плохо\nДолго ждал\n",  # a one-column export with a comma in a text
    "id,text\n1,Плохо\n2,Долго, ждал\n",  # a later row
])
def test_a_row_longer_than_the_header_is_an_error_not_a_shifted_file(tmp_path, model, content):
    src = tmp_path / "in.csv"
    src.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match="delimiter ','.*without quotes"):
        label_file(src, tmp_path / "out.csv", text_col="text", model=model, quiet=True)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_integer_ids_with_nulls_in_parquet_stay_exact(tmp_path, model, suffix):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [9007199254740993, None, 1234567890123456789]  # not exact as floats
    pq.write_table(pa.table({"id": pa.array(ids, pa.int64()), "text": ["спасибо", "долго", "верните деньги"]}),
                   tmp_path / "in.parquet")
    label_file(tmp_path / "in.parquet", tmp_path / f"out{suffix}", text_col="text", id_col="id", model=model,
               quiet=True)
    if suffix == ".parquet":
        assert pq.read_table(tmp_path / "out.parquet").column("id").to_pylist() == ids
    else:
        assert io.read_table(tmp_path / "out.csv")["id"].tolist() == ["9007199254740993", "", "1234567890123456789"]


def test_a_utf8_file_with_one_broken_row_is_read_as_utf8_and_that_row_marked(tmp_path, model):
    texts = ["Верните деньги за подписку", "Долго ждал оператора", "Приложение вылетает", "Спасибо всё отлично"] * 8
    lines = [f"{i:05d},{t}" for i, t in enumerate(texts)]
    raw = ("id,text\n" + "\n".join(lines[:10]) + "\n").encode() + b"00099,\xff\xfe\x80\x81junk\n"
    (tmp_path / "in.csv").write_bytes(raw + ("\n".join(lines[10:]) + "\n").encode())
    summary = label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", model=model, quiet=True)
    out = io.read_table(tmp_path / "out.csv")
    assert len(out) == 33 and out["text"].iloc[0] == "Верните деньги за подписку"  # not cp1251 gibberish
    assert out.loc[10, "status"] == "not text" and summary["statuses"] == {"ok": 32, "not text": 1}


def test_a_stray_nul_byte_in_a_cell_marks_that_row_not_the_whole_file(tmp_path, model):
    raw = "id,text\n1,Долго ждал оператора\n2,при\x00ложение\n3,\"Верните деньги \x00\"\n4,Спасибо\n"
    (tmp_path / "in.csv").write_bytes(raw.encode("utf-8"))
    summary = label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", model=model, quiet=True)
    out = io.read_table(tmp_path / "out.csv")
    assert out["id"].tolist() == ["1", "2", "3", "4"]
    assert out["status"].tolist() == ["ok", "not text", "not text", "ok"] and summary["statuses"]["ok"] == 2


def test_an_output_path_that_is_a_folder_is_refused_before_any_work(tmp_path, survey):
    src = _csv(tmp_path / "s.csv", survey)
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(InputError, match="is a folder; give a file name"):
        label_file(src, tmp_path / "out.csv", text_col="comment", model="/nonexistent/model")


def test_missing_column_is_reported_before_any_work(tmp_path, survey):
    src = _csv(tmp_path / "s.csv", survey)
    with pytest.raises(InputError, match="column 'text' not found .*columns are: id, comment, score"):
        label_file(src, tmp_path / "o.csv", text_col="text", model="/nonexistent/model")
    assert not (tmp_path / "o.csv").exists()


def test_output_cannot_overwrite_the_input(tmp_path, survey):
    src = _csv(tmp_path / "s.csv", survey)
    with pytest.raises(InputError, match="is the input file"):
        label_file(src, src, text_col="comment")


class _FailsOnSomeRows:
    """A model that breaks its promise: it raises on one text (and on any batch holding it)."""

    def __init__(self, model, bad: str, error: type[BaseException] = ValueError):
        self.model, self.bad, self.error = model, bad, error

    def predict(self, texts, **kwargs):
        texts = list(texts)
        if self.bad in texts:
            raise self.error(f"cannot label {self.bad!r}")
        return self.model.predict(texts, **kwargs)

    def new_history(self):
        return self.model.new_history()


def test_a_row_the_model_cannot_label_is_kept_and_marked(tmp_path, model, survey):
    src = _csv(tmp_path / "s.csv", survey)
    summary = label_file(src, tmp_path / "o.csv", text_col="comment", id_col="id", quiet=True,
                         model=_FailsOnSomeRows(model, TEXTS[5]))
    out = io.read_table(tmp_path / "o.csv")
    assert len(out) == len(TEXTS)
    assert out.loc[5, "status"] == "error: ValueError" and out.loc[5, "needs_review"] == "True"
    assert out.loc[6, "status"] == "empty text" and out.loc[7, "status"] == "ok"  # "NA" is what exports write for nothing
    assert summary["failed_ids"] == ["00005"]


def test_a_crash_mid_run_leaves_no_output_posing_as_complete(tmp_path, model):
    frame = pd.DataFrame({"text": [TEXTS[i % 10] for i in range(40)]})
    io.write_table(frame, tmp_path / "in.csv")
    (tmp_path / "out.csv").write_text("yesterday's labels", encoding="utf-8")
    crashing = _FailsOnSomeRows(model, TEXTS[7], error=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", model=crashing, chunk_size=5,
                   quiet=True)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "yesterday's labels"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


class _KillsItsWorker(_FailsOnSomeRows):
    def predict(self, texts, **kwargs):
        if self.bad in list(texts):
            os._exit(9)  # as if the OOM killer took the worker
        return self.model.predict(texts, **kwargs)


def test_a_killed_worker_fails_the_run_cleanly(tmp_path, model):
    frame = pd.DataFrame({"text": [TEXTS[i % 10] for i in range(40)]})
    io.write_table(frame, tmp_path / "in.csv")
    with pytest.raises(CxTextError, match="worker process stopped"):
        label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", jobs=2, chunk_size=5,
                   model=_KillsItsWorker(model, TEXTS[7]), quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_a_repeated_column_name_is_reported_and_refused_where_it_is_ambiguous(tmp_path, model):
    (tmp_path / "in.csv").write_text("id,comment,comment\n1,Долго ждал,старый\n2,Спасибо,\n", encoding="utf-8")
    summary = label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="id", model=model, quiet=True)
    assert summary["renamed_columns"] == {"comment (column 3)": "comment.1"}
    assert io.read_table(tmp_path / "out.csv").columns[:3].tolist() == ["id", "comment", "comment.1"]
    with pytest.raises(InputError, match="more than one column named 'comment'"):
        label_file(tmp_path / "in.csv", tmp_path / "out2.csv", text_col="comment", model=model, quiet=True)
    assert not (tmp_path / "out2.csv").exists()


def test_rows_left_out_of_the_repeat_history_are_counted_with_the_reason(tmp_path, model):
    frame = pd.DataFrame({"cust": ["c1", "c1", "", "c2"], "when": ["2024-03-01", "вчера", "2024-03-02", ""],
                          "text": ["не дозвониться до оператора"] * 4})
    frame.to_csv(tmp_path / "in.csv", index=False)
    summary = label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", customer_col="cust",
                         time_col="when", model=model, quiet=True)
    assert summary["rows"] == 4
    assert summary["rows_without_history"] == {"time not readable": 1, "no customer id": 1, "no time": 1}


def test_xlsx_with_blank_and_mixed_cells_writes_parquet(tmp_path, model):
    pd.DataFrame({"id": [101, None, 103], "score": [10, "n/a", 7], "text": ["Долго ждал", 5, "Списали деньги"]}
                 ).to_excel(tmp_path / "in.xlsx", index=False)
    summary = label_file(tmp_path / "in.xlsx", tmp_path / "out.parquet", text_col="text", id_col="id", model=model,
                         quiet=True)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert summary["rows"] == 3 and out["id"].tolist()[::2] == [101, 103] and pd.isna(out["id"][1])
    assert out["score"].tolist() == ["10", "n/a", "7"] and out["text"].tolist() == ["Долго ждал", "5", "Списали деньги"]


def test_a_number_in_the_time_column_is_not_a_time(tmp_path, model):
    pd.DataFrame({"cust": [7, 7, 7], "t": [45413, 45500, 45600], "text": ["Не могу дозвониться до оператора"] * 3}
                 ).to_excel(tmp_path / "in.xlsx", index=False)
    summary = label_file(tmp_path / "in.xlsx", tmp_path / "out.csv", text_col="text", customer_col="cust",
                         time_col="t", model=model, quiet=True)
    assert summary["rows_without_history"] == {"time not readable": 3}
    assert not io.read_table(tmp_path / "out.csv")["is_repeat"].eq("true").any()


def test_the_written_text_has_its_personal_data_masked_unless_asked_to_keep_it(tmp_path, model):
    texts = ["списали дважды с карты 4276 3800 1234 5679, звоните +7 916 123-45-67", "курьер опоздал",
             "ответ на ivan.petrov@mail.ru так и не пришёл"]
    frame = pd.DataFrame({"id": ["1", "2", "3"], "text": texts})
    io.write_table(frame, tmp_path / "in.csv")
    summary = label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", model=model, quiet=True)
    out = io.read_table(tmp_path / "out.csv")
    assert out["text"].tolist() == ["списали дважды с карты <CARD>, звоните <PHONE>", "курьер опоздал",
                                    "ответ на <EMAIL> так и не пришёл"]
    assert out["id"].tolist() == ["1", "2", "3"] and summary["text_masked_rows"] == 2
    summary = label_file(tmp_path / "in.csv", tmp_path / "raw.csv", text_col="text", model=model, quiet=True,
                         keep_raw_text=True)
    assert io.read_table(tmp_path / "raw.csv")["text"].tolist() == texts and summary["text_masked_rows"] is None


def test_turns_in_a_parquet_cell_are_masked_each(tmp_path, model):
    turns = [[{"speaker": "client", "text": "мой номер 89161234567, перезвоните"}, {"speaker": "agent", "text": "да"}]]
    pd.DataFrame({"id": [1], "text": turns}).to_parquet(tmp_path / "in.parquet")
    label_file(tmp_path / "in.parquet", tmp_path / "out.parquet", text_col="text", model=model, quiet=True)
    cell = pd.read_parquet(tmp_path / "out.parquet")["text"].iloc[0]
    assert [t["text"] for t in cell] == ["мой номер <PHONE>, перезвоните", "да"]


def test_a_koi8r_file_is_labelled_on_its_words_and_written_back_in_koi8r(tmp_path, model, survey):
    src = _csv(tmp_path / "koi8.csv", survey.iloc[[0, 1, 2, 5, 7, 9]], encoding="koi8-r")
    summary = label_file(src, tmp_path / "out.csv", text_col="comment", model=model, quiet=True)
    assert summary["encoding"] == "koi8-r"
    out = io.read_table(tmp_path / "out.csv")
    assert out["comment"].tolist()[0] == TEXTS[0]  # not «ОЕ НПЗХ ДПЪЧПОЙФШУС...»
    assert out["topics"].tolist() == model.predict([TEXTS[i] for i in (0, 1, 2, 5, 7, 9)])["topics"].tolist()


def test_a_column_asked_for_in_another_case_or_without_its_spaces_is_found(tmp_path, model):
    (tmp_path / "in.csv").write_text("id; Text ;score\n1;Долго ждал оператора;3\n", encoding="utf-8")
    label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", id_col="ID", model=model, quiet=True)
    out = io.read_table(tmp_path / "out.csv")
    assert list(out.columns[:3]) == ["id", " Text ", "score"] and out.loc[0, "status"] == "ok"


def test_utf8_sig_output_encoding_and_formula_cells_neutralised_in_csv(tmp_path, model):
    frame = pd.DataFrame({"id": ["1", "2", "3"], "text": ["долго ждал", "=1+1", "- не работает"],
                          "note": ['=HYPERLINK("http://evil.example","жми")', "ok", "@SUM(1+1)"]})
    io.write_table(frame, tmp_path / "in.xlsx")
    summary = label_file(tmp_path / "in.xlsx", tmp_path / "out.csv", text_col="text", model=model, quiet=True,
                         encoding="utf-8-sig")
    assert summary["encoding"] == "utf-8-sig" and summary["neutralised_cells"] == 3
    data = (tmp_path / "out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\n'=1+1" not in data and "3,- не работает".encode() in data
    out = io.read_table(tmp_path / "out.csv")  # reading back drops the quotes it added
    assert out["text"].tolist() == frame["text"].tolist() and out["note"].tolist() == frame["note"].tolist()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_a_yes_no_or_date_in_the_text_column_of_a_sheet_is_not_text(tmp_path, model, suffix):
    import datetime

    book = openpyxl.Workbook()
    for row in (["id", "Комментарий "], [1, "Долго ждал оператора"], [2, True], [3, datetime.datetime(2024, 1, 1)]):
        book.active.append(row)
    book.save(tmp_path / "in.xlsx")
    summary = label_file(tmp_path / "in.xlsx", tmp_path / f"out{suffix}", text_col="комментарий", model=model,
                         quiet=True)
    assert summary["statuses"] == {"ok": 1, "not text": 2}


def test_a_header_under_group_names_is_found(tmp_path, model):
    book = openpyxl.Workbook()
    for row in (["Клиент", None, "Опрос", None], ["ID", "Дата", "Оценка", "Комментарий"],
                [1, "2024-01-01", 5, "Долго ждал оператора"]):
        book.active.append(row)
    book.active.merge_cells("A1:B1")
    book.active.merge_cells("C1:D1")
    book.save(tmp_path / "in.xlsx")
    summary = label_file(tmp_path / "in.xlsx", tmp_path / "out.csv", text_col="Комментарий", model=model, quiet=True)
    assert summary["title_rows_skipped"] == ["Клиент Опрос"] and summary["statuses"] == {"ok": 1}


def test_excels_unicode_text_comes_back_as_utf8_with_a_bom(tmp_path, model):
    pd.DataFrame({"id": ["001", "002"], "text": ["не могу дозвониться", "спасибо"]}).to_csv(
        tmp_path / "in.txt", sep="\t", index=False, encoding="utf-16")
    summary = label_file(tmp_path / "in.txt", tmp_path / "out.csv", text_col="text", id_col="id", model=model,
                         quiet=True)
    raw = (tmp_path / "out.csv").read_bytes()
    assert summary["encoding"] == "utf-8-sig" and raw.startswith(b"\xef\xbb\xbfid\ttext")
    assert io.read_table(tmp_path / "out.csv")["id"].tolist() == ["001", "002"]


def test_a_header_line_pasted_again_is_kept_and_marked_not_labelled(tmp_path, model):
    (tmp_path / "in.csv").write_text("id,text,score\n1,курьер опоздал,3\nid,text,score\n2,спасибо,10\n",
                                     encoding="utf-8")
    summary = label_file(tmp_path / "in.csv", tmp_path / "out.csv", text_col="text", id_col="id", model=model,
                         quiet=True)
    out = io.read_table(tmp_path / "out.csv")
    assert out["id"].tolist() == ["1", "id", "2"] and summary["statuses"]["repeated header"] == 1
    assert out["status"].tolist() == ["ok", "repeated header", "ok"] and out.loc[1, "group"] == ""
