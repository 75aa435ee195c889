import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from cxtext.classify import LABEL_COLUMNS, TextClassifier, load_model
from cxtext.errors import InputError, ModelError
from cxtext.persist import save


def test_predict_gives_one_row_per_text_in_order_with_the_contract_columns(default_model):
    texts = ["Верните деньги за подписку, я ее не подключал!", None, "", "   ", 42, b"\xff\xfe\x00junk",
             "Спасибо!", "x" * 30_000]
    out = default_model.predict(texts)
    assert list(out.columns) == LABEL_COLUMNS
    assert len(out) == len(texts)
    assert out.loc[0, "status"] == "ok"
    assert list(out.loc[1:5, "status"]) == ["empty text", "empty text", "empty text", "ok", "not text"]  # 42 reads as "42"
    assert (out.loc[[1, 2, 3, 5], "group"] == "").all() and (out.loc[[1, 2, 3, 5], "confidence"] == 0).all()
    assert out.loc[7, "status"] == "truncated"
    assert out["confidence"].between(0, 1).all()


def test_a_repeated_text_gets_the_labels_it_gets_alone(default_model):
    texts = ["Спасибо!", "Курьер опоздал на три часа, звоню уже второй раз", "Спасибо!", "Всё хорошо",
             "Курьер опоздал на три часа, звоню уже второй раз", "Спасибо!"]
    together = default_model.predict(texts)
    alone = [default_model.predict([t]).iloc[0] for t in texts]
    for i, row in enumerate(alone):
        for column in ("group", "topics", "is_general", "is_repeat", "needs_review"):
            assert together.loc[i, column] == row[column], (i, column)
        assert together.loc[i, "confidence"] == pytest.approx(row["confidence"], abs=1e-3)


@pytest.mark.parametrize("text, group, topic", [
    ("Списали деньги за подписку, которую я не подключал, верните немедленно", "claim", "refunds"),
    ("Не могу дозвониться до оператора уже час, робот гоняет по кругу", "complaint", "reachability"),
    ("Как поменять тариф в личном кабинете?", "consultation", "app_website"),
    ("Курьер опоздал на три часа, заказ привезли мятым", "complaint", "delivery"),
    ("Пришлите, пожалуйста, справку об остатке задолженности по ипотеке", "service_request", "documents"),
    ("Добавьте в приложение оплату по QR-коду", "suggestion", "app_website"),
])
def test_clear_cases_get_the_right_group_and_topic(default_model, text, group, topic):
    row = default_model.predict([text]).iloc[0]
    assert row["group"] == group
    assert topic in row["topics"].split(";")
    assert not row["is_general"]


@pytest.mark.parametrize("text", ["спасибо", "все отлично", "ужасный банк", "без комментариев", "норм"])
def test_verdicts_without_facts_are_too_general_and_name_no_topic(default_model, text):
    row = default_model.predict([text]).iloc[0]
    assert row["is_general"] and row["topics"] == ""


def test_junk_with_no_word_or_score_goes_to_review(default_model):
    junk = ["x", "12345", "+", "....", "a1"]
    readable = ["5", "10/10", "9 из 10"]  # a score written as the comment is an answer, not junk
    out = default_model.predict(junk + readable)
    assert out.loc[:len(junk) - 1, "needs_review"].all()
    assert (out["status"] == "ok").all()
    unforced = default_model.predict(readable)
    assert list(out.loc[len(junk):, "needs_review"]) == list(unforced["confidence"] < default_model.review_threshold)


def test_names_are_russian(default_model):
    row = default_model.predict(["Не проходит перевод в приложении"]).iloc[0]
    assert row["group_name"] == "Жалоба"
    assert "Платежи и переводы" in row["topic_names"]


