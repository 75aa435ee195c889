"""The notebooks: committed without outputs, and each runs top to bottom on small data (CXTEXT_FAST=1)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cxtext.persist import default_model_dir

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_label_and_report.ipynb", "02_retrain.ipynb", "03_what_to_label_next.ipynb"]


def read(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    nb = read(name)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: clear outputs before committing"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name", NAMES)
def test_parameters_come_first_and_ci_can_redirect_outputs(name):
    first_code = next(c for c in read(name).cells if c.cell_type == "code").source
    assert 'os.environ.get("CXTEXT_OUT"' in first_code  # nothing is written into the repository in CI
    assert 'os.environ.get("CXTEXT_FAST")' in first_code


def run(name: str, tmp_path: Path, monkeypatch, **params):
    """Execute the notebook (parameters of its first cell set as `params` say) and return it with outputs."""
    from nbclient import NotebookClient

    if not (default_model_dir() / "model.json").exists() and not os.environ.get("CXTEXT_MODEL"):
        pytest.skip("the default model is not trained yet (models/default/model.json); set CXTEXT_MODEL to a model")
    monkeypatch.setenv("CXTEXT_FAST", "1")
    monkeypatch.setenv("CXTEXT_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("CXTEXT_MODEL_OUT", str(tmp_path / "my_model"))
    nb = read(name)
    first = next(c for c in nb.cells if c.cell_type == "code")
    for key, value in params.items():
        first.source, found = re.subn(rf"^{key} = .*$", f"{key} = {value!r}", first.source, flags=re.M)
        assert found == 1, f"{name} has no parameter {key}"
    NotebookClient(nb, timeout=240, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.slow
def test_01_labels_a_survey_and_writes_reports(tmp_path, monkeypatch):
    nb = run(NAMES[0], tmp_path, monkeypatch)
    assert re.search(r"NPS overall: -?\d+\.\d \(95% interval -?\d+\.\d to -?\d+\.\d; \d+ answers\)", printed(nb))
    out = tmp_path / "out"
    assert (out / "report.xlsx").stat().st_size and (out / "report.html").stat().st_size
    check = pd.read_excel(out / "labels_to_check.xlsx", dtype=str)
    assert len(check) == 400 and {"Текст", "Группа", "Темы", "Проверено", "По каким словам"} <= set(check.columns)
    specific = check[check["Темы"].notna()]
    assert specific["По каким словам"].notna().mean() > 0.9  # a row with topics says which words carry them


@pytest.mark.slow
def test_02_retrains_compares_and_labels_from_the_cli(tmp_path, monkeypatch):
    run(NAMES[1], tmp_path, monkeypatch)
    model_dir = tmp_path / "my_model"
    assert {"model.json", "model.npz", "card.json", "taxonomy.yaml"} <= {p.name for p in model_dir.iterdir()}
    assert "cashback_program" in (model_dir / "taxonomy.yaml").read_text("utf-8")
    labelled = pd.read_csv(tmp_path / "out" / "survey_labelled_new_model.csv")
    assert len(labelled) == 200 and "topics" in labelled


@pytest.mark.slow
def test_03_writes_a_file_to_label(tmp_path, monkeypatch):
    from cxtext.labels_io import read_labels
    from cxtext.taxonomy import load_taxonomy

    run(NAMES[2], tmp_path, monkeypatch)
    tax = load_taxonomy().with_topic("cashback_program", "Кешбэк-программа")
    todo = read_labels(tmp_path / "out" / "to_label.xlsx", taxonomy=tax)
    assert len(todo) >= 30 and todo["text"].is_unique
    assert (todo["id"] != "").all()  # each row traces back to the survey or the labelled file


PERSONAL = "Перезвоните на +7 912 345-67-89, карта 4276 3800 1234 5678, ivan.petrov@mail.ru, Петров Иван Сергеевич"
SECRETS = ["912 345-67-89", "4276 3800 1234 5678", "ivan.petrov@mail.ru", "Петров", "Иван"]


@pytest.mark.slow
def test_01_writes_no_personal_data(tmp_path, monkeypatch):
    from cxtext.demo import sample_survey_path
    from cxtext.io import read_table, write_table

    survey = read_table(sample_survey_path()).head(400)  # 400: the fast run keeps every row
    survey.loc[[3, 77], "text"] = [PERSONAL, "Иванова Мария Петровна, тел. 8-912-345-67-89: перевод завис"]
    write_table(survey, tmp_path / "survey.csv")
    run(NAMES[0], tmp_path, monkeypatch, SURVEY=str(tmp_path / "survey.csv"))
    out = tmp_path / "out"
    written = {"survey_labelled.csv": pd.read_csv(out / "survey_labelled.csv", dtype=str),
               "labels_to_check.xlsx": pd.read_excel(out / "labels_to_check.xlsx", dtype=str)}
    for name, frame in written.items():
        cells = " ".join(frame.fillna("").to_numpy().ravel())
        assert [s for s in SECRETS + ["Иванова", "345-67-89"] if s in cells] == [], name
        assert "<PHONE>" in cells and "<NAME>" in cells, name
