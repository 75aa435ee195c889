"""Survey and contact metrics against hand-computed cases."""
import math

import numpy as np
import pandas as pd
import pytest

from cxtext.errors import InputError
from cxtext.scores import (Estimate, clean_scores, contact_metrics, contact_points, get_scale, mean_score,
                           negative_share, nps, read_volume, reliability, score, topic_matrix, weighted_index)


def answers(promoters: int, passives: int, detractors: int) -> pd.Series:
    return pd.Series([10] * promoters + [7] * passives + [3] * detractors)


def test_nps_of_30_promoters_and_20_detractors_in_100_is_10_with_the_standard_error():
    est = nps(answers(30, 50, 20))
    assert est.value == pytest.approx(10.0)
    # var = pP + pD - (pP - pD)^2 = 0.3 + 0.2 - 0.01 = 0.49; SE = 100 * sqrt(0.49 / 100) = 7
    assert est.se == pytest.approx(7.0)
    assert (est.low, est.high) == pytest.approx((10 - 1.96 * 7, 10 + 1.96 * 7), abs=0.01)
    assert est.n == 100


@pytest.mark.parametrize("scores, expected", [
    ([9, 10, 9, 10], 100.0), ([0, 6, 5], -100.0), ([7, 8], 0.0), ([9, 8, 6], 0.0), ([8, 9, 9, 0], 25.0),
])
def test_nps_counts_9_10_as_promoters_and_0_6_as_detractors(scores, expected):
    assert nps(pd.Series(scores)).value == pytest.approx(expected)


def test_bad_scores_are_counted_per_reason_never_dropped_silently():
    raw = pd.Series(["10", "", None, "abc", "11", "-1", "7", 5, "8,0"])
    clean, quality = clean_scores(raw, "nps")
    assert clean.notna().sum() == 4  # 10, 7, 5, 8,0
    counts = dict(zip(quality["reason"], quality["n"]))
    assert counts == {"пропуск оценки": 2, "оценка не число": 1, "оценка вне шкалы": 2}
    assert quality["n"].sum() + clean.notna().sum() == len(raw)
    assert "abc" in quality.set_index("reason").loc["оценка не число", "examples"]


def test_csi_mean_and_negative_share_on_a_1_to_5_scale():
    s = pd.Series([1, 2, 3, 4, 5])
    assert mean_score(s, "csi").value == pytest.approx(3.0)
    assert mean_score(s, "csi").se == pytest.approx(np.std([1, 2, 3, 4, 5], ddof=1) / math.sqrt(5))
    neg = negative_share(s, "csi")
    assert neg.value == pytest.approx(60.0)  # 1-3 are negative by default
    assert neg.low < 60 < neg.high
    assert negative_share(s, "csi", negative_high=2).value == pytest.approx(40.0)


def test_ces_on_a_1_to_7_scale_and_a_declared_scale():
    clean, quality = clean_scores(pd.Series([1, 7, 6, 8]), "ces7")
    assert clean.notna().sum() == 3 and quality["n"].sum() == 1
    assert score(clean, "ces7").value == pytest.approx(14 / 3)
    scale = get_scale("csi", low=0, high=100)
    assert clean_scores(pd.Series([0, 100, 101]), scale)[0].notna().sum() == 2


def test_unknown_scale_says_what_to_use():
    with pytest.raises(InputError, match="nps"):
        get_scale("stars")


def test_weighted_roll_up_of_a_coffee_shop_hall_70_and_delivery_30():
    hall = Estimate(4.5, 0.1, 4.3, 4.7, 400)
    delivery = Estimate(3.5, 0.2, 3.1, 3.9, 150)
    shop = weighted_index({"hall": hall, "delivery": delivery}, {"hall": 70, "delivery": 30})
    assert shop.value == pytest.approx(0.7 * 4.5 + 0.3 * 3.5)
    assert shop.se == pytest.approx(math.sqrt((0.7 * 0.1) ** 2 + (0.3 * 0.2) ** 2))
    assert shop.n == 550
    business = weighted_index({"coffee": shop, "bakery": Estimate(4.0, 0.1, 3.8, 4.2, 300)},
                              {"coffee": 0.5, "bakery": 0.5})
    assert business.value == pytest.approx((shop.value + 4.0) / 2)
    with pytest.raises(InputError, match="kitchen"):
        weighted_index({"hall": hall}, {"kitchen": 1})


@pytest.mark.parametrize("n, flag", [(1000, "ok"), (300, "ok"), (299, "low_n"), (30, "low_n"), (29, "too_few")])
def test_every_figure_carries_its_n_and_a_reliability_flag(n, flag):
    assert reliability(n) == flag
    assert nps(pd.Series([9] * n)).reliability == flag


