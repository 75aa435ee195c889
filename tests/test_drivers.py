"""Driver analysis against hand-computed cases."""
import numpy as np
import pandas as pd
import pytest

from cxtext.drivers import benjamini_hochberg, drivers, examples, shapley_r2, trend_changes, trends
from cxtext.errors import InputError


def survey(rows: list[tuple[int, str, int]]) -> pd.DataFrame:
    """(score, topics, count) blocks -> a labelled frame."""
    out = [{"score": s, "topics": t, "is_general": t == ""} for s, t, k in rows for _ in range(k)]
    return pd.DataFrame(out)


# 100 answers, 30 promoters and 20 detractors (NPS 10). Topic "fees_prices": 13 P, 27 passive, 10 D
# (NPS 6); the other 50: 17 P, 23 passive, 10 D (NPS 14). Removing the topic gives 14: impact -4.
HAND = survey([(10, "fees_prices", 13), (7, "fees_prices", 27), (2, "fees_prices", 10),
               (10, "reachability", 17), (8, "reachability", 23), (0, "", 10)])


def test_a_topic_whose_removal_moves_nps_from_10_to_14_has_impact_minus_4():
    table = drivers(HAND, "score", "nps").set_index("topic")
    assert table.attrs["overall"]["value"] == pytest.approx(10.0)
    fees = table.loc["fees_prices"]
    assert fees["n"] == 50 and fees["share"] == pytest.approx(0.5)
    assert fees["score"] == pytest.approx(6.0)
    assert fees["score_without"] == pytest.approx(14.0)
    assert fees["impact"] == pytest.approx(-4.0)
    assert fees["gap"] == pytest.approx(4.0)
    assert fees["impact_low"] <= -4.0 <= fees["impact_high"]


