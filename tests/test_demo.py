"""`make demo`: the sample survey is labelled whole and both reports are written, with an explained example."""
from __future__ import annotations

import pandas as pd
import pytest

from cxtext.demo import run_demo, sample_survey_path


@pytest.mark.slow
def test_the_demo_labels_every_sample_comment_and_writes_both_reports(tmp_path, capsys):
    result = run_demo(tmp_path / "out")
    labelled = pd.read_csv(result["labelled"], dtype=str)
    survey = pd.read_csv(sample_survey_path(), dtype=str)
    assert labelled["id"].tolist() == survey["id"].tolist()
    assert (labelled["status"] == "ok").mean() > 0.99
    for name in ("report.xlsx", "report.html"):
        assert (tmp_path / "out" / name).stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert f"labelled {len(survey)} comments" in printed
    why = printed.split("why the first one (cxtext label --explain): ")[1].splitlines()[0]
    assert why.startswith(f"{labelled['group_name'][0]}: ")