def labelled_contacts() -> pd.DataFrame:
    return pd.DataFrame({
        "group": ["consultation", "complaint", "claim", "gratitude", "complaint"],
        "topics": ["reachability", "reachability;fees_prices", np.nan, "", "fees_prices"],
        "is_repeat": ["false", "true", "False", "0", "нет"],
        "back_office": ["false", "false", "true", "false", "true"],
        "date": ["2026-01-05", "2026-01-20", "2026-02-02", "2026-02-10", "2026-02-11"],
    })


def test_group_points_add_3_for_a_repeat_contact():
    assert list(contact_points(labelled_contacts())) == [1, 2 + 3, 2, 0, 2]


def test_contact_cost_counts_back_office_contacts_at_330():
    m = contact_metrics(labelled_contacts())
    groups = m["groups"].set_index("group")
    assert groups.loc["complaint", "contacts"] == 2
    assert groups.loc["complaint", "cost"] == 130 + 330
    assert groups.loc["claim", "cost"] == 330
    assert m["groups"]["cost"].sum() == 3 * 130 + 2 * 330
    topics = m["topics"].set_index("topic")
    assert topics.loc["reachability", "contacts"] == 2 and topics.loc["reachability", "points"] == 6
    assert topics.loc["fees_prices", "topic_name"] == "Тарифы, цены и комиссии"


def test_contact_rate_divides_contacts_by_business_volume_per_period():
    volume = pd.DataFrame({"period": ["2026-01", "2026-02"], "volume": [1000, 3000]})
    m = contact_metrics(labelled_contacts(), period_col="date", volume=volume)
    per = m["periods"].set_index("period")
    assert per.loc["2026-01", "rate"] == pytest.approx(2 / 1000)
    assert per.loc["2026-02", "rate"] == pytest.approx(3 / 3000)
    assert m["topics"].set_index("topic").loc["fees_prices", "rate"] == pytest.approx(2 / 4000)
    tp = m["topic_periods"].set_index(["period", "topic"])
    assert tp.loc[("2026-02", "fees_prices"), "rate"] == pytest.approx(1 / 3000)


def test_a_volume_table_without_its_columns_is_refused_with_the_fix():
    with pytest.raises(InputError, match="period.*volume"):
        contact_metrics(labelled_contacts(), volume=pd.DataFrame({"month": ["2026-01"], "orders": [5]}))


def test_topic_matrix_reads_strings_lists_and_nan():
    m = topic_matrix(pd.Series(["a;b", np.nan, "", ["b"], "b; c"]), order=["c", "b"])
    assert list(m.columns) == ["c", "b", "a"]
    assert m.sum().to_dict() == {"c": 1, "b": 3, "a": 1}


@pytest.mark.parametrize("values, expected", [
    (["05.02.2026", "31.01.2026 10:00"], ["2026-02", "2026-01"]),  # Russian day-first exports
    (["2026-02-05", "2026-03-01"], ["2026-02", "2026-03"]),
    (["05.02.2026", "31.01.2026", "2026-03-04"], ["2026-02", "2026-01", "2026-03"]),  # ISO is never day first
    (["2024-05-01", "2024-06-01T01:00:00+03:00"], ["2024-05", "2024-06"]),  # a zone is dropped, the time kept
    (["Q1", "Q2"], ["Q1", "Q2"]),  # not dates: kept as period labels
])
def test_periods_are_months_of_dates_or_the_labels_given(values, expected):
    from cxtext.scores import period_of

    assert list(period_of(pd.Series(values))) == expected


def test_mixed_time_zones_and_unreadable_dates_are_read_or_counted():
    from cxtext.scores import clean_periods

    periods, quality = clean_periods(pd.Series(["2024-05-01", "2024-05-03T10:00:00+03:00", "31.05.2024",
                                                "вчера", "2024-06-01", "", "2024-06-02"]))
    assert periods.tolist()[:3] == ["2024-05"] * 3 and periods.tolist()[-1] == "2024-06"
    assert periods.isna().tolist() == [False, False, False, True, False, True, False]
    counts = dict(zip(quality["reason"], quality["n"]))
    assert counts == {"пропуск даты (нет в динамике)": 1, "дата не распознана (нет в динамике)": 1}
    assert "вчера" in quality["examples"].iloc[1]


@pytest.mark.parametrize("values, expected", [
    ([0, 10, 7] * 10 + [11], "nps"),  # a stray 11 still reads as a 0-10 survey
    ([1, 7, 4], "ces7"),
    (["abc"], None),
])
def test_the_scale_that_fits_the_answers_is_suggested(values, expected):
    from cxtext.scores import suggest_scale

    assert suggest_scale(pd.Series(values)) == expected


