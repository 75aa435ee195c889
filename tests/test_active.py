"""cxtext.active: what to label next, found the way an analyst would check it by hand."""
from __future__ import annotations

from importlib import resources
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cxtext.active import (cluster_summary, compare_models, leftover_clusters, suspect_labels, to_label_file,
                           uncertain)
from cxtext.classify import TextClassifier
from cxtext.errors import InputError, ModelError
from cxtext.evaluate import split_topics
from cxtext.labels_io import read_labels
from cxtext.persist import default_model_dir
from cxtext.preprocess import prepare_many
from cxtext.taxonomy import load_taxonomy
from cxtext.train import read_corpus

EXAMPLE = resources.files("cxtext").joinpath("data/analyst_labels_example.csv")
# Rows of the bundled example the analyst labelled wrong on purpose (row numbers as Excel shows them).
PLANTED = {
    139: "Сотрудники очень вежливые и всё быстро сделали, спасибо!",   # complaint, is gratitude
    140: "не могу дозвониться в банк уже второй день",                 # app_website, is reachability
    105: "Сняли двойную комиссию за перевод, верните разницу",         # gratitude, is claim
    16: "как заказать выписку по счету для налоговой?",                # complaint, is consultation
}
CASHBACK = "cashback_program"


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


@pytest.fixture(scope="module")
def cashback_tax(tax):
    return tax.with_topic(CASHBACK, "Кешбэк-программа", "Начисление кешбэка, категории, лимиты")


@pytest.fixture(scope="module")
def analyst(cashback_tax):
    return read_labels(EXAMPLE, taxonomy=cashback_tax)


@pytest.fixture(scope="module")
def analyst_default_topics(analyst):
    """The analyst's rows as the default taxonomy sees them: the cashback texts have no topic."""
    out = analyst.copy()
    out["topics"] = [";".join(t for t in split_topics(v) if t != CASHBACK) for v in out["topics"]]
    return out


