"""cxtext.labels_io: the analyst's file goes out with Russian names and comes back as train() columns."""
from __future__ import annotations

import os
import stat
from importlib import resources

import openpyxl
import pandas as pd
import pytest

from cxtext.errors import InputError
from cxtext.labels_io import HEADERS, LabelFileError, read_labels, write_labels
from cxtext.taxonomy import from_dict, load_taxonomy
from cxtext.train import labelled_rows

EXAMPLE = resources.files("cxtext").joinpath("data/analyst_labels_example.csv")


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


@pytest.fixture(scope="module")
def cashback_tax(tax):
    return tax.with_topic("cashback_program", "Кешбэк-программа", "Начисление, категории и условия кешбэка")


def analyst_file(rows: list[tuple]) -> pd.DataFrame:
    """A file as an analyst types it: Russian headers, whatever spelling."""
    return pd.DataFrame(rows, columns=[HEADERS["text"], HEADERS["group"], HEADERS["topics"],
                                       HEADERS["is_general"]])


# -- the bundled example ------------------------------------------------------------------------------

def test_bundled_example_reads_into_training_columns(cashback_tax):
    frame = read_labels(EXAMPLE, taxonomy=cashback_tax)
    assert len(frame) >= 150
    assert {"text", "group", "topics", "is_general", "is_repeat"} <= set(frame.columns)
    assert frame["topics"].str.contains("cashback_program").sum() >= 25
    assert frame["is_general"].sum() >= 10
    rows = labelled_rows(frame)  # exactly what train() reads
    cashback_tax.check_labels(rows["groups"], rows["topics"])


def test_bundled_example_needs_its_new_topic_declared_first(tax):
    with pytest.raises(LabelFileError) as err:
        read_labels(EXAMPLE, taxonomy=tax)
    problems = err.value.problems
    assert len(problems) >= 25
    assert all("Кешбэк-программа" in p.value and p.column == "Темы" for p in problems)
    assert "declared first in a taxonomy file given with --taxonomy FILE" in str(err.value)
    assert "Справочник" not in str(err.value)  # a sheet this file does not have


def test_a_default_topic_the_taxonomy_left_out_is_named_as_left_out(tax):
    raw = dict(tax.raw, name="my-bank", topics=[t for t in tax.raw["topics"] if t["id"] != "refunds"])
    without_refunds = from_dict(raw)
    rows = analyst_file([("верните деньги за двойное списание", "Претензия", "Возвраты и компенсации", "нет")])
    with pytest.raises(LabelFileError, match="default topic 'refunds' .*which taxonomy 'my-bank' leaves out: "
                                             "put it back in your taxonomy file"):
        read_labels(rows, taxonomy=without_refunds)


# -- round trip ---------------------------------------------------------------------------------------

LABELLED = pd.DataFrame({
    "id": [11, 12, 13, 14],
    "text": ["перевод по сбп висит с утра, верните деньги", "всё хорошо",
             "=СУММ(A1) в приложении, «кавычки», ёлка\nи вторая строка", "кешбэк не пришёл"],
    "group": ["claim", "gratitude", "complaint", "claim"],
    "topics": ["payments;refunds", "", "app_website", "cashback_program"],
    "is_general": [False, True, False, False],
    "is_repeat": [True, False, False, False],
    "confidence": [0.91, 0.87, 0.42, 0.33],
})


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_write_then_read_gives_the_same_labels(tmp_path, cashback_tax, suffix):
    path = write_labels(LABELLED, tmp_path / f"review{suffix}", taxonomy=cashback_tax, id_col="id")
    back = read_labels(path, taxonomy=cashback_tax)
    for col in ("text", "group", "topics", "is_general", "is_repeat"):
        assert back[col].tolist() == LABELLED[col].tolist(), col
    assert back["id"].tolist() == ["11", "12", "13", "14"]
    assert back["row"].tolist() == [2, 3, 4, 5]  # as Excel numbers them


def test_the_words_behind_the_labels_are_shown_and_never_read_back_as_labels(tmp_path, cashback_tax):
    frame = LABELLED.assign(evidence=["Претензия: верните", "", None, "Жалоба: долго"])
    path = write_labels(frame, tmp_path / "review.xlsx", taxonomy=cashback_tax)
    sheet = openpyxl.load_workbook(path)["Разметка"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("По каким словам") + 1).value == "Претензия: верните"
    back = read_labels(path, taxonomy=cashback_tax)
    assert back["group"].tolist() == LABELLED["group"].tolist() and "evidence" not in back