def test_the_headline_score_of_a_few_answers_keeps_an_honest_interval():
    three = score(pd.Series([0, 0, 0]), "nps")  # the plain interval reads -100..-100
    assert three.value == -100 and three.low == -100 and three.high == pytest.approx(23.5, abs=0.1)
    one = score(pd.Series([5]), "csi")  # the plain interval has none
    assert one.value == 5 and 1 <= one.low < 5 and one.high == 5
    twenty = score(pd.Series([5] * 20), "csi")
    assert twenty.low < 5 and twenty.se > 0 and twenty.reliability == "too_few"


def test_the_headline_interval_of_300_answers_is_the_plain_one_within_a_point():
    big = answers(90, 120, 90)
    smoothed, plain = score(big, "nps"), nps(big)
    assert smoothed.value == plain.value and smoothed.n == 300
    assert (smoothed.low, smoothed.high) == pytest.approx((plain.low, plain.high), abs=1.0)


def test_a_weighted_index_stays_on_the_scale_of_its_parts():
    hall = Estimate(4.9, 0.1, 4.7, 5.0, 40)
    assert weighted_index({"hall": hall}, {"hall": 1}, scale="csi").high == 5.0


@pytest.mark.parametrize("values, expected", [
    (["11.2023", "12.2023", "01.2024"], ["2023-11", "2023-12", "2024-01"]),  # a Russian export's MM.YYYY
    (["11/2023", "01/2024"], ["2023-11", "2024-01"]),
    (["2023-11", "2024-01"], ["2023-11", "2024-01"]),
    (["Q3 2023", "Q4 2023", "q1-2024"], ["2023Q3", "2023Q4", "2024Q1"]),
    (["3 кв. 2023", "4 квартал 2023", "1-й квартал 2024 г."], ["2023Q3", "2023Q4", "2024Q1"]),
    (["2023 Q4", "2024Q1"], ["2023Q4", "2024Q1"]),
    (["Январь 2024", "ФЕВРАЛЯ 2024", "дек. 2023", "сент 2023", "май 2024"],
     ["2024-01", "2024-02", "2023-12", "2023-09", "2024-05"]),
])
def test_period_labels_of_exports_are_read_as_periods(values, expected):
    from cxtext.scores import period_of

    assert list(period_of(pd.Series(values))) == expected


@pytest.mark.parametrize("labels, expected", [
    (["Q3 2023", "Q4 2023", "Q1 2024"], ["2023Q3", "2023Q4", "2024Q1"]),
    (["Январь 2024", "Декабрь 2023", "Март 2024"], ["2023-12", "2024-01", "2024-03"]),
    (["неделя 10", "неделя 2", "неделя 1", "неделя 2"], ["неделя 1", "неделя 2", "неделя 10"]),  # natural order
    (["Март", "Январь", "Февраль"], ["Январь", "Февраль", "Март"]),  # a month without a year sorts as its number
])
def test_periods_sort_in_time_order_not_as_text(labels, expected):
    from cxtext.scores import clean_periods, sort_periods

    assert sort_periods(clean_periods(pd.Series(labels))[0]) == expected


def test_contacts_without_a_group_are_counted_so_the_totals_add_up():
    frame = labelled_contacts()
    frame.loc[[1, 3], "group"] = [np.nan, None]
    m = contact_metrics(frame)
    groups = m["groups"].set_index("group_name")
    assert groups.loc["без группы (текст не обработан)", "contacts"] == 2
    assert m["groups"]["contacts"].sum() == len(frame)
    assert m["groups"]["cost"].sum() == pytest.approx(3 * 130 + 2 * 330)


def test_scores_written_with_words_are_read_when_their_top_is_the_scale():
    values, quality = clean_scores(pd.Series(["9 баллов", "3 балла", "7 из 10", "10/10", "5 звёзд", "4 из 5", "x"]),
                                   "nps")
    assert values.tolist()[:5] == [9, 3, 7, 10, 5] and np.isnan(values.tolist()[5:]).all()  # "4 из 5" is not NPS
    assert quality.set_index("reason").loc["оценка не число", "n"] == 2


def test_what_exports_write_for_no_answer_is_a_missing_score():
    _, quality = clean_scores(pd.Series(["н/д", "-", "nan", "9"]), "nps")
    assert quality.set_index("reason").loc["пропуск оценки", "n"] == 3 and "оценка не число" not in set(quality.reason)


def test_a_volume_table_in_cp1251_with_spaced_thousands_is_read(tmp_path):
    pd.DataFrame({"period": ["2024-01", "2024-02"], "volume": ["10 000", "1 500,5"]}).to_csv(
        tmp_path / "vol.csv", index=False, sep=";", encoding="cp1251")
    assert read_volume(tmp_path / "vol.csv")["volume"].tolist() == [10000, 1500.5]
