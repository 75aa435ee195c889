"""Metrics an analyst reads after retraining, and how far each can be trusted."""
import numpy as np
import pandas as pd
import pytest

from cxtext.evaluate import format_metrics, score_labels

TOPICS = ["speed", "payments", "app_website"]


def _sample(n: int, error_rate: float, seed: int = 1):
    """True labels and predictions that are wrong on about `error_rate` of the texts."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(["complaint", "consultation", "gratitude"], size=n).tolist()
    topics = [[t for t in TOPICS if rng.random() < 0.4] for _ in range(n)]
    general = (rng.random(n) < 0.2).tolist()
    wrong = rng.random(n) < error_rate
    pred = pd.DataFrame({
        "group": ["claim" if w else g for g, w in zip(groups, wrong)],
        "topics": [";".join(TOPICS[:1] if w else t) for t, w in zip(topics, wrong)],
        "is_general": [(not g) if w else g for g, w in zip(general, wrong)],
    })
    return pred, groups, topics, general


def test_perfect_predictions_score_one_with_a_zero_width_interval():
    pred, groups, topics, general = _sample(200, 0.0)
    m = score_labels(pred, groups, topics, general, TOPICS)
    assert m["topic_micro_f1"] == 1.0 and m["general_f1"] == 1.0 and m["group_macro_f1"] == 1.0
    assert m["intervals_95"] == {"group_macro_f1": [1.0, 1.0], "topic_micro_f1": [1.0, 1.0],
                                 "general_f1": [1.0, 1.0]}


@pytest.mark.parametrize("name", ["group_macro_f1", "topic_micro_f1", "general_f1"])
def test_interval_holds_the_figure_and_narrows_with_more_texts(name):
    small = score_labels(*_sample(150, 0.3), TOPICS)
    large = score_labels(*_sample(3000, 0.3), TOPICS)
    for m in (small, large):
        low, high = m["intervals_95"][name]
        assert low < m[name] < high
    width = lambda m: m["intervals_95"][name][1] - m["intervals_95"][name][0]  # noqa: E731
    assert width(large) < width(small) / 2


def test_intervals_are_reproducible_and_printed():
    first = score_labels(*_sample(300, 0.25), TOPICS)
    again = score_labels(*_sample(300, 0.25), TOPICS)
    assert first["intervals_95"] == again["intervals_95"]
    text = format_metrics(first)
    low, high = first["intervals_95"]["topic_micro_f1"]
    assert f"topics micro-F1 {first['topic_micro_f1']:.3f} (95% CI {low:.3f}-{high:.3f})" in text


def test_a_figure_the_set_cannot_give_is_none_with_its_reason_never_nan():
    import json

    # four texts, right every time: but no group has 5 texts, none has a topic, none is too general
    pred = pd.DataFrame({"group": ["complaint", "complaint", "gratitude", "gratitude"], "topics": [""] * 4,
                         "is_general": [False] * 4, "is_repeat": [False] * 4})
    m = score_labels(pred, list(pred["group"]), [[]] * 4, [False] * 4, TOPICS, is_repeat=[False] * 4)
    assert m["group_accuracy"] == 1.0
    for name in ("group_macro_f1", "topic_micro_f1", "topic_macro_f1", "general_f1", "repeat_f1"):
        assert m[name] is None and m["not_measured"][name], name
    assert m["not_measured"]["group_macro_f1"] == "no group has 5 texts in this set"
    assert m["per_topic"]["speed"] == {"precision": None, "recall": None, "f1": None, "support": 0}
    assert m["intervals_95"] == {}
    json.dumps(m, allow_nan=False)  # JSON null, not NaN
    text = format_metrics(m)
    assert "nan" not in text
    assert "group accuracy 1.000  macro-F1 n/a: no group has 5 texts in this set" in text
    assert "is_general F1 n/a: no text in this set is, or is called, too general" in text


def test_a_label_predicted_but_never_true_scores_zero_not_undefined():
    pred = pd.DataFrame({"group": ["complaint"] * 5, "topics": ["speed"] * 5, "is_general": [True] * 5})
    m = score_labels(pred, ["complaint"] * 5, [[]] * 5, [False] * 5, TOPICS)
    assert m["topic_micro_f1"] == 0.0 and m["general_f1"] == 0.0 and m["per_topic"]["speed"]["f1"] == 0.0
    assert m["topic_macro_f1"] is None  # a mean over the topics the texts have: there are none
    assert m["group_macro_f1"] == 1.0 and set(m["not_measured"]) == {"topic_macro_f1"}


def test_a_tiny_sample_gets_no_interval_and_says_why():
    # three too-general texts, all found: resamples without one are no evidence of an F1 of 0
    pred, groups, topics, general = _sample(40, 0.0)
    general = [i < 3 for i in range(40)]
    pred["is_general"] = general
    m = score_labels(pred, groups, topics, general, TOPICS)
    assert "general_f1" not in m["intervals_95"]
    assert m["intervals_not_given"]["general_f1"] == "no interval: only 3 text(s) have or are given the label"
    assert "is_general F1 1.000 (no interval: only 3 text(s)" in format_metrics(m)
    assert m["intervals_95"]["topic_micro_f1"] == [1.0, 1.0]


def test_group_macro_f1_names_the_groups_it_covers_when_some_are_too_small():
    groups = ["complaint"] * 6 + ["consultation"] * 6 + ["claim"] * 2
    pred = pd.DataFrame({"group": groups, "topics": [""] * 14, "is_general": [False] * 14})
    m = score_labels(pred, groups, [[]] * 14, [False] * 14, TOPICS)
    assert m["group_macro_f1_groups"] == ["complaint", "consultation"]
    assert "macro-F1 1.000 (95% CI 1.000-1.000) over complaint, consultation (groups with enough texts)" \
        in format_metrics(m)
    full = score_labels(*_sample(200, 0.1), TOPICS)
    assert "groups with enough texts" not in format_metrics(full)  # every labelled group is covered
