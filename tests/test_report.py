"""Reports: Excel safe from formula injection, a self-contained Russian HTML page, the sample survey."""
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cxtext.errors import InputError
from cxtext.report import make_report
from cxtext.scores import nps
from cxtext.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "cxtext" / "data" / "sample_survey.csv"
HOSTILE = ['=HYPERLINK("http://evil.example","нажми")', "+100500 раз звонил, не дозвониться", "-очереди огромные",
           "@SUM(1+1)", "<script>alert('x')</script> приложение не работает",
           "перезвоните мне на 89161234567, приложение висит"]


def _generator():
    spec = importlib.util.spec_from_file_location("make_sample_survey", ROOT / "tests/tools/make_sample_survey.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def labelled() -> pd.DataFrame:
    """The sample survey with its planted labels, as the classifier would return it, plus hostile texts."""
    frame = _generator().build(n=1500, seed=7)
    tax = load_taxonomy()
    rng = np.random.default_rng(0)
    hostile = pd.DataFrame({"id": range(9001, 9001 + len(HOSTILE)), "date": "2026-06-30", "segment": "Сайт",
                            "score": "2", "text": HOSTILE, "is_general": False,
                            "topics": ["app_website", "reachability", "branch_queue", "fees_prices", "payments",
                                       "speed"],
                            "group": "complaint"})
    frame = pd.concat([frame, hostile], ignore_index=True)
    frame["group_name"] = frame["group"].map(tax.group_name)
    frame["confidence"] = np.where(frame["id"] > 9000, 1.0, rng.uniform(0.4, 0.99, len(frame)))
    frame["is_repeat"] = np.where(rng.random(len(frame)) < 0.05, "true", "false")
    frame["needs_review"], frame["status"] = False, "ok"
    return frame


@pytest.fixture(scope="session")
def report(labelled, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    volume = pd.DataFrame({"period": [f"2026-0{m}" for m in range(1, 7)], "volume": [40000] * 6})
    summary = make_report(labelled, [out / "r.xlsx", out / "r.html"], score_col="score", scale="nps",
                          period_col="date", segment_col="segment", volume=volume)
    return summary, out / "r.xlsx", out / "r.html"


def test_summary_gives_the_headline_score_n_and_paths(report, labelled):
    summary, xlsx, html = report
    expected = nps(pd.to_numeric(labelled["score"], errors="coerce").where(lambda s: s <= 10))
    assert summary["score"] == pytest.approx(expected.value)
    assert summary["n"] == expected.n and summary["excluded"] == len(labelled) - expected.n
    assert summary["paths"] == [str(xlsx), str(html)]
    assert summary["pulls_down"][0] == "Дозвон и ожидание ответа"  # the planted main driver
    assert 0.15 < summary["general_share"] < 0.25


def test_excel_has_russian_sheets_frozen_headers_and_formats(report):
    wb = openpyxl.load_workbook(report[1])
    assert wb.sheetnames == ["Сводка", "Драйверы", "Сегменты", "Динамика", "Изменения", "Обращения", "Примеры",
                             "Качество данных"]
    ws = wb["Драйверы"]
    assert ws.freeze_panes == "A2"
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["Тема", "Ответов с темой", "Доля ответов"]
    assert ws.cell(2, 3).number_format == "0.0%"
    assert ws.column_dimensions["A"].width >= 20
    reasons = [r[0].value for r in wb["Качество данных"].iter_rows(min_row=2)]
    assert "оценка не число" in reasons and "оценка вне шкалы" in reasons


def test_no_excel_cell_becomes_a_formula_even_for_hostile_comments(report):
    wb = openpyxl.load_workbook(report[1])
    formulas = [(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    texts = {c.value for c in wb["Примеры"]["B"]}
    for comment in HOSTILE[:4]:
        assert comment in texts  # kept verbatim, as text


def test_example_comments_are_masked_again_in_both_reports(report):
    page = report[2].read_text("utf-8")
    cells = [str(c.value) for ws in openpyxl.load_workbook(report[1]) for row in ws.iter_rows() for c in row]
    assert "приложение висит" in page and any("приложение висит" in c for c in cells)
    assert "89161234567" not in page and not any("89161234567" in c for c in cells)


def test_html_is_self_contained_russian_and_escapes_comments(report):
    page = report[2].read_text("utf-8")
    assert '<html lang="ru">' in page
    assert not re.search(r"<(script|link|img|iframe)\b", page)  # no scripts, stylesheets or images to fetch
    assert "&lt;script&gt;alert(" in page
    for label in ("Исправлять в первую очередь", "Сильные стороны: сохранять", "Точечные проблемы",
                  "Слишком общие комментарии", "Примеры комментариев", "Динамика"):
        assert label in page
    assert page.count('class="topic-point"') == page.count('class="impact-bar"') >= 5


def test_an_empty_topic_column_gives_a_report_that_says_so(tmp_path):
    frame = pd.DataFrame({"score": [9, 3, 7, 10], "text": ["ок", "ужас", "норм", "супер"], "topics": "",
                          "is_general": True})
    summary = make_report(frame, [tmp_path / "e.xlsx", tmp_path / "e.html"], score_col="score", scale="nps")
    assert summary["topics"] == 0 and summary["n"] == 4
    assert "Темы не найдены" in (tmp_path / "e.html").read_text("utf-8")
    assert "Темы не найдены" in openpyxl.load_workbook(tmp_path / "e.xlsx")["Драйверы"]["A1"].value


def test_a_csi_survey_reports_its_mean_and_negative_share(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"csi": rng.integers(1, 6, 200), "topics": rng.choice(["speed", "delivery", ""], 200)})
    summary = make_report(frame, [tmp_path / "c.html"], score_col="csi", scale="csi")
    assert summary["metric"] == "CSI" and 1 <= summary["score"] <= 5
    assert "Доля негативных оценок" in (tmp_path / "c.html").read_text("utf-8")


@pytest.mark.parametrize("kwargs, message", [
    ({"outputs": ["r.pdf"], "score_col": "score"}, r"\.xlsx or \.html"),
    ({"outputs": ["r.html"], "score_col": "nps"}, "columns are: .*score"),
])
def test_bad_arguments_fail_with_the_fix(kwargs, message, tmp_path):
    frame = pd.DataFrame({"score": [1], "topics": ["speed"]})
    outputs = [tmp_path / p for p in kwargs.pop("outputs")]
    with pytest.raises(InputError, match=message):
        make_report(frame, outputs, scale="nps", **kwargs)


def _chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)


@pytest.mark.skipif(_chromium() is None, reason="no chromium binary found (apt-get install chromium)")
def test_headless_chromium_renders_the_charts(report, tmp_path):
    html = report[2]
    flags = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    png = tmp_path / "report.png"
    subprocess.run(flags + [f"--screenshot={png}", "--window-size=1280,2400", html.as_uri()],
                   capture_output=True, timeout=90, check=False)
    dom = subprocess.run(flags + ["--dump-dom", html.as_uri()], capture_output=True, timeout=90, text=True).stdout
    assert png.exists() and png.stat().st_size > 60_000  # a blank 1280x2400 page compresses to a few KB
    assert dom.count("<svg") >= 4 and 'class="topic-point"' in dom and 'class="trend-line"' in dom
    try:
        from PIL import Image
    except ImportError:
        return
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    ink = (pixels.sum(axis=2) < 600).mean()
    red = ((pixels[..., 0] > 150) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)).sum()
    assert ink > 0.01 and red > 500  # text is drawn and the red driver bars are there


def test_the_bundled_sample_survey_is_the_generator_output():
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["id", "date", "segment", "score", "text"]
    assert len(frame) >= 2000 and SAMPLE.stat().st_size < 1_000_000
    assert set(frame["segment"]) == {"Мобильное приложение", "Отделение", "Колл-центр", "Сайт"}
    months = pd.to_datetime(frame["date"]).dt.to_period("M").astype(str)
    assert sorted(months.unique()) == [f"2026-0{m}" for m in range(1, 7)]
    assert frame["text"].nunique() > 0.85 * len(frame)
    rebuilt = _generator().build()[["id", "date", "segment", "score", "text"]].astype(str)
    pd.testing.assert_frame_equal(rebuilt, frame, check_dtype=False)


def test_a_report_with_mixed_time_zones_and_an_unreadable_date_is_made(tmp_path):
    frame = pd.DataFrame({"date": ["2024-05-01", "2024-05-03T10:00:00+03:00", "вчера", "2024-06-01", "02.06.2024"],
                          "score": [2, 10, 9, 5, 8], "text": ["не дозвониться", "спасибо", "удобно", "виснет", "ок"],
                          "topics": ["reachability", "", "app_website", "app_website", "speed"],
                          "is_general": [False, True, False, False, False]})
    summary = make_report(frame, [tmp_path / "d.xlsx", tmp_path / "d.html"], score_col="score", scale="nps",
                          period_col="date")
    assert summary["n"] == 5 and summary["excluded"] == 0  # the undated row counts everywhere but the trends
    assert any("date" in w and "вчера" in w for w in summary["warnings"])
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    assert [r[:2] for r in wb["Качество данных"].iter_rows(min_row=2, values_only=True)] == [
        ("дата не распознана (нет в динамике)", 1)]
    assert sorted({r[0] for r in wb["Динамика"].iter_rows(min_row=2, values_only=True)}) == ["2024-05", "2024-06"]
    assert "дата не распознана" in (tmp_path / "d.html").read_text("utf-8")


def test_0_to_10_answers_read_as_csat_are_counted_and_the_cli_suggests_nps(tmp_path, capsys):
    from cxtext.cli import main

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"score": rng.integers(0, 11, 300), "text": "ок",
                          "topics": rng.choice(["speed", "delivery", "app_website"], 300)})
    off = int((frame["score"] > 5).sum() + (frame["score"] < 1).sum())
    frame.to_csv(tmp_path / "l.csv", index=False)
    assert main(["report", str(tmp_path / "l.csv"), "-o", str(tmp_path / "c.xlsx"), "--score-col", "score",
                 "--scale", "csat"]) == 0
    err = capsys.readouterr().err
    assert f"{off} of 300" in err and "csat" in err and "--scale nps" in err
    wb = openpyxl.load_workbook(tmp_path / "c.xlsx")
    assert ("оценка вне шкалы", off) in [r[:2] for r in wb["Качество данных"].iter_rows(values_only=True)]
    summary = dict(r[:2] for r in wb["Сводка"].iter_rows(values_only=True) if r[0])
    assert summary["Поднимают оценку"] == summary["Тянут оценку вниз"] == "—"  # no conclusions off a wrong scale
    assert any("--scale nps" in str(r[0]) for r in wb["Сводка"].iter_rows(values_only=True))