@pytest.fixture(scope="module")
def background():
    # the first four parts of the corpus only, so the sample does not move as the corpus grows
    parts = [read_corpus(default_model_dir() / "corpus" / f"part_{name}.jsonl") for name in ("bank", "tel", "dig", "ret")]
    return pd.concat(parts).sample(150, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def model(tax, background, analyst_default_topics):
    """One fit for the module: trusted background rows first, then the analyst's rows (see suspect_labels)."""
    frame = pd.concat([background[["text", "group", "topics", "is_general"]], analyst_default_topics],
                      ignore_index=True)
    topics = [split_topics(v) for v in frame["topics"]]
    return TextClassifier(taxonomy=tax, cv=3).fit(frame["text"], frame["group"], topics, frame["is_general"])


# -- uncertainty sampling ----------------------------------------------------------------------------

def fake_model(tax, group, topics, general):
    """A model whose probabilities are given, to pin down what 'unsure' means."""
    groups, topic_ids = tax.group_ids[:3], tax.topic_ids[:2]
    return SimpleNamespace(
        groups_=groups, topics_=topic_ids, taxonomy_=tax, topic_thresholds_=np.array([0.3, 0.5]),
        general_threshold_=0.5,
        predict_scores=lambda texts: {"group": np.array(group), "topics": np.array(topics),
                                      "general": np.array(general), "docs": prepare_many(texts)})


def test_the_least_sure_decision_ranks_a_text_first(tax):
    texts = ["всё ясно: спасибо", "жалоба или претензия?", "тема на пороге", "общий или нет"]
    model = fake_model(
        tax,
        group=[[0.98, 0.01, 0.01], [0.50, 0.48, 0.02], [0.90, 0.05, 0.05], [0.95, 0.03, 0.02]],
        topics=[[0.01, 0.99], [0.01, 0.01], [0.31, 0.01], [0.01, 0.01]],
        general=[0.01, 0.02, 0.01, 0.55])
    out = uncertain(model, texts, k=4)
    assert out.index.tolist()[-1] == 0  # the sure text comes last
    assert set(out.index[:3]) == {1, 2, 3}
    assert out["uncertainty"].is_monotonic_decreasing
    reasons = dict(zip(out.index, out["reason"]))
    assert "группе" in reasons[1] and "Консультация" in reasons[1] and "Сервисный запрос" in reasons[1]
    assert "Дозвон" in reasons[2] and "0.31" in reasons[2]
    assert "слишком ли общий" in reasons[3]


def test_uncertain_skips_empty_cells_and_repeats(model):
    texts = ["норм"] * 5 + ["", None, True, "перевод завис, кешбэк не пришёл, в чате молчат"]
    out = uncertain(model, texts, k=10)
    assert out["text"].tolist().count("норм") <= 1
    assert set(out.index) <= {0, 1, 2, 3, 4, 8}
    assert all(texts[i] == t for i, t in zip(out.index, out["text"]))  # the index points into the input
    assert out["uncertainty"].between(0, 1).all()


def test_texts_that_differ_only_in_case_and_repeated_emoji_count_once(model):
    texts = ["Шаблоны платежей экономят кучу времени)", "=) шаблоны платежей экономят кучу времени)))",
             "норм", "норм((", "перевод завис"]
    out = uncertain(model, texts, k=10)
    assert out.index.tolist().count(0) + out.index.tolist().count(1) == 1
    assert {2, 3, 4} <= set(out.index)  # a sad emoji is a different comment


def test_uncertain_carries_the_callers_ids(model):
    texts = ["перевод завис", "", "кешбэк не пришёл", "норм"]
    out = uncertain(model, texts, k=10, ids=["a", "b", "c", "d"])
    assert out.columns[0] == "id"
    assert all(out.loc[i, "id"] == "abcd"[i] for i in out.index)
    with pytest.raises(InputError, match="ids has 2 values but there are 4 texts"):
        uncertain(model, texts, ids=["a", "b"])


# -- suspected label errors --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def suspects(model, analyst_default_topics):
    return suspect_labels(analyst_default_topics, model=model)


def test_mistakes_the_analyst_made_are_found_and_ranked_high(suspects, analyst):
    rank = {row: i for i, row in enumerate(suspects["row"])}
    assert set(PLANTED) <= set(rank), suspects[["row", "text", "reason"]].head(30)
    # a flipped group on a plain text is the surest mistake: it comes in the first third of the to-do list
    assert rank[139] < len(suspects) / 3 and rank[105] < len(suspects) / 3
    assert np.mean([rank[r] for r in PLANTED]) < len(suspects) / 2
    assert len(suspects) < len(analyst) / 2  # a to-do list, not the whole file again


def test_a_suspect_says_what_the_model_would_label_instead(suspects):
    by_row = suspects.set_index("row")
    assert by_row.loc[139, "group"] == "complaint" and by_row.loc[139, "suggested_group"] == "gratitude"
    assert "«Жалоба», а модель уверена в «Благодарность»" in by_row.loc[139, "reason"]
    assert "app_website" in by_row.loc[140, "topics_extra"].split(";") or \
        "reachability" in by_row.loc[140, "topics_missing"].split(";")


def test_background_rows_are_never_reported(suspects, analyst):
    assert set(suspects["text"]) <= set(analyst["text"])


@pytest.mark.filterwarnings("ignore:The least populated class")
def test_a_model_fitted_on_other_rows_is_refused(tax, analyst_default_topics):
    small = analyst_default_topics.head(60)
    other = TextClassifier(taxonomy=tax, cv=2).fit(small["text"], small["group"],
                                                   [split_topics(t) for t in small["topics"]], small["is_general"])
    with pytest.raises(ModelError, match="cover 60 rows but the frame has"):
        suspect_labels(analyst_default_topics, model=other)


# -- themes no topic covers --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clusters(model, analyst):
    return leftover_clusters(model, analyst["text"].tolist(), n_clusters=6)


def test_a_new_theme_shows_up_as_a_cluster_of_its_own(clusters, analyst):
    cashback = set(analyst.loc[analyst["topics"].str.contains(CASHBACK), "text"])
    summary = cluster_summary(clusters)
    hit = summary[summary["terms"].str.contains("кешбэк|кэшбек|кэшбэк|кешбек")]
    assert len(hit), summary
    texts = clusters[clusters["cluster"] == hit["cluster"].iloc[0]]["text"]
    assert np.mean([t in cashback for t in texts]) >= 0.7


def test_leftovers_are_texts_without_topic_and_not_general(model, clusters, analyst):
    scores = model.predict_scores(clusters["text"].tolist())
    assert not (scores["topics"] >= model.topic_thresholds_).any()
    assert not model.predict(clusters["text"].tolist())["is_general"].any()
    assert all(analyst["text"].iloc[i] == t for i, t in zip(clusters.index, clusters["text"]))


def test_a_guessed_topic_does_not_hide_a_leftover(model, clusters, analyst):
    """With the topic fallback every specific text gets a topic; one that is only a guess is still left over."""
    import copy

    guessing = copy.copy(model)
    guessing.topic_fallback_ = not model.topic_fallback_
    again = leftover_clusters(guessing, analyst["text"].tolist(), n_clusters=6)
    pd.testing.assert_frame_equal(clusters, again)


def test_clusters_are_reproducible_and_numbered_by_size(model, analyst, clusters):
    again = leftover_clusters(model, analyst["text"].tolist(), n_clusters=6)
    pd.testing.assert_frame_equal(clusters, again)
    sizes = cluster_summary(clusters)["size"].tolist()
    assert sizes == sorted(sizes, reverse=True)


def test_nothing_left_over_gives_an_empty_frame(model):
    assert leftover_clusters(model, ["норм"]).empty


# -- the file to label -------------------------------------------------------------------------------

def test_to_label_file_reads_back_as_labels(tmp_path, model, suspects, clusters, tax):
    unsure = uncertain(model, clusters["text"].tolist() + ["перевод завис"], k=8)
    path = to_label_file([suspects, unsure, clusters], tmp_path / "to_label.xlsx", model=model, taxonomy=tax)
    back = read_labels(path, taxonomy=tax)  # prefilled labels are valid labels
    assert back["text"].is_unique
    assert set(suspects["text"]) | set(unsure["text"]) | set(clusters["text"]) == set(back["text"])
    sheet = pd.read_excel(path, dtype=str).set_index("Текст")
    row139 = suspects.set_index("row").loc[139]
    # a suspect keeps the analyst's own label, to be corrected, with the reason beside it
    assert sheet.loc[row139["text"], "Группа"] == "Жалоба"
    assert "проверьте разметку" in sheet.loc[row139["text"], "Почему в списке"]
    both = set(unsure["text"]) & set(clusters["text"])
    for text in both:
        assert " | " in sheet.loc[text, "Почему в списке"]


def test_rows_without_labels_get_the_models_labels_beside_labelled_ones(tmp_path, model, suspects, analyst, tax):
    """uncertain's `group` is the model's guess, not a label: its rows are prefilled in full, not left blank."""
    unsure = uncertain(model, [t for t in analyst["text"] if t not in set(suspects["text"])], k=20)
    path = to_label_file([suspects.head(5), unsure], tmp_path / "to_label.xlsx", model=model, taxonomy=tax)
    sheet = pd.read_excel(path, dtype=str).fillna("").set_index("Текст").loc[unsure["text"]]
    pred = model.predict(unsure["text"].tolist())
    assert sheet["Группа"].tolist() == [tax.group_name(g) for g in pred["group"]]
    assert sheet["Темы"].tolist() == ["; ".join(tax.topic_name(t) for t in split_topics(v)) for v in pred["topics"]]
    assert sheet["Слишком общий"].tolist() == ["да" if g else "нет" for g in pred["is_general"]]
    assert (sheet["Темы"] != "").any()


PERSONAL = "Перезвоните на +7 912 345-67-89, карта 4276 3800 1234 5678, ivan.petrov@mail.ru, Петров Иван Сергеевич"
SECRETS = ["912 345-67-89", "4276 3800 1234 5678", "ivan.petrov@mail.ru", "Петров", "Иван"]


def test_the_file_to_label_holds_no_personal_data(tmp_path, model, tax):
    unsure = uncertain(model, [PERSONAL, "перевод завис, верните деньги"], k=2)
    path = to_label_file(unsure, tmp_path / "to_label.xlsx", model=model, taxonomy=tax)
    cells = " ".join(pd.read_excel(path, dtype=str).fillna("").to_numpy().ravel())
    assert [s for s in SECRETS if s in cells] == []
    assert "Перезвоните на <PHONE>, карта <CARD>, <EMAIL>, <NAME>" in cells


def test_every_row_of_the_file_to_label_says_where_it_comes_from(tmp_path, model, suspects, analyst, tax):
    texts = analyst["text"].tolist()
    ids = [f"S-{i}" for i in range(len(texts))]
    unsure = uncertain(model, texts, k=10, ids=ids)
    clusters = leftover_clusters(model, texts, n_clusters=6, ids=ids)
    assert all(clusters["id"] == [ids[i] for i in clusters.index])
    no_ids = suspects.drop(columns="id").head(5)  # from a labelled file without an ID column
    path = to_label_file([no_ids, unsure, clusters], tmp_path / "to_label.xlsx", model=model, taxonomy=tax)
    back = read_labels(path, taxonomy=tax).set_index("text")["id"]
    assert [back[t] for t in no_ids["text"]] == [f"строка {r}" for r in no_ids["row"]]
    found = dict.fromkeys(unsure["text"].tolist() + clusters["text"].tolist())
    rest = [t for t in found if t not in set(no_ids["text"])]
    assert [back[t] for t in rest] == [ids[texts.index(t)] for t in rest]


# -- is the new model better? ------------------------------------------------------------------------

def oracle(frame, taxonomy):
    """A model that always gives the true labels of `frame`."""
    truth = frame.set_index("text")

    def predict(texts):
        rows = truth.loc[list(texts)]
        return pd.DataFrame({"group": rows["group"].to_numpy(), "topics": rows["topics"].to_numpy(),
                             "is_general": rows["is_general"].to_numpy(bool)})
    return SimpleNamespace(predict=predict, topics_=taxonomy.topic_ids, taxonomy_=taxonomy)


def test_compare_models_puts_per_topic_f1_side_by_side(model, analyst, cashback_tax):
    table = compare_models({"было": model, "стало": oracle(analyst, cashback_tax)}, analyst, taxonomy=cashback_tax)
    new_topic = table.loc[f"f1:{CASHBACK}"]
    assert new_topic["Показатель"] == "F1: Кешбэк-программа"
    assert (new_topic["было"], new_topic["стало"], new_topic["n"]) == (0.0, 1.0, 26)
    assert (table["стало"] == 1.0).loc[["group_accuracy", "topic_micro_f1"]].all()
    assert np.allclose(table["разница"], table["стало"] - table["было"], atol=1e-3)
