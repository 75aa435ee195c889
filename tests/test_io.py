"""Reading what CX exports look like, and writing output that is safe to open and never half-written."""
from __future__ import annotations

import codecs

import openpyxl
import pandas as pd
import pytest

from cxtext import io
from cxtext.errors import InputError

ROWS = pd.DataFrame({
    "id": ["00123", "007", "42"],
    "text": ["Не работает приложение, ужас", "много; текста\nв две строки", "NA"],
    "score": ["5", "", "10"],
})


def _write(path, frame, sep, encoding):
    path.write_bytes(frame.to_csv(index=False, sep=sep).encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_csv_encoding_and_delimiter_are_detected_and_ids_stay_text(tmp_path, encoding, sep):
    path = _write(tmp_path / "in.csv", ROWS, sep, encoding)
    found = io.sniff_csv(path)
    assert (found.encoding, found.sep) == (encoding, sep)
    frame = io.read_table(path)
    # "00123" is not 123, "NA" is a comment, an empty score is "" and not NaN
    assert frame.astype(object).to_dict("records") == ROWS.to_dict("records")


def test_csv_streams_in_chunks_that_add_up_to_the_file(tmp_path):
    frame = pd.DataFrame({"id": [f"{i:05d}" for i in range(1000)], "text": ["ок"] * 1000})
    path = _write(tmp_path / "big.csv", frame, ";", "cp1251")
    chunks = list(io.iter_table(path, chunksize=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    assert pd.concat(chunks, ignore_index=True).astype(object).equals(frame.astype(object))
    assert io.count_rows(path) == 1000


def test_parquet_streams_in_chunks_and_keeps_its_types(tmp_path):
    frame = pd.DataFrame({"id": ["001", "002", "003"], "n": [1, 2, 3], "text": ["а", None, "в"]})
    frame.to_parquet(tmp_path / "in.parquet")
    chunks = list(io.iter_table(tmp_path / "in.parquet", chunksize=2))
    assert [len(c) for c in chunks] == [2, 1]
    whole = pd.concat(chunks, ignore_index=True)
    assert whole["id"].tolist() == ["001", "002", "003"] and whole["n"].tolist() == [1, 2, 3]
    assert io.count_rows(tmp_path / "in.parquet") == 3


def test_xlsx_cells_keep_the_type_excel_gave_them(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "text", "score"])
    sheet.append(["00123", "Спасибо", 10])
    sheet.append(["00124", None, 7.5])
    book.save(tmp_path / "in.xlsx")
    frame = io.read_table(tmp_path / "in.xlsx")
    assert frame.to_dict("records") == [{"id": "00123", "text": "Спасибо", "score": 10},
                                        {"id": "00124", "text": "", "score": 7.5}]


@pytest.mark.parametrize("name, content, expected", [
    ("missing.csv", None, "not found"),
    ("data.xls", b"x", "extension '.xls'"),
    ("data.json", b"{}", "extension '.json'"),
    ("empty.csv", b"", "empty"),
    ("blank.csv", b"\n \n", "no rows"),
    ("zip.csv", b"PK\x03\x04" + b"\x00" * 100, "Excel/zip"),
    ("utf16_no_bom.csv", "id,text\n1,привет\n2,ok\n".encode("utf-16-le"), "UTF-16"),
    # Russian words with hardly any ASCII between them: too few NULs to tell, but 0x04 beside each letter
    ("utf16_russian_le.csv", ("отзыв\n" + "приложениезависаетпостоянно\n" * 40).encode("utf-16-le"), "UTF-16"),
    ("utf16_russian_be.csv", ("отзыв\n" + "приложениезависаетпостоянно\n" * 40).encode("utf-16-be"), "UTF-16"),
    ("junk.csv", bytes(range(1, 32)) * 50 + bytes(range(128, 256)) * 5, "neither as UTF-8 nor as cp1251"),
    ("broken.xlsx", b"not a workbook", "not a readable .xlsx"),
    ("broken.parquet", b"not parquet", "not a readable Parquet"),
])
def test_bad_input_files_say_what_is_wrong(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=expected):
        io.read_table(path)


def test_encoding_that_changes_further_down_the_file_is_named(tmp_path):
    good = "id,text\n" + "1,привет\n" * 200_000  # past the sniffed first megabyte
    path = tmp_path / "mixed.csv"
    path.write_bytes(good.encode("utf-8") + "2,пока\n".encode("cp1251"))
    with pytest.raises(InputError, match="encoding='cp1251'"):
        list(io.iter_table(path, chunksize=50_000))


def test_missing_column_lists_the_columns_and_the_option():
    with pytest.raises(InputError) as err:
        io.check_columns(["id", "text", "score"], {"text-col": "comment"}, "in.csv")
    assert str(err.value) == (
        "column 'comment' not found in in.csv; columns are: id, text, score; pass --text-col text")
    with pytest.raises(InputError, match="pass --text-col Text"):
        io.check_columns(["id", "Text"], {"text-col": "text"})


def test_wrong_delimiter_is_recognised_from_a_single_column(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("id;text\n1;привет\n", encoding="utf-8")
    frame = io.read_table(path, sep=",")
    with pytest.raises(InputError, match="delimiter is probably ';'"):
        io.check_columns(frame.columns, {"text-col": "text"}, path)


def test_csv_output_cp1251_replaces_emoji_and_counts_them(tmp_path):
    frame = pd.DataFrame({"id": ["01"], "text": ["Супер 👍 спасибо 😊"]})
    info = io.write_table(frame, tmp_path / "out.csv", encoding="cp1251", sep=";")
    assert info["replaced_chars"] == 2
    assert (tmp_path / "out.csv").read_bytes().decode("cp1251") == "id;text\n01;Супер ? спасибо ?\n"


def test_csv_output_with_bom_for_excel(tmp_path):
    io.write_table(ROWS, tmp_path / "out.csv", bom=True)
    data = (tmp_path / "out.csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert io.read_table(tmp_path / "out.csv").astype(object).to_dict("records") == ROWS.to_dict("records")


def test_excel_output_keeps_formula_like_text_as_text(tmp_path):
    texts = ["=HYPERLINK(\"http://evil\",\"жми\")", "+7 999 123-45-67", "-плохо", "@all помогите", "ok"]
    frame = pd.DataFrame({"id": [f"{i:03d}" for i in range(5)], "text": texts, "topics": [["a", "b"]] * 5})
    io.write_table(frame, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    rows = list(sheet.iter_rows(min_row=2, values_only=False))
    assert [r[1].value for r in rows] == texts
    assert all(r[1].data_type == "s" for r in rows)  # a string cell, never a formula
    assert rows[0][0].value == "000" and rows[0][2].value == "a; b"


def test_parquet_output_round_trips(tmp_path):
    frame = pd.DataFrame({"id": ["001", "002"], "text": [None, "x"], "ok": [True, False]})
    io.write_table(frame, tmp_path / "out.parquet")
    back = pd.read_parquet(tmp_path / "out.parquet")
    assert back["id"].tolist() == ["001", "002"] and back["ok"].tolist() == [True, False]
    assert back["text"].isna().tolist() == [True, False]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_interrupted_write_leaves_no_output_and_keeps_the_old_file(tmp_path, suffix):
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"previous result")
    with pytest.raises(RuntimeError):
        with io.open_writer(target) as writer:
            writer.write(ROWS)
            raise RuntimeError("killed half way")
    assert target.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_output_appears_only_when_complete(tmp_path):
    target = tmp_path / "out.csv"
    writer = io.open_writer(target)
    writer.write(ROWS)
    assert not target.exists()  # a reader never sees a partial file under the final name
    writer.commit()
    assert len(io.read_table(target)) == 3


def test_a_workbook_is_read_from_its_first_sheet_or_the_one_named(tmp_path):
    with pd.ExcelWriter(tmp_path / "two.xlsx") as writer:
        pd.DataFrame({"a": ["info"]}).to_excel(writer, sheet_name="info", index=False)
        pd.DataFrame({"text": ["плохо"]}).to_excel(writer, sheet_name="data", index=False)
    frame = io.read_table(tmp_path / "two.xlsx")
    with pytest.raises(InputError, match="the first sheet is read unless you name one: --sheet.*columns are: a"):
        io.check_columns(frame.columns, {"text-col": "text"}, tmp_path / "two.xlsx")
    assert io.read_table(tmp_path / "two.xlsx", sheet="data").to_dict("records") == [{"text": "плохо"}]
    with pytest.raises(InputError, match=r"not found in .*two.xlsx \(sheet 'info'\); columns are: a") as named:
        io.check_columns(["a"], {"text-col": "text"}, tmp_path / "two.xlsx", sheet="info")
    assert "first sheet" not in str(named.value)  # a named sheet was read, not the first
    with pytest.raises(InputError, match="no sheet 'Data'; its sheets are: info, data"):
        io.read_table(tmp_path / "two.xlsx", sheet="Data")
    with pytest.raises(InputError, match="there are no columns"):
        io.check_columns([], {"text-col": "text"}, "empty.csv")


def test_nul_bytes_in_the_header_are_dropped_from_column_names(tmp_path):
    (tmp_path / "in.csv").write_bytes("\x00id,text\x00\n1,привет\n".encode("utf-8"))
    assert io.read_table(tmp_path / "in.csv").to_dict("records") == [{"id": "1", "text": "привет"}]
    assert [list(chunk.columns) for chunk in io.iter_table(tmp_path / "in.csv", chunksize=1)] == [["id", "text"]]


def test_a_csv_that_cannot_be_read_is_told_to_try_another_delimiter_than_the_one_used(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("id;text\n1;привет\n2;текст; с точкой с запятой; без кавычек\n", encoding="utf-8")
    with pytest.raises(InputError, match="delimiter ';'.*--input-sep ','") as err:
        io.read_table(path)
    assert "--input-sep ';'" not in str(err.value)  # the delimiter that failed is not offered again
    with pytest.raises(InputError, match="with ';', the delimiter you gave.*without quotes"):
        io.read_table(path, sep=";")


def test_an_encoding_given_that_does_not_fit_says_so_rather_than_blaming_the_file(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes("id;text\n1;Долго ждал оператора\n".encode("cp1251"))
    with pytest.raises(InputError, match="does not read as utf-8 text, the encoding you gave; it reads as cp1251: "
                                         "drop --input-encoding") as err:
        io.read_table(path, encoding="utf-8")
    assert "mixes" not in str(err.value)
    (tmp_path / "junk.csv").write_bytes(bytes(range(1, 32)) * 50 + bytes(range(128, 256)) * 5)
    with pytest.raises(InputError, match="does not read as cp1251 text.*nor as UTF-8 or cp1251: check that it is"):
        io.read_table(tmp_path / "junk.csv", encoding="cp1251")


def test_a_utf8_file_of_emoji_reads_with_the_utf8_encoding_given(tmp_path):
    (tmp_path / "e.csv").write_text("id,text\n1,👍👍👍\n2,😡😡😡 ужас\n3,норм 👌\n", encoding="utf-8")
    assert io.read_table(tmp_path / "e.csv", encoding="utf-8")["text"].tolist() == ["👍👍👍", "😡😡😡 ужас", "норм 👌"]


def test_a_title_above_the_header_is_skipped_and_kept_aside(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Выгрузка опроса NPS за июнь"], [], ["id", "text", "score"], [1, "долго ждал", 3], [2, "спасибо", None]):
        sheet.append(row)
    book.save(tmp_path / "titled.xlsx")
    (tmp_path / "titled.csv").write_text("Выгрузка опроса NPS за июнь;;\nid;text;score\n1;долго ждал;3\n2;спасибо;\n",
                                         encoding="cp1251")
    for name in ("titled.xlsx", "titled.csv"):
        chunks = list(io.iter_table(tmp_path / name, chunksize=1))
        assert [list(c.columns) for c in chunks] == [["id", "text", "score"]] * 2, name
        assert [c["text"].iloc[0] for c in chunks] == ["долго ждал", "спасибо"]
        assert chunks[1].attrs["title_rows"][0] == "Выгрузка опроса NPS за июнь"


def test_a_first_row_of_one_column_name_is_a_header_not_a_title(tmp_path):
    (tmp_path / "one.csv").write_text("comment\nплохо, очень плохо\nхорошо\n", encoding="utf-8")
    with pytest.raises(InputError, match="more fields than the header"):  # commas unquoted: said, not guessed
        io.read_table(tmp_path / "one.csv")
    (tmp_path / "one.csv").write_text("comment\nплохо\nхорошо\n", encoding="utf-8")
    assert list(io.read_table(tmp_path / "one.csv").columns) == ["comment"]
    pd.DataFrame({"text": ["плохо", "ok"], "note": [None, "видно"]}).to_excel(tmp_path / "one.xlsx", index=False)
    frame = io.read_table(tmp_path / "one.xlsx")
    assert list(frame.columns) == ["text", "note"] and "title_rows" not in frame.attrs


KOI8_TEXTS = ["Пришли деньги не на тот счёт, верните", "Оператор ответил быстро, спасибо", "приложение не открывается",
              "Долго ждал ответа в чате"]


def test_koi8r_is_read_as_koi8r_not_as_cp1251_gibberish(tmp_path):
    frame = pd.DataFrame({"id": ["1", "2", "3", "4"], "text": KOI8_TEXTS})
    path = _write(tmp_path / "koi8.csv", frame, ";", "koi8-r")
    assert io.sniff_csv(path).encoding == "koi8-r"  # read as cp1251: «пТЙЫМЙ ДЕОШЗЙ ОЕ ОБ ФПФ...»
    assert io.read_table(path)["text"].tolist() == KOI8_TEXTS
    with pytest.raises(InputError, match="it reads as koi8-r: drop --input-encoding"):
        io.read_table(path, encoding="utf-8")
    cp1251 = _write(tmp_path / "cp.csv", frame.assign(text=[t.upper() for t in KOI8_TEXTS]), ";", "cp1251")
    assert io.sniff_csv(cp1251).encoding == "cp1251"  # all in capitals is still cp1251


@pytest.mark.parametrize("rows", [2, 5000])
def test_a_utf8_file_with_a_cp1251_line_is_refused_as_mixed_encodings(tmp_path, rows):
    path = tmp_path / "mixed.csv"
    path.write_bytes(("id,text\n" + "1,нормально всё\n" * rows).encode("utf-8") + "2,долго ждал\n".encode("cp1251"))
    with pytest.raises(InputError, match=r"UTF-8 text \(line 2\) and cp1251 text \(line \d+\): the file mixes "
                                         "encodings.*re-save it in one encoding"):
        io.read_table(path)


@pytest.mark.parametrize("name, encoding", [("unicode.txt", "utf-16"), ("unicode.csv", "utf-16"),
                                            ("be.txt", "utf-16-be")])
def test_excel_unicode_text_utf16_with_a_bom_is_read(tmp_path, name, encoding):
    data = ROWS.to_csv(index=False, sep="\t").encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    (tmp_path / name).write_bytes(data)
    found = io.sniff_csv(tmp_path / name)
    assert (found.encoding, found.sep) == ("utf-16", "\t")
    assert io.read_table(tmp_path / name).astype(object).to_dict("records") == ROWS.to_dict("records")


def test_a_column_differing_only_by_case_or_spaces_is_matched_when_only_one_fits():
    assert io.match_columns(["id", " Text ", "score"], {"text-col": "text", "id-col": None}) == {
        "text-col": " Text ", "id-col": None}
    assert io.match_columns(["text ", "Text"], {"text-col": "TEXT"}) == {"text-col": "TEXT"}  # two fit: none
    assert io.match_columns(["text ", "text"], {"text-col": "text"}) == {"text-col": "text"}  # exact wins
    with pytest.raises(InputError) as err:
        io.check_columns(["id", "text ", "score"], {"text-col": "comment"}, "in.csv")
    assert str(err.value) == ("column 'comment' not found in in.csv; columns are: id, 'text ', score; "
                              "pass --text-col 'text ' (its name has spaces around it: keep the quotes)")
    with pytest.raises(InputError, match="pass --text-col 'Текст отзыва'$"):
        io.check_columns(["id", "Текст отзыва"], {"text-col": "comment"})


def test_utf8_sig_output_is_utf8_with_one_bom(tmp_path):
    with io.open_writer(tmp_path / "out.csv", encoding="utf-8-sig", sep=";") as writer:
        writer.write(ROWS.iloc[:2])
        writer.write(ROWS.iloc[2:])
    data = (tmp_path / "out.csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and data.count(codecs.BOM_UTF8) == 1
    assert writer.info["encoding"] == "utf-8-sig"
    assert io.read_table(tmp_path / "out.csv").astype(object).to_dict("records") == ROWS.to_dict("records")
    with pytest.raises(InputError, match="use utf-8, utf-8-sig .*or cp1251") as err:
        io.checked_encoding("utf-16", output=True)
    assert "bom=True" not in str(err.value)


@pytest.mark.parametrize("cell, written", [
    ('=HYPERLINK("http://evil.example","жми")', '\'=HYPERLINK("http://evil.example","жми")'),
    ("=1+1", "'=1+1"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),  # a number first does not make it one
    ("- cmd|' /C calc'!A0", "'- cmd|' /C calc'!A0"),
    ("\tx", "'\tx"),
    ("-плохо", "'-плохо"),
    ("'=1+1", "''=1+1"),  # a quote already there is kept: reading drops only the one added
    ("-5", "-5"),
    ("+7 (912) 123-45-67", "+7 (912) 123-45-67"),
    ("- не работает, жду неделю", "- не работает, жду неделю"),  # a list dash before words: no formula
    ("+ удобно", "+ удобно"),
    ("-", "-"),
    ("ok = норм", "ok = норм"),
])
def test_csv_output_quotes_cells_excel_would_run_as_formulas(tmp_path, cell, written):
    frame = pd.DataFrame({"id": ["01"], "text": [cell], "score": [-5]})
    info = io.write_table(frame, tmp_path / "out.csv")
    assert pd.read_csv(tmp_path / "out.csv", dtype=object, keep_default_na=False)["text"].tolist() == [written]
    assert info["neutralised_cells"] == (cell != written)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1].endswith(",-5")  # numbers stay numbers
    assert io.read_table(tmp_path / "out.csv")["text"].tolist() == [cell]  # cxtext reads back what was written


def test_a_yes_no_or_date_among_the_texts_of_a_sheet_stays_a_value(tmp_path):
    import datetime

    from cxtext.preprocess import prepare

    book = openpyxl.Workbook()
    for row in (["id", "text", "note"], ["1", "Долго ждал", "x"], ["2", True, True],
                ["3", datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 1)], ["4", 5, 5]):
        book.active.append(row)
    book.save(tmp_path / "in.xlsx")
    frame = io.read_table(tmp_path / "in.xlsx", text_col="text")
    assert frame["text"].tolist() == ["Долго ждал", True, datetime.datetime(2024, 1, 1), "5"]
    assert frame["note"].tolist() == ["x", "True", "2024-01-01 00:00:00", "5"]  # other columns: text, as before
    assert [prepare(v).status for v in frame["text"]] == ["ok", "not text", "not text", "ok"]
    assert io.read_table(tmp_path / "in.xlsx")["text"].tolist()[1] == "True"  # no text column named
    io.write_table(frame, tmp_path / "out.parquet")  # one type per Parquet column: written as text
    assert pd.read_parquet(tmp_path / "out.parquet")["text"].tolist()[1:3] == ["True", "2024-01-01 00:00:00"]


def test_group_names_above_the_header_are_skipped_and_kept_aside(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Клиент", None, "Опрос", None], ["ID", "Дата", "Оценка", "Комментарий"],
                ["1", "2024-01-01", "5", "Долго ждал"], ["2", "2024-01-02", "3", "Спасибо"]):
        sheet.append(row)
    sheet.merge_cells("A1:B1")
    sheet.merge_cells("C1:D1")
    book.save(tmp_path / "groups.xlsx")
    (tmp_path / "groups.csv").write_text("Клиент;;Опрос;\nID;Дата;Оценка;Комментарий\n1;2024-01-01;5;Долго ждал\n"
                                         "2;2024-01-02;3;Спасибо\n", encoding="cp1251")
    for name in ("groups.xlsx", "groups.csv"):
        frame = io.read_table(tmp_path / name)
        assert list(frame.columns) == ["ID", "Дата", "Оценка", "Комментарий"], name
        assert frame["Комментарий"].tolist() == ["Долго ждал", "Спасибо"]
        assert frame.attrs["title_rows"] == ["Клиент Опрос"]


def test_a_repeated_name_is_reported_when_its_column_fills_only_further_down_a_sheet(tmp_path):
    book = openpyxl.Workbook()
    for row in (["id", "score", "text", "score"], [1, 5, "Долго ждал", 7], *[[None] * 4] * 15,
                [2, 3, "Спасибо", 4, None, None, "поздняя колонка"]):
        book.active.append(row)
    book.save(tmp_path / "in.xlsx")
    frame = io.read_table(tmp_path / "in.xlsx")
    assert frame.attrs["repeated_columns"] == {"score.1": "score"}


def test_xlsx_output_writes_a_column_of_plain_numbers_as_numbers_and_ids_as_text(tmp_path):
    frame = pd.DataFrame({"id": ["00123", "124"], "score": ["9", "8,5"], "text": ["курьер опоздал", "5"]})
    io.write_table(frame, tmp_path / "out.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "out.xlsx").active.iter_rows(min_row=2, values_only=True))
    assert rows == [("00123", 9, "курьер опоздал"), ("124", 8.5, "5")]


def test_a_lone_carriage_return_in_a_cell_does_not_split_its_row(tmp_path):
    frame = pd.DataFrame({"id": ["1", "2", "3"], "text": ["не работает\rприложение", "ок", "курьер\r\nопоздал"]})
    io.write_table(frame, tmp_path / "out.csv")
    back = io.read_table(tmp_path / "out.csv")
    assert back["id"].tolist() == ["1", "2", "3"]
    assert back["text"].tolist() == ["не работает\nприложение", "ок", "курьер\nопоздал"]


def test_a_lone_cr_written_unquoted_by_pandas_stays_in_its_cell(tmp_path):
    frame = pd.DataFrame({"id": ["00001", "00002"], "text": ["первая строка\rвторая строка", "спасибо"]})
    frame.to_csv(tmp_path / "in.csv", index=False)  # pandas leaves a lone CR unquoted when lines end in LF
    assert io.read_table(tmp_path / "in.csv").to_dict("records") == frame.to_dict("records")


def test_xlsx_number_columns_are_chosen_once_and_long_ids_stay_text(tmp_path):
    with io.open_writer(tmp_path / "out.xlsx") as writer:
        writer.write(pd.DataFrame({"inn": ["500100732259", "7707083893"], "score": ["1", "2"]}))
        writer.write(pd.DataFrame({"inn": ["7707083894", "7"], "score": ["н/д", "3"]}))
    rows = list(openpyxl.load_workbook(tmp_path / "out.xlsx").active.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == ["500100732259", "7707083893", "7707083894", "7"]  # no 5,001E+11
    assert [r[1] for r in rows] == [1, 2, "н/д", 3]