def test_a_small_segment_gets_the_smoothed_interval_not_a_point(tmp_path):
    frame = pd.DataFrame({"score": [0, 1, 2] + [9, 10, 3, 8] * 20, "segment": ["VIP"] * 3 + ["Массовый"] * 80,
                          "topics": "speed", "is_general": False})
    make_report(frame, [tmp_path / "s.xlsx"], score_col="score", scale="nps", segment_col="segment")
    rows = [r for r in openpyxl.load_workbook(tmp_path / "s.xlsx")["Сегменты"].iter_rows(values_only=True)
            if r[0] == "VIP"]
    assert rows and rows[0][2] == -100 and rows[0][3] == -100 and rows[0][4] == pytest.approx(23.5, abs=0.1)


@pytest.mark.parametrize("values, message", [
    (["ужас", "норм", "спасибо"], "is a number"),
    ([55, 70, 80], "--scale"),
    ([None, None, None], "is empty"),
])
def test_a_score_column_without_usable_scores_is_refused_with_the_fix(values, message, tmp_path):
    frame = pd.DataFrame({"score": values, "topics": "speed", "is_general": False})
    with pytest.raises(InputError, match=message):
        make_report(frame, [tmp_path / "n.html"], score_col="score", scale="nps")


def test_the_headline_names_only_topics_the_answers_can_tell_from_none(tmp_path):
    from cxtext.drivers import drivers

    rng = np.random.default_rng(5)
    scores = rng.integers(5, 11, 600)
    scores[200:400] = rng.integers(0, 5, 200)  # reachability pulls the score down
    speed = rng.permutation(600) < 200  # speed is named by answers of every kind: no effect of its own
    topics = [";".join(t for t, on in (("reachability", 200 <= i < 400), ("speed", speed[i])) if on) for i in range(600)]
    frame = pd.DataFrame({"score": scores, "topics": topics, "is_general": False})
    table = drivers(frame, "score", "nps", n_boot=50).set_index("topic")
    assert table.loc["reachability", "significant"] and not table.loc["speed", "significant"]
    summary = make_report(frame, [tmp_path / "h.xlsx"], score_col="score", scale="nps")
    assert summary["pulls_down"] == ["Дозвон и ожидание ответа"] and summary["lifts"] == []


