"""`make demo`: the main job end to end on the bundled sample survey: label, then report."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_survey_path() -> Path:
    """The sample survey shipped with cxtext (2,000+ comments with NPS, dates and channels)."""
    return Path(str(resources.files("cxtext").joinpath("data/sample_survey.csv")))


def run_demo(out: str | Path = "out") -> dict:
    """Label the sample survey with the default model and write the Excel and HTML reports."""
    from .attribution import evidence
    from .batch import label_file
    from .classify import load_model
    from .io import read_table
    from .report import make_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labelled = out / "sample_survey_labelled.csv"
    model = load_model()
    summary = label_file(sample_survey_path(), labelled, text_col="text", id_col="id", model=model, quiet=True)
    print(f"labelled {summary['rows']} comments -> {labelled}")
    frame = read_table(labelled)
    preview = frame[["text", "score", "group_name", "topic_names", "is_general"]].head(8)
    for row in preview.itertuples(index=False):
        topics = row.topic_names if isinstance(row.topic_names, str) and row.topic_names else "—"
        print(f"  [{row.score:>2}] {str(row.text)[:70]:<70} | {row.group_name} | {topics}")
    print(f"why the first one (cxtext label --explain): {evidence(model, preview['text'].iloc[:1])[0]}")
    report = make_report(frame, [out / "report.xlsx", out / "report.html"], score_col="score",
                         scale="nps", text_col="text", period_col="date", segment_col="segment")
    print(f"reports: {out / 'report.xlsx'} and {out / 'report.html'} (open the HTML in a browser)")
    return {"labelled": str(labelled), **report}
