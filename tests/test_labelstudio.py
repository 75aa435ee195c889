"""cxtext.labelstudio: config, tasks with predictions, annotations back, as Label Studio writes them."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from cxtext.labels_io import LabelFileError
from cxtext.labelstudio import labeling_config, read_annotations, to_tasks, write_tasks
from cxtext.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy().with_topic("cashback_program", "Кешбэк-программа", "Начисление кешбэка")


@pytest.fixture(scope="module")
def config(tax):
    return ET.fromstring(labeling_config(tax))


LABELLED = pd.DataFrame({
    "text": ["перевод завис, верните деньги", "норм", "кешбэк не пришёл уже месяц, пишу второй раз"],
    "group": ["claim", "gratitude", "complaint"],
    "topics": ["payments;refunds", "", "cashback_program;speed"],
    "is_general": [False, True, False],
    "is_repeat": [False, False, True],
    "confidence": [0.9, 0.8, 0.4],
})


def choices(config, name: str) -> ET.Element:
    return next(c for c in config.iter("Choices") if c.get("name") == name)


def annotate_as_predicted(tasks: list[dict]) -> list[dict]:
    """What an annotator who accepts every prediction leaves in Label Studio's JSON export."""
    return [{"id": i + 1, "data": t["data"], "predictions": t.get("predictions", []),
             "annotations": [{"id": 100 + i, "completed_by": 7, "was_cancelled": False,
                              "result": t["predictions"][0]["result"]}]}
            for i, t in enumerate(tasks)]


def test_config_offers_the_taxonomy_and_stores_ids(tax, config):
    text = next(config.iter("Text"))
    assert (text.get("name"), text.get("value")) == ("text", "$text")
    group = choices(config, "group")
    assert group.get("choice") == "single-radio" and group.get("toName") == "text"
    assert [c.get("alias") for c in group] == tax.group_ids
    assert [c.get("value") for c in group][0] == "Консультация"
    topics = choices(config, "topics")
    assert topics.get("choice") == "multiple"
    assert [c.get("alias") for c in topics] == tax.topic_ids  # the analyst's own topic included
    assert choices(config, "is_general").get("toName") == "text"


def test_predictions_only_use_controls_and_choices_the_config_declares(config):
    declared = {c.get("name"): {x.get("alias") for x in c} for c in config.iter("Choices")}
    tasks = to_tasks(LABELLED)
    assert [t["data"]["text"] for t in tasks] == LABELLED["text"].tolist()
    for task in tasks:
        (prediction,) = task["predictions"]
        assert 0 <= prediction["score"] <= 1 and prediction["model_version"] == "cxtext"
        for item in prediction["result"]:
            assert item["type"] == "choices" and item["to_name"] == "text"
            assert set(item["value"]["choices"]) <= declared[item["from_name"]]


def test_accepted_predictions_come_back_as_the_same_labels(tax):
    back = read_annotations(annotate_as_predicted(to_tasks(LABELLED)), taxonomy=tax)
    for col in ("text", "group", "topics", "is_general", "is_repeat"):
        assert back[col].tolist() == LABELLED[col].tolist(), col
    assert back["annotator"].tolist() == [7, 7, 7]


def test_export_file_round_trip(tmp_path, tax):
    path = write_tasks(LABELLED, tmp_path / "tasks.json", data_cols=["confidence"])
    assert "перевод завис" in path.read_text("utf-8")  # Cyrillic as is, not \u escapes
    tasks = json.loads(path.read_text("utf-8"))
    assert tasks[0]["data"]["confidence"] == 0.9
    export = tmp_path / "export.json"
    export.write_text(json.dumps(annotate_as_predicted(tasks), ensure_ascii=False), encoding="utf-8")
    assert read_annotations(export, taxonomy=tax)["group"].tolist() == ["claim", "gratitude", "complaint"]


def test_unlabelled_frame_gives_tasks_without_predictions():
    tasks = to_tasks(pd.DataFrame({"comment": ["a", "b"]}), text_col="comment")
    assert tasks == [{"data": {"text": "a"}}, {"data": {"text": "b"}}]


def _task(tid, *annotations):
    return {"id": tid, "data": {"text": f"текст {tid}"}, "annotations": list(annotations)}


def _ann(group, topics=(), updated="2026-01-01T10:00:00", cancelled=False):
    result = [{"from_name": "group", "to_name": "text", "type": "choices", "value": {"choices": [group]}}]
    if topics:
        result.append({"from_name": "topics", "to_name": "text", "type": "choices",
                       "value": {"choices": list(topics)}})
    return {"result": result, "updated_at": updated, "was_cancelled": cancelled, "completed_by": 1}


def test_latest_annotation_wins_skipped_and_unlabelled_tasks_are_left_out(tax):
    export = [
        _task(1, _ann("complaint", updated="2026-01-02T00:00:00"), _ann("claim", updated="2026-01-03T00:00:00")),
        _task(2, _ann("gratitude"), _ann("complaint", updated="2026-02-01T00:00:00", cancelled=True)),
        _task(3),
    ]
    out = read_annotations(export, taxonomy=tax)
    assert out[["task", "group"]].values.tolist() == [[1, "claim"], [2, "gratitude"]]
    assert out.attrs["skipped"] == 1