def random_survey(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    topics = rng.choice(["reachability", "fees_prices", "reachability;fees_prices", "staff_attitude", "",
                         "speed;staff_attitude"], size=n)
    return pd.DataFrame({"score": rng.integers(0, 11, n), "csi": rng.integers(1, 6, n), "topics": topics,
                         "is_general": np.where(topics == "", "true", "false")})


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("col, scale", [("score", "nps"), ("csi", "csi")])
def test_impact_equals_share_times_topic_score_minus_the_rest(seed, col, scale):
    table = drivers(random_survey(seed), col, scale, interval="analytic")
    assert len(table) == 4
    expected = table["share"] * (table["score"] - table["score_without"])
    assert np.allclose(table["impact"], expected)


def test_shapley_shares_add_up_to_the_r2_of_the_full_regression():
    rng = np.random.default_rng(7)
    X = (rng.random((400, 5)) < 0.3).astype(float)
    X[:, 1] = np.where(rng.random(400) < 0.8, X[:, 0], X[:, 1])  # topics 0 and 1 often co-occur
    y = 3 - 2 * X[:, 0] + 0.5 * X[:, 2] + rng.normal(0, 1, 400)
    values, r2 = shapley_r2(X, y)
    design = np.c_[np.ones(400), X]
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    r2_ols = 1 - np.sum((y - design @ beta) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 == pytest.approx(r2_ols)
    assert values.sum() == pytest.approx(r2_ols)
    assert values.argmax() == 0


def test_a_topic_that_only_rides_along_with_the_real_driver_is_not_blamed_in_full():
    rng = np.random.default_rng(3)
    n = 2000
    reach = rng.random(n) < 0.3
    fees = reach & (rng.random(n) < 0.6)  # "fees" is mostly mentioned together with "reachability"
    score = np.clip(np.round(9 - 5 * reach + rng.normal(0, 1, n)), 0, 10)
    topics = np.where(fees, "reachability;fees_prices", np.where(reach, "reachability", "speed"))
    table = drivers(pd.DataFrame({"score": score, "topics": topics}), "score", interval="analytic")
    t = table.set_index("topic")
    assert t.loc["fees_prices", "impact"] < -10  # the naive impact blames fees heavily
    assert abs(t.loc["fees_prices", "impact_adjusted"]) < 3  # attribution does not
    assert t.loc["reachability", "shapley_r2"] > 2 * t.loc["fees_prices", "shapley_r2"]
    assert table["shapley_r2"].sum() == pytest.approx(table.attrs["r2"])


def test_benjamini_hochberg_matches_a_hand_computation():
    # sorted 0.005, 0.01, 0.03, 0.04 -> *4/rank: 0.02, 0.02, 0.04, 0.04 (monotone from the top)
    got = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(got, [0.02, 0.04, 0.04, 0.02])
    assert np.allclose(benjamini_hochberg([0.5, np.nan, 0.01]), [0.5, np.nan, 0.02], equal_nan=True)


def test_an_empty_topic_column_gives_an_empty_table_that_says_so():
    frame = pd.DataFrame({"score": [9, 3, 7], "topics": ["", np.nan, ""], "is_general": [True, True, False]})
    table = drivers(frame, "score")
    assert len(table) == 0 and "topic" in table.columns
    assert "Темы не найдены" in table.attrs["note"]
    assert table.attrs["overall"]["n"] == 3


def test_too_general_comments_stay_in_the_total_but_out_of_topic_rows():
    frame = survey([(10, "fees_prices", 10), (0, "fees_prices", 10), (0, "", 20)])
    frame.loc[frame.index[-5:], "topics"] = "fees_prices"  # mislabelled general rows: a topic on "ужас"
    table = drivers(frame, "score", interval="analytic").set_index("topic")
    assert table.loc["fees_prices", "n"] == 20
    assert table.attrs["general_n"] == 20 and table.attrs["general_share"] == pytest.approx(0.5)
    assert table.attrs["overall"]["value"] == pytest.approx(-50.0)
    assert table.loc["fees_prices", "score_without"] == pytest.approx(-100.0)


def test_labelled_files_reread_from_csv_work_with_string_booleans_and_bad_scores():
    frame = pd.DataFrame({"score": ["10", "abc", "", "3", "8"], "topics": ["speed", "speed", np.nan, "", "speed"],
                          "is_general": ["false", "false", "true", "true", "False"]})
    table = drivers(frame, "score", n_boot=200)
    assert table.attrs["n"] == 3 and table.attrs["invalid_n"] == 2
    assert table.set_index("topic").loc["speed", "n"] == 2


def test_small_topics_are_flagged_under_300_and_greyed_under_30():
    frame = survey([(10, "speed", 320), (0, "fees_prices", 40), (5, "refunds", 10), (8, "", 100)])
    t = drivers(frame, "score", interval="analytic").set_index("topic")
    assert not t.loc["speed", "low_n"] and not t.loc["speed", "greyed"]
    assert t.loc["fees_prices", "low_n"] and not t.loc["fees_prices", "greyed"]
    assert t.loc["refunds", "greyed"]


def test_bootstrap_intervals_are_seeded_and_contain_the_estimate():
    frame = random_survey(5)
    a = drivers(frame, "score", seed=1, n_boot=300)
    b = drivers(frame, "score", seed=1, n_boot=300)
    pd.testing.assert_frame_equal(a, b)
    assert ((a["impact_low"] <= a["impact"]) & (a["impact"] <= a["impact_high"])).all()


def test_segments_repeat_the_table_per_channel():
    frame = random_survey(4).assign(channel=lambda f: np.where(f.index % 3 == 0, "Сайт", "Отделение"))
    table = drivers(frame, "score", segment_col="channel", interval="analytic")
    assert set(table["segment"]) == {"Все", "Сайт", "Отделение"}
    assert table[table["segment"] == "Сайт"]["n"].sum() < table[table["segment"] == "Все"]["n"].sum()
    with pytest.raises(InputError, match="region"):
        drivers(frame, "score", segment_col="region")


def test_trends_find_a_topic_that_grew_in_the_last_month():
    rng = np.random.default_rng(0)
    rows = []
    for month, app_share in (("2026-04", 0.05), ("2026-05", 0.05), ("2026-06", 0.30)):
        for _ in range(400):
            app = rng.random() < app_share
            rows.append({"date": f"{month}-15", "score": int(rng.integers(0, 5) if app else rng.integers(5, 11)),
                         "topics": "app_website" if app else "speed"})
    table = trends(pd.DataFrame(rows), "score", "nps", "date")
    assert sorted(table["period"].unique()) == ["2026-04", "2026-05", "2026-06"]
    changes = trend_changes(table).set_index("topic")
    app = changes.loc["app_website"]
    assert (app["period_prev"], app["period_last"]) == ("2026-05", "2026-06")
    assert app["share_change"] > 0.15 and app["significant"]
    assert changes.loc["__all__", "score_change"] < 0


def test_examples_are_the_most_confident_distinct_comments_per_topic():
    frame = pd.DataFrame({
        "text": ["не дозвониться", "не дозвониться", "висел на линии час", "бот по кругу", "всё хорошо"],
        "topics": ["reachability"] * 4 + [""], "confidence": [0.9, 0.9, 0.95, 0.2, 0.99],
        "is_general": [False] * 4 + [True], "score": [1, 1, 2, 3, 10]})
    got = examples(frame, k=2, score_col="score")
    reach = got[got["topic"] == "reachability"]
    assert list(reach["text"]) == ["висел на линии час", "не дозвониться"]
    assert got[got["topic"] == "__general__"]["text"].tolist() == ["всё хорошо"]


def test_three_equal_answers_are_not_significant_and_keep_an_honest_interval():
    frame = pd.DataFrame({"topics": ["delivery"] * 3 + ["speed"] * 27, "is_general": False,
                          "score": [0, 0, 0] + [10, 9, 5, 8, 10, 0, 7, 9, 10] * 3})
    delivery = drivers(frame, "score", "nps").set_index("topic").loc["delivery"]
    assert delivery["score"] == -100 and delivery["greyed"]
    assert not delivery["significant"]
    assert delivery["score_low"] == -100 and delivery["score_high"] > -50  # 3 answers say little
    assert delivery["p_value"] > 1e-3


def test_twelve_detractors_among_300_answers_are_significant_but_not_at_1e_72():
    # 12 of 12 detractors where 40% of the rest are: chance alone gives that about 0.4^12 = 2e-5 of the time
    frame = survey([(0, "delivery", 12), (2, "speed", 115), (7, "speed", 60), (10, "speed", 113)])
    delivery = drivers(frame, "score", "nps", interval="analytic").set_index("topic").loc["delivery"]
    assert 1e-8 < delivery["p_value"] < 1e-3
    assert delivery["impact_low"] < delivery["impact"] < delivery["impact_high"] < 0


@pytest.mark.parametrize("col, scale, low, high", [("score", "nps", -100, 100), ("csi", "csi", 1, 5)])
def test_score_intervals_of_small_groups_stay_on_the_scale(col, scale, low, high):
    # 6 answers about payments in a month, NPS 66.7: a plain normal interval reaches 126
    frame = pd.DataFrame({"date": "2024-01-15", "score": [10, 10, 10, 10, 9, 0, 3, 5, 8, 7],
                          "csi": [5, 5, 5, 5, 5, 1, 2, 3, 4, 4], "topics": ["payments"] * 6 + ["speed"] * 4})
    for table in (trends(frame, col, scale, "date"), drivers(frame, col, scale, interval="analytic")):
        assert (table["score_low"] >= low).all() and (table["score_high"] <= high).all()
        assert (table["score_low"] < table["score_high"]).all()


def test_rows_without_a_readable_date_are_left_out_of_the_trends_only():
    frame = pd.DataFrame({"date": ["22.01.2024", "24.02.2024", "10.04.2024", "23.04.2024", "03.04.2024",
                                   "14.05.2024", "07.01.2024", "вчера"],
                          "score": [0, 2, 9, 4, 8, 5, 5, 10], "topics": "speed"})
    table = trends(frame, "score", "nps", "date")
    assert sorted(table["period"].unique()) == ["2024-01", "2024-02", "2024-04", "2024-05"]
    assert table.loc[table["topic"] == "__all__", "n"].sum() == 7


def test_trends_read_dates_with_and_without_a_time_zone():
    frame = pd.DataFrame({"date": ["2024-05-01", "2024-05-03T10:00:00+03:00", "2024-06-01"],
                          "score": [2, 10, 5], "topics": ["reachability", "", "app_website"]})
    table = trends(frame, "score", "nps", "date")
    assert table.loc[table["topic"] == "__all__", "n"].tolist() == [2, 1]


def test_the_analytic_impact_interval_covers_the_true_impact_of_a_rare_topic():
    # 300 surveys of 1000 answers; "speed" is named by 3% of them, half its answers detractors (NPS -30 against
    # +30): true impact 0.03 * -60 = -1.8. The share is a sample figure too, or the interval covers ~70%.
    from cxtext.taxonomy import load_taxonomy

    tax, rng, n = load_taxonomy(), np.random.default_rng(11), 1000
    p_topic, p_rest = [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]  # detractor, passive, promoter
    true, hits = 0.03 * (-30 - 30), 0
    for _ in range(300):
        topic = rng.random(n) < 0.03
        score = np.where(topic, rng.choice([3, 7, 10], n, p=p_topic), rng.choice([3, 7, 10], n, p=p_rest))
        frame = pd.DataFrame({"score": score, "topics": np.where(topic, "speed", "reachability")})
        row = drivers(frame, "score", "nps", interval="analytic", taxonomy=tax).set_index("topic").loc["speed"]
        hits += row["impact_low"] <= true <= row["impact_high"]
    assert 0.90 <= hits / 300 <= 0.99


@pytest.mark.parametrize("scale, low, high, span", [("nps", 0, 10, 200), ("csi", 1, 5, 4)])
def test_an_impact_interval_stays_within_what_an_impact_can_be(scale, low, high, span):
    # 100 answers at the bottom with the topic, one at the top without: overall and the rest are both on the
    # scale, so the impact is within +-(high - low) of the per-answer values
    frame = pd.DataFrame({"score": [low] * 100 + [high], "topics": ["speed"] * 100 + ["reachability"]})
    table = drivers(frame, "score", scale, interval="analytic")
    assert (table["impact_low"] >= -span).all() and (table["impact_high"] <= span).all()


def test_answers_that_are_all_too_general_are_named_as_the_reason_for_no_topics():
    frame = pd.DataFrame({"score": [9, 3, 7], "topics": ["", "", ""], "is_general": True})
    note = drivers(frame, "score").attrs["note"]
    assert "Темы не найдены" in note and "слишком общие" in note and "колонка тем пуста" not in note


def test_what_changed_compares_the_last_two_periods_that_have_scores():
    frame = pd.DataFrame({"date": ["2024-01-10"] * 4 + ["2024-02-10"] * 4 + ["2024-03-10"] * 2,
                          "score": [9, 3, 10, 8, 2, 3, 9, 0, "нет", ""], "topics": "speed"})
    changes = trend_changes(trends(frame, "score", "nps", "date")).set_index("topic")
    assert (changes.loc["__all__", "period_prev"], changes.loc["__all__", "period_last"]) == ("2024-01", "2024-02")
    assert changes.loc["__all__", "score_change"] == pytest.approx(-50 - 25)  # NPS 25 -> -50


@pytest.mark.parametrize("labels, prev, last", [
    (["Q3 2023", "Q4 2023", "Q1 2024"], "2023Q4", "2024Q1"),
    (["Ноябрь 2023", "Декабрь 2023", "Январь 2024"], "2023-12", "2024-01"),
    (["неделя 1", "неделя 2", "неделя 10"], "неделя 2", "неделя 10"),
])
def test_trends_follow_time_not_the_alphabet(labels, prev, last):
    frame = pd.DataFrame({"period": np.repeat(labels, 5), "score": [9, 3, 10, 8, 2] * 3, "topics": "speed"})
    table = trends(frame, "score", "nps", "period")
    assert list(dict.fromkeys(table["period"]))[-2:] == [prev, last]
    change = trend_changes(table).iloc[0]
    assert (change["period_prev"], change["period_last"]) == (prev, last)