def test_the_file_an_analyst_opens_is_in_russian(tmp_path, cashback_tax):
    path = write_labels(LABELLED, tmp_path / "review.xlsx", taxonomy=cashback_tax)
    book = openpyxl.load_workbook(path)
    sheet = book["Разметка"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Текст", "Группа", "Темы", "Слишком общий", "Повтор"]
    assert sheet["B2"].value == "Претензия"
    assert sheet["C2"].value == "Платежи и переводы; Возвраты и компенсации"
    assert sheet["A4"].value.startswith("=СУММ") and sheet["A4"].data_type == "s"  # text, never a formula
    reference = [c.value for c in book["Справочник"]["B"]]
    assert "Кешбэк-программа" in reference and "Жалоба" in reference
    assert any("Претензия" in dv.formula1 for dv in sheet.data_validations.dataValidation)


def test_csv_opens_in_russian_excel(tmp_path, tax):
    path = write_labels(LABELLED.iloc[:2], tmp_path / "review.csv", taxonomy=tax)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 Cyrillic
    assert raw.decode("utf-8-sig").splitlines()[0].startswith("Текст;Группа;Темы")


# -- what analysts type ------------------------------------------------------------------------------

CELLS = [
    # group, topics, is_general -> group id, topic ids, flag
    (("Жалоба", "Платежи и переводы", "нет"), ("complaint", "payments", False)),
    (("  жалоба ", "платежи и переводы;  Возвраты и компенсации", "Нет"), ("complaint", "payments;refunds", False)),
    (("complaint", "payments, refunds", "0"), ("complaint", "payments;refunds", False)),
    (("ЖАЛОБА", "Тарифы, цены и комиссии", ""), ("complaint", "fees_prices", False)),  # a comma inside a name
    (("Благодарность", "", "Да"), ("gratitude", "", True)),
    (("Благодарность", "", "x"), ("gratitude", "", True)),
    (("Благодарность", "", "1"), ("gratitude", "", True)),
    (("Претензия", "Возвраты и компенсации\nПлатежи и переводы", "нет"), ("claim", "refunds;payments", False)),
]


@pytest.mark.parametrize("typed, expected", CELLS)
def test_names_ids_case_and_spacing_are_all_understood(tax, typed, expected):
    frame = read_labels(analyst_file([("текст", *typed)]), taxonomy=tax)
    assert tuple(frame.loc[0, ["group", "topics", "is_general"]]) == expected


def test_every_bad_cell_is_reported_at_once_with_its_row(tax):
    frame = analyst_file([
        ("ок", "Жалоба", "", "нет"),
        ("опечатка", "Жалобаа", "", "нет"),
        ("неизвестная тема", "Жалоба", "Кешбэк", "нет"),
        ("не да и не нет", "Жалоба", "", "может быть"),
        ("общий с темой", "Жалоба", "Доставка", "да"),
    ])
    with pytest.raises(LabelFileError) as err:
        read_labels(frame, taxonomy=tax)
    where = {(p.row, p.column) for p in err.value.problems}
    assert where == {(3, "Группа"), (4, "Темы"), (5, "Слишком общий"), (6, "Слишком общий")}
    assert "did you mean 'Жалоба'" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_rows_without_a_group_are_not_labelled_yet(tax):
    frame = analyst_file([("размечен", "Жалоба", "", "нет"), ("ещё не размечен", "", "", "")])
    out = read_labels(frame, taxonomy=tax)
    assert out["text"].tolist() == ["размечен"]
    assert out.attrs["skipped"] == 1


def test_topics_without_a_group_is_an_error_not_a_skip(tax):
    with pytest.raises(LabelFileError, match="no group"):
        read_labels(analyst_file([("забыли группу", "", "Доставка", "нет")]), taxonomy=tax)


def test_checked_only_keeps_rows_the_analyst_confirmed(tax):
    frame = analyst_file([("a", "Жалоба", "", "нет"), ("b", "Жалоба", "", "нет")])
    frame["Проверено"] = ["да", ""]
    assert read_labels(frame, taxonomy=tax, checked_only=True)["text"].tolist() == ["a"]


def test_english_training_columns_read_too(tax):
    frame = pd.DataFrame({"text": ["a"], "group": ["claim"], "topics": ["refunds"], "is_general": [False]})
    assert read_labels(frame, taxonomy=tax).loc[0, "topics"] == "refunds"


def test_a_missing_column_names_what_is_there(tax):
    with pytest.raises(InputError, match="'Темы'.*columns are: Текст, Группа"):
        read_labels(pd.DataFrame({"Текст": ["a"], "Группа": ["Жалоба"]}), taxonomy=tax)


def test_columns_a_caller_names_are_read_and_a_missing_one_is_named(tax):
    frame = pd.DataFrame({"comment": ["тариф подорожал"], "label": ["Жалоба"], "themes": ["Тарифы, цены и комиссии"],
                          "vague": ["нет"], "text": ["not this one"]})
    named = {"text": "comment", "group": "label", "topics": "themes", "is_general": "vague"}
    out = read_labels(frame, taxonomy=tax, columns=named)
    assert out.loc[0, ["text", "group", "topics"]].tolist() == ["тариф подорожал", "complaint", "fees_prices"]
    assert out.attrs["columns"]["text"] == "comment"
    assert read_labels(frame, taxonomy=tax, columns=named | {"text": "COMMENT"}).loc[0, "text"] == "тариф подорожал"
    with pytest.raises(InputError, match="'отзыв' not found; columns are: comment, label"):
        read_labels(frame, taxonomy=tax, columns=named | {"text": "отзыв"})  # never the 'text' column instead


def test_a_bad_cell_is_reported_under_the_column_it_is_in(tax):
    frame = pd.DataFrame({"comment": ["a"], "group": ["Жалобаа"], "topics": [""], "flag": ["может быть"]})
    with pytest.raises(LabelFileError) as err:
        read_labels(frame, taxonomy=tax, columns={"text": "comment", "is_general": "flag"})
    assert {(p.row, p.column) for p in err.value.problems} == {(2, "group"), (2, "flag")}


def test_train_reads_labels_as_read_labels_does(tax):
    frame = analyst_file([("тариф подорожал", "жалоба", "Тарифы, цены и комиссии; Доставка", "нет"),
                          ("спасибо", "Благодарность", "", "да"), ("не размечен", "", "", "")])
    rows = labelled_rows(frame, taxonomy=tax)
    assert rows["groups"] == ["complaint", "gratitude"] and rows["topics"] == [["fees_prices", "delivery"], []]
    assert rows["general"] == [False, True] and rows["row"] == [2, 3] and rows["unlabelled"] == 1


# -- what the file may hold, and who may open it -----------------------------------------------------

PERSONAL = "Перезвоните на +7 912 345-67-89, карта 4276 3800 1234 5678, ivan.petrov@mail.ru, Петров Иван Сергеевич"
SECRETS = ["912 345-67-89", "4276 3800 1234 5678", "ivan.petrov@mail.ru", "Петров", "Иван"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_personal_data_is_masked_in_the_file(tmp_path, tax, suffix):
    frame = pd.DataFrame({"text": [PERSONAL, "всё хорошо"], "group": ["claim", "gratitude"]})
    path = write_labels(frame, tmp_path / f"review{suffix}", taxonomy=tax)
    texts = pd.read_excel(path, dtype=str) if suffix == ".xlsx" else pd.read_csv(path, sep=";", dtype=str)
    written = texts["Текст"].tolist()
    assert written[0] == "Перезвоните на <PHONE>, карта <CARD>, <EMAIL>, <NAME>"
    assert written[1] == "всё хорошо"
    assert [s for s in SECRETS if s in " ".join(texts.fillna("").to_numpy().ravel())] == []


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)], ids=["umask 022", "umask 002"])
def test_xlsx_gets_the_mode_other_files_in_the_folder_get(tmp_path, cashback_tax, umask, mode):
    """Not mkstemp's 0600: colleagues on a shared folder open it like the reports beside it."""
    old = os.umask(umask)
    try:
        path = write_labels(LABELLED, tmp_path / "review.xlsx", taxonomy=cashback_tax)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_bad_value_on_many_rows_is_named_once_with_its_rows():
    frame = pd.DataFrame({"text": [f"кешбэк {i}" for i in range(30)], "group": "complaint", "topics": "cashback"})
    with pytest.raises(LabelFileError) as caught:
        read_labels(frame)
    message = str(caught.value)
    assert len(caught.value.problems) == 30 and message.count("'cashback' is not a topic") == 1
    assert "rows 2, 3, 4 and 27 more, column 'topics'" in message