def test_choices_by_russian_name_are_understood(tax):
    out = read_annotations([_task(1, _ann("Претензия", ["Кешбэк-программа"]))], taxonomy=tax)
    assert (out.loc[0, "group"], out.loc[0, "topics"]) == ("claim", "cashback_program")


def test_json_min_export(tax):
    export = [{"id": 5, "text": "кешбэк и приложение", "group": "complaint",
               "topics": {"choices": ["cashback_program", "app_website"]}, "is_general": "",
               "annotator": "anna@bank.ru"},
              {"id": 6, "text": "норм", "group": "gratitude", "is_general": "true"},
              {"id": 7, "text": "ещё не размечен"}]
    out = read_annotations(export, taxonomy=tax)
    assert out["topics"].tolist() == ["cashback_program;app_website", ""]
    assert out["is_general"].tolist() == [False, True]
    assert out.attrs["skipped"] == 1


def test_bad_choices_are_reported_by_task(tax):
    two_groups = _ann("claim")
    two_groups["result"][0]["value"]["choices"] = ["claim", "complaint"]
    with pytest.raises(LabelFileError) as err:
        read_annotations([_task(1, _ann("complaint", ["no_such_topic"])), _task(2, two_groups)],
                         taxonomy=load_taxonomy())
    assert {(p.row, p.column) for p in err.value.problems} == {("task 1", "topics"), ("task 2", "group")}
    assert "task 1, column 'topics'" in str(err.value)


# -- personal data, ids, two annotators ---------------------------------------------------------------

PERSONAL = "Перезвоните на +7 912 345-67-89, карта 4276 3800 1234 5678, ivan.petrov@mail.ru, Петров Иван Сергеевич"
SECRETS = ["912 345-67-89", "4276 3800 1234 5678", "ivan.petrov@mail.ru", "Петров", "Иван"]


def test_tasks_hold_no_personal_data(tmp_path):
    frame = pd.DataFrame({"text": [PERSONAL], "group": ["claim"], "source_id": ["A-1"]})
    written = write_tasks(frame, tmp_path / "tasks.json", data_cols=["source_id"]).read_text("utf-8")
    assert [s for s in SECRETS if s in written] == []
    assert "<PHONE>" in written and "<CARD>" in written and "<EMAIL>" in written and "<NAME>" in written


def test_the_source_id_comes_back_with_the_labels(tax):
    frame = LABELLED.assign(id=[101, 102, 103], segment=["web", "app", "app"])
    back = read_annotations(annotate_as_predicted(to_tasks(frame, data_cols=["id", "segment"])), taxonomy=tax)
    assert back["id"].tolist() == [101, 102, 103] and back["segment"].tolist() == ["web", "app", "app"]
    assert back["task"].tolist() == [1, 2, 3]  # Label Studio's own id stays apart


def test_a_data_key_named_like_a_label_column_is_kept_apart(tax):
    task = _task(1, _ann("claim"))
    task["data"]["group"] = "VIP"
    out = read_annotations([task], taxonomy=tax)
    assert (out.loc[0, "group"], out.loc[0, "data_group"]) == ("claim", "VIP")


def _min(tid, group, annotator, updated, **extra):
    """A JSON-MIN row: one per annotation, the task's data beside the choices."""
    return {"id": tid, "text": f"текст {tid}", "group": group, "annotator": annotator, "updated_at": updated,
            **extra}


def test_two_annotators_give_one_row_per_task_and_their_disagreement_in_both_formats(tax):
    def ann(group, who, updated):
        return dict(_ann(group, updated=updated), completed_by=who)

    json_export = [_task(1, ann("claim", 1, "2026-01-01"), ann("complaint", 2, "2026-01-02")),
                   _task(2, ann("gratitude", 1, "2026-01-01"), ann("Благодарность", 2, "2026-01-03")),
                   _task(3, ann("claim", 1, "2026-01-01"), ann("complaint", 1, "2026-01-05"))]  # changed mind
    json_min = [_min(1, "complaint", 2, "2026-01-02"), _min(1, "claim", 1, "2026-01-01"),
                _min(2, "gratitude", 1, "2026-01-01"), _min(2, "Благодарность", 2, "2026-01-03"),
                _min(3, "claim", 1, "2026-01-01"), _min(3, "complaint", 1, "2026-01-05")]
    for export in (json_export, json_min):
        out = read_annotations(export, taxonomy=tax)
        assert out[["task", "group", "annotator", "disagree"]].values.tolist() == [
            [1, "complaint", 2, True], [2, "gratitude", 2, False], [3, "complaint", 1, False]]
        assert out.attrs["disagreements"] == [1]


def test_json_min_data_keys_come_back(tax):
    out = read_annotations([_min(5, "claim", 1, "2026-01-01", source_id="A-7", lead_time=3.2)], taxonomy=tax)
    assert out.loc[0, "source_id"] == "A-7" and "lead_time" not in out


def test_an_annotator_given_as_a_user_object_is_read_by_its_id():
    tasks = [{"id": 1, "data": {"text": "курьер опоздал"}, "annotations": [
        {"completed_by": {"id": 7, "email": "a@x.ru"}, "updated_at": "2024-01-01",
         "result": [{"from_name": "group", "type": "choices", "value": {"choices": ["complaint"]}}]}]}]
    assert read_annotations(tasks).loc[0, "annotator"] == 7