def test_repeat_from_text_and_from_history(default_model):
    out = default_model.predict(["Звоню уже третий раз, не проходит платеж"])
    assert out.loc[0, "is_repeat"]
    texts = ["Не проходит платеж картой", "Опять не проходит платеж картой", "Не проходит платеж картой"]
    out = default_model.predict(texts, customer_ids=["c1", "c1", "c2"],
                                times=["2026-03-01 10:00", "2026-03-04 09:00", "2026-03-04 09:00"])
    assert list(out["is_repeat"]) == [False, True, False]


def test_save_and_load_give_identical_predictions(default_model, tmp_path, corpus):
    texts = corpus["text"].iloc[:200].tolist()
    save(default_model, tmp_path / "m", card=None)
    again = load_model(tmp_path / "m")
    a, b = default_model.predict(texts), again.predict(texts)
    assert a.drop(columns="confidence").equals(b.drop(columns="confidence"))
    assert np.allclose(a["confidence"], b["confidence"], atol=1e-6)


def test_a_specific_text_names_its_likeliest_topic_as_a_guess_to_review(default_model, corpus):
    """With the fallback learned, a text that is not too general always names a process; where no topic
    cleared its threshold, the one named is the likeliest and the row goes to review."""
    import copy

    texts = [" ".join(t.split()[:3]) for t in corpus["text"].iloc[:400]]  # openings: often unsure
    plain, guessing = copy.copy(default_model), copy.copy(default_model)
    plain.topic_fallback_, guessing.topic_fallback_ = False, True
    plain.review_threshold = guessing.review_threshold = 0.3  # a guess is reviewed whatever the setting
    before, after = plain.predict(texts), guessing.predict(texts)
    specific = ~after["is_general"]
    assert (after.loc[specific, "topics"] != "").all()
    assert (after.loc[after["is_general"], "topics"] == "").all()
    guessed = (before["topics"] == "") & specific
    assert guessed.sum() >= 3
    scores = default_model.predict_scores([texts[i] for i in np.flatnonzero(guessed)])["topics"]
    likeliest = (scores / default_model.topic_thresholds_).argmax(axis=1)
    assert after.loc[guessed, "topics"].tolist() == [default_model.topics_[j] for j in likeliest]
    assert after.loc[guessed, "needs_review"].all() and (after.loc[guessed, "confidence"] <= 0.5).all()
    kept = ~guessed
    assert after.loc[kept].drop(columns=["topic_names"]).equals(before.loc[kept].drop(columns=["topic_names"]))


def test_a_model_saved_before_the_topic_fallback_loads_without_it(default_model, tmp_path):
    save(default_model, tmp_path / "m", card=None)
    meta_file = tmp_path / "m" / "model.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    del meta["topic_fallback"]
    meta_file.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    assert load_model(tmp_path / "m").topic_fallback_ is False


def test_a_model_sent_to_a_worker_process_predicts_the_same(default_model, corpus):
    import pickle

    texts = corpus["text"].iloc[:200].tolist()
    expected = default_model.predict(texts)  # its word caches are warm now; the copy starts cold
    again = pickle.loads(pickle.dumps(default_model))
    assert again.predict(texts).equals(expected)


def test_a_model_saved_with_a_retired_setting_still_loads(default_model, tmp_path):
    save(default_model, tmp_path / "m", card=None)
    meta_file = tmp_path / "m" / "model.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    meta["params"]["chunk_topics"] = True  # written by the first release, whose step is gone
    meta_file.write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    again = load_model(tmp_path / "m")
    texts = ["Курьер опоздал на три часа", "Спасибо!"]
    assert again.predict(texts)["topics"].tolist() == default_model.predict(texts)["topics"].tolist()


def test_model_files_are_plain_arrays_and_json(default_model, tmp_path):
    save(default_model, tmp_path / "m")
    with np.load(tmp_path / "m" / "model.npz", allow_pickle=False) as data:
        assert all(data[name].dtype != object for name in data.files)
    json.loads((tmp_path / "m" / "model.json").read_text("utf-8"))