def test_a_missing_segment_or_group_is_named_not_left_blank(tmp_path):
    frame = pd.DataFrame({"score": [9, 3, 7, 10, 2, 8], "segment": ["VIP", None, "", "VIP", "Массовый", "Массовый"],
                          "topics": ["speed", "speed", "", "speed", "speed", ""],
                          "group": ["complaint", "complaint", "", "gratitude", "complaint", ""],
                          "is_general": [False, False, True, False, False, True]})
    make_report(frame, [tmp_path / "b.xlsx"], score_col="score", scale="nps", segment_col="segment")
    wb = openpyxl.load_workbook(tmp_path / "b.xlsx")
    segments = [r[0] for r in wb["Сегменты"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert "(не указан)" in segments and "" not in segments and "nan" not in segments
    cells = [c for sheet in wb for row in sheet.iter_rows(values_only=True) for c in row]
    assert "без группы (текст не обработан)" in cells


def test_survey_answers_are_not_costed_as_contacts_unless_told(labelled, tmp_path):
    make_report(labelled, [tmp_path / "s.xlsx", tmp_path / "s.html"], score_col="score", scale="nps")
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert "Обращения" not in wb.sheetnames and "Группы" in wb.sheetnames
    sheet = [[c.value for c in row] for row in wb["Группы"].iter_rows()]
    assert "ответы опроса, а не обращения" in sheet[0][0] and sheet[2][:3] == ["Группа", "Ответов", "Доля"]
    assert not any("Стоимость" in str(v) for row in sheet for v in row)
    assert "Ответы по группам" in (tmp_path / "s.html").read_text("utf-8")

    make_report(labelled, [tmp_path / "c.xlsx", tmp_path / "c.html"], score_col="score", scale="nps", contacts=True)
    sheet = [[c.value for c in row] for row in openpyxl.load_workbook(tmp_path / "c.xlsx")["Обращения"].iter_rows()]
    assert "Стоимость: 130 ₽ за обращение, 330 ₽ с бэк-офисом" in sheet[0][0]  # the rule the figures follow
    assert "жалоба — 2" in sheet[0][0] and "повторное обращение — ещё 3" in sheet[0][0]
    header, groups = sheet[2], [row for row in sheet[3:[row[0] for row in sheet].index("Тема")] if row[0]]
    assert [row[header.index("Стоимость, ₽")] for row in groups] == [130 * row[1] for row in groups]
    assert "Стоимость: 130 ₽ за обращение" in (tmp_path / "c.html").read_text("utf-8")


def test_free_text_in_score_and_segment_cells_is_masked_in_the_report(labelled, tmp_path):
    dirty = labelled.copy()
    dirty.loc[0, "score"] = "перезвоните 89161234567"
    dirty.loc[0, "segment"] = "звонок 8 916 123-45-67"
    make_report(dirty, [tmp_path / "d.xlsx", tmp_path / "d.html"], score_col="score", scale="nps",
                segment_col="segment")
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    cells = [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    page = (tmp_path / "d.html").read_text("utf-8")
    assert [c for c in cells if "89161234567" in c or "123-45-67" in c] == [] and "123-45-67" not in page
    assert any("<PHONE>" in c for c in cells)


def summary_sheet(path: Path) -> dict:
    """The «Сводка» sheet as {label: value}."""
    return dict(r[:2] for r in openpyxl.load_workbook(path)["Сводка"].iter_rows(values_only=True) if r[0])


def test_the_headline_of_a_few_answers_has_an_honest_interval_and_says_so(tmp_path):
    frame = pd.DataFrame({"score": [0, 1, 2, 3, 4], "text": "плохо", "topics": "speed", "is_general": False})
    summary = make_report(frame, [tmp_path / "f.xlsx", tmp_path / "f.html"], score_col="score", scale="nps")
    assert summary["low"] == -100 and summary["high"] > -60 and summary["reliability"] == "too_few"
    assert "очень мало (&lt;30)" in (tmp_path / "f.html").read_text("utf-8")
    rows = summary_sheet(tmp_path / "f.xlsx")
    assert rows["Нижняя граница 95%"] == -100 and rows["Верхняя граница 95%"] > -60
    assert rows["Надёжность итога"] == "очень мало (<30), не выводы"


def test_the_headline_of_many_answers_keeps_its_plain_interval(report, labelled):
    plain = nps(pd.to_numeric(labelled["score"], errors="coerce").where(lambda s: s <= 10))
    assert (report[0]["low"], report[0]["high"]) == pytest.approx((plain.low, plain.high), abs=0.5)
    assert report[0]["reliability"] == "ok"


def test_a_month_column_in_a_russian_export_form_reports_in_time_order(tmp_path):
    from cxtext.cli import main

    frame = pd.DataFrame({"month": np.repeat(["11.2023", "12.2023", "01.2024"], 4), "score": [9, 3, 10, 8] * 3,
                          "text": "ок", "topics": "speed", "is_general": False})
    frame.to_csv(tmp_path / "l.csv", index=False)
    assert main(["report", str(tmp_path / "l.csv"), "-o", str(tmp_path / "m.xlsx"), "-o", str(tmp_path / "m.html"),
                 "--score-col", "score", "--scale", "nps", "--period-col", "month"]) == 0
    wb = openpyxl.load_workbook(tmp_path / "m.xlsx")
    periods = [r[0] for r in wb["Динамика"].iter_rows(min_row=2, values_only=True)]
    assert list(dict.fromkeys(periods)) == ["2023-11", "2023-12", "2024-01"]
    assert "Что изменилось: 2023-12 → 2024-01" in (tmp_path / "m.html").read_text("utf-8")


def test_quarter_labels_give_the_period_range_and_changes_in_time_order(tmp_path):
    frame = pd.DataFrame({"quarter": np.repeat(["Q3 2023", "Q4 2023", "Q1 2024"], 4), "score": [9, 3, 10, 8] * 3,
                          "topics": "speed", "is_general": False})
    make_report(frame, [tmp_path / "q.xlsx", tmp_path / "q.html"], score_col="score", scale="nps",
                period_col="quarter")
    page = (tmp_path / "q.html").read_text("utf-8")
    assert "период 2023Q3 — 2024Q1" in page and "Что изменилось: 2023Q4 → 2024Q1" in page
    rows = summary_sheet(tmp_path / "q.xlsx")
    assert rows["Период"] == "2023Q3 — 2024Q1"


def test_a_last_period_without_scores_is_not_compared_and_no_dash_gets_a_percent(tmp_path):
    from cxtext.report.tables import fmt_pct

    frame = pd.DataFrame({"date": ["2024-01-10"] * 4 + ["2024-02-10"] * 4 + ["2024-03-10"] * 2,
                          "score": [9, 3, 10, 8, 2, 3, 9, 0, "нет", ""], "topics": "speed", "is_general": False})
    make_report(frame, [tmp_path / "p.html"], score_col="score", scale="nps", period_col="date")
    page = (tmp_path / "p.html").read_text("utf-8")
    assert "Что изменилось: 2024-01 → 2024-02" in page and "—%" not in page
    assert fmt_pct(float("nan")) == "—" and fmt_pct(0.125) == "12,5%"


def test_example_scores_read_from_csv_are_numbers_in_excel(tmp_path):
    from cxtext.cli import main

    frame = pd.DataFrame({"score": [2, 9, 10], "text": ["не дозвониться", "быстро", "спасибо"], "topics": "speed",
                          "is_general": False, "confidence": [0.9, 0.8, 0.7]})
    frame.to_csv(tmp_path / "l.csv", index=False)
    assert main(["report", str(tmp_path / "l.csv"), "-o", str(tmp_path / "e.xlsx"), "--score-col", "score",
                 "--scale", "nps"]) == 0
    ws = openpyxl.load_workbook(tmp_path / "e.xlsx")["Примеры"]
    column = [c.value for c in ws[1]].index("Оценка (NPS)")
    assert [r[column] for r in ws.iter_rows(min_row=2, values_only=True)] == [2, 9, 10]


def test_the_impact_legend_says_which_way_the_score_would_move(report):
    assert "влияние −5 значит, что NPS был бы на 5 выше" in report[2].read_text("utf-8")


def test_the_command_line_report_needs_no_text_column(tmp_path, capsys):
    from cxtext.cli import main

    frame = pd.DataFrame({"id": range(40), "Комментарий": ["курьер опоздал"] * 40, "score": [3, 9] * 20,
                          "topics": ["delivery", ""] * 20, "is_general": [False, True] * 20})
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    assert main(["report", str(tmp_path / "labelled.csv"), "-o", str(tmp_path / "r.html"), "--score-col", "score"]) == 0
    assert (tmp_path / "r.html").exists()


def test_the_html_names_the_topics_that_pull_the_score_down_as_the_excel_does(report):
    summary, xlsx, html = report
    page = re.sub(r"<[^>]+>", "", html.read_text("utf-8"))
    assert f"Тянут оценку вниз: {', '.join(summary['pulls_down'])}" in page
    rows = {r[0]: r[1] for r in openpyxl.load_workbook(xlsx)["Сводка"].iter_rows(values_only=True) if r[0]}
    assert rows["Тянут оценку вниз"] == ", ".join(summary["pulls_down"])
