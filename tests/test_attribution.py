"""The words behind a row's labels: each named topic is carried by its own words, never by personal data or a
speaker label, and asking for them changes no label and loses no row."""
from __future__ import annotations

import pandas as pd
import pytest

from cxtext import io
from cxtext.batch import label_file
from cxtext.attribution import evidence, explain
from cxtext.errors import InputError


def _words(pairs) -> list[str]:
    return [w.lower() for w, _ in pairs]


def test_each_topic_is_carried_by_its_own_words(default_model):
    [item] = explain(default_model, ["Ждал оператора 40 минут, а в приложении не проходит платеж"])
    assert set(item["topics"]) >= {"reachability", "app_website", "payments"}
    assert _words(item["topics"]["reachability"])[0] == "оператора"
    assert _words(item["topics"]["app_website"])[0] == "приложении"
    assert _words(item["topics"]["payments"])[0] == "платеж"
    assert item["group"] == "complaint" and "не проходит" in _words(item["group_words"])  # a negation stays whole
    weights = [w for pairs in item["topics"].values() for _, w in pairs]
    assert all(w >= 0.5 for w in weights)


def test_a_hyphenated_word_is_one_word(default_model):
    [item] = explain(default_model, ["Не работает интернет-банк, а интернет дома есть"], top=10)
    words = {w for pairs in [item["group_words"], *item["topics"].values()] for w, _ in pairs}
    assert "интернет-банк" in _words(item["topics"]["app_website"])
    assert not {"банк", "-банк"} & words


@pytest.mark.parametrize("cell", [
    '[{"speaker": "client", "text": "Верните деньги за подписку"}, {"speaker": "operator", "text": "Уточните"}]',
    [{"speaker": "client", "text": "Верните деньги за подписку"}, {"speaker": "operator", "text": "Уточните"}],
])
def test_a_transcript_in_json_or_as_turns_is_explained_by_the_customers_words(default_model, cell):
    [item] = explain(default_model, [cell], top=10)
    words = {w for pairs in [item["group_words"], *item["topics"].values()] for w, _ in pairs}
    assert item["group"] == "claim" and "верните" in words
    assert not words & {"text", "speaker", "client", "уточните"}


def test_a_claim_is_explained_by_the_money_demand(default_model):
    [item] = explain(default_model, ["Верните деньги за подписку, я её не подключал"])
    assert item["group"] == "claim"
    assert "верните" in _words(item["group_words"])
    assert _words(item["topics"]["refunds"])[0] == "верните"


def test_the_cell_reads_in_russian_names_every_label_and_a_too_general_text_no_topic(default_model):
    texts = ["Сотрудник в отделении нахамил", "спасибо", "😡😡😡"]
    cells = evidence(default_model, texts)
    assert cells[0].startswith("Жалоба: ")
    assert "Вежливость и отношение персонала: нахамил" in cells[0]
    assert cells[1] == "Благодарность: спасибо"
    labels = default_model.predict(texts)
    assert cells[2] == f"{labels['group_name'][2]}: —"  # labelled, but no word to name
    for cell, names in zip(cells, labels["topic_names"]):
        assert all(f"{name}:" in cell for name in filter(None, names.split("; ")))


def test_personal_data_and_speaker_labels_are_never_shown(default_model):
    texts = ["Приложение вылетает при оплате картой 4276 3800 1234 5678, звоните +7 912 345-67-89",
             "Клиент: у меня списали комиссию за перевод\nОператор: уточните номер договора\nКлиент: верните деньги"]
    cells = evidence(default_model, texts + ["Договор 1234567890 не закрыт, звоните ivan@mail.ru"], top=10)
    assert not any(d in cells[0] for d in ("4276", "5678", "912", "67-89", "<CARD>", "<PHONE>"))
    assert "1234567890" not in cells[2] and "ivan" not in cells[2]  # a word holding a digit is never named
    words = {w.lower() for item in explain(default_model, texts[1:], top=10)
             for pairs in [item["group_words"], *item["topics"].values()] for w, _ in pairs}
    assert words and not words & {"клиент", "оператор"}
    assert "комиссию" in words


def test_a_failed_explanation_says_so_and_keeps_the_labels(tmp_path, default_model, monkeypatch):
    import cxtext.attribution

    def broken(*args, **kwargs):
        raise MemoryError
    monkeypatch.setattr(cxtext.attribution, "explain", broken)
    from cxtext.batch import predict_texts

    labels = predict_texts(default_model, ["приложение вылетает", "спасибо"], explain=True)
    assert labels["group"].tolist() == ["complaint", "gratitude"]
    assert labels["evidence"].tolist() == ["не удалось объяснить: MemoryError"] * 2


def test_rows_without_text_get_an_empty_cell(default_model):
    assert evidence(default_model, ["", None, "   ", "приложение не открывается"])[:3] == ["", "", ""]


def test_label_explain_adds_a_column_and_changes_no_label(tmp_path, default_model):
    frame = pd.DataFrame({"id": [3, 1, 2, 4], "text": ["не могу дозвониться до банка", "", "спасибо!",
                                                       "курьер опоздал на два часа, еда остыла"]})
    io.write_table(frame, tmp_path / "in.csv")
    label_file(tmp_path / "in.csv", tmp_path / "plain.csv", text_col="text", model=default_model, quiet=True)
    label_file(tmp_path / "in.csv", tmp_path / "why.csv", text_col="text", model=default_model, quiet=True,
               explain=True)
    plain, why = io.read_table(tmp_path / "plain.csv"), io.read_table(tmp_path / "why.csv")
    assert list(why.columns) == list(plain.columns) + ["evidence"]
    pd.testing.assert_frame_equal(why[plain.columns], plain)
    assert why["id"].tolist() == ["3", "1", "2", "4"]  # read back as text, as every CSV cell
    cells = why["evidence"].fillna("").tolist()
    assert "Дозвон и ожидание ответа: дозвониться" in cells[0]
    assert cells[1] == ""
    assert "Доставка: курьер" in cells[3]


@pytest.mark.parametrize("jobs", [2])
def test_explain_with_workers_gives_the_same_cells(tmp_path, default_model, jobs):
    frame = pd.DataFrame({"text": ["приложение вылетает", "долго ждал оператора", "верните деньги"] * 3})
    io.write_table(frame, tmp_path / "in.parquet")
    label_file(tmp_path / "in.parquet", tmp_path / "one.parquet", text_col="text", quiet=True, explain=True)
    label_file(tmp_path / "in.parquet", tmp_path / "two.parquet", text_col="text", quiet=True, explain=True,
               jobs=jobs, chunk_size=4)
    pd.testing.assert_frame_equal(io.read_table(tmp_path / "one.parquet"), io.read_table(tmp_path / "two.parquet"))


def test_one_string_is_refused_rather_than_explained_letter_by_letter(default_model):
    with pytest.raises(InputError, match="one string; wrap it in a list"):
        evidence(default_model, "не работает")


def test_a_lone_first_name_or_surname_is_never_named_as_evidence(default_model):
    cells = evidence(default_model, ["Спасибо оператору Дарье, всё быстро решила", "Кравчук не перезвонил неделю"])
    assert "дарье" not in cells[0].lower() and "кравчук" not in cells[1].lower()
    assert "спасибо" in cells[0] and "не перезвонил" in cells[1]