def test_incompatible_or_missing_model_gets_a_clear_message(default_model, tmp_path):
    save(default_model, tmp_path / "m")
    meta_path = tmp_path / "m" / "model.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["protocol"] = 999
    meta_path.write_text(json.dumps(meta), "utf-8")
    with pytest.raises(ModelError, match="protocol 999.*Retrain"):
        load_model(tmp_path / "m")
    with pytest.raises(ModelError, match="no cxtext model"):
        load_model(tmp_path / "empty")


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "model.npz").write_bytes((d / "model.npz").read_bytes()[:1000]), "model.npz cannot be read"),
    (lambda d: (d / "model.json").write_text("{}", "utf-8"), "is not a cxtext model"),
    (lambda d: (d / "model.json").write_text("{", "utf-8"), "not valid JSON"),
])
def test_a_damaged_model_directory_gets_a_message_with_the_fix(default_model, tmp_path, damage, message):
    save(default_model, tmp_path / "m")
    damage(tmp_path / "m")
    with pytest.raises(ModelError, match=f"{message}.*(Copy the model directory again|retrain)"):
        load_model(tmp_path / "m")


def test_estimator_contract():
    model = TextClassifier(C_group=2.0)
    assert clone(model).get_params()["C_group"] == 2.0
    model.set_params(cv=3)
    assert model.get_params()["cv"] == 3
    with pytest.raises(NotFittedError):
        model.predict(["текст"])


def test_default_model_carries_a_card(default_model):
    card = default_model.card
    assert card["data"]["rows"] >= 4000
    assert "held_out_metrics" in card["metrics"]
    assert card["versions"]["scikit-learn"]


def test_labels_without_any_too_general_text_still_train(corpus):
    """An analyst's file often has no too-general rows at all: training must not need them."""
    sample = corpus[~corpus["is_general"]].sample(1000, random_state=0)
    model = TextClassifier(cv=3).fit(sample["text"], sample["group"], sample["topics"], sample["is_general"])
    out = model.predict(["не могу дозвониться в колл-центр", "спасибо"])
    assert not out["is_general"].any()
    assert "reachability" in out.loc[0, "topics"]


def test_a_comment_pasted_many_times_gets_the_labels_of_the_comment(default_model):
    one = default_model.predict(["Спасибо большое, всё хорошо."]).iloc[0]
    many = default_model.predict([" ".join(["Спасибо большое, всё хорошо."] * 30)]).iloc[0]
    assert (many["group"], many["topics"], many["is_general"]) == (one["group"], one["topics"], one["is_general"])


def test_a_transcript_with_no_customer_turn_is_labelled_whole_and_sent_to_review(default_model):
    rows = default_model.predict(["Оператор: все операторы заняты, оставайтесь на линии\nОператор: слушаю вас",
                                  "Клиент: не могу дозвониться второй час\nОператор: оставайтесь на линии",
                                  [{"speaker": "agent", "text": "Ожидайте ответа специалиста"}]])
    assert rows["status"].tolist() == ["no customer turn", "ok", "no customer turn"]
    assert rows["needs_review"].tolist()[0] and rows["needs_review"].tolist()[2]
    assert rows["group"].iloc[0] != ""  # labelled, from the whole text


def test_labels_of_a_series_join_back_to_its_frame(default_model):
    frame = pd.DataFrame({"text": ["Сотрудник в отделении нахамил", "Спасибо, всё отлично"]}, index=[101, 102])
    joined = frame.join(default_model.predict(frame["text"]))
    assert joined["group"].tolist() == ["complaint", "gratitude"]


def test_one_string_is_refused_rather_than_read_letter_by_letter(default_model):
    with pytest.raises(InputError, match=r"one string; wrap it in a list"):
        default_model.predict("не работает приложение")


def test_history_columns_must_fit_the_texts(default_model):
    with pytest.raises(InputError, match="2 texts, 1 customer ids and 2 times"):
        default_model.predict_columns(["а", "б"], customer_ids=["1"], times=["2024-05-01", "2024-05-02"])
    with pytest.raises(InputError, match="both customer_ids and times"):
        default_model.predict(["а"], customer_ids=["1"])
