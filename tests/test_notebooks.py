"""The notebooks: committed without outputs, and each runs top to bottom on small data (CXTEXT_FAST=1)."""
from __future__ import annotations

import os
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


def run(name: str, tmp_path: Path, monkeypatch) -> None:
    from nbclient import NotebookClient

    if not (default_model_dir() / "model.json").exists() and not os.environ.get("CXTEXT_MODEL"):
        pytest.skip("the default model is not trained yet (models/default/model.json); set CXTEXT_MODEL to a model")
    monkeypatch.setenv("CXTEXT_FAST", "1")
    monkeypatch.setenv("CXTEXT_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("CXTEXT_MODEL_OUT", str(tmp_path / "my_model"))
    nb = read(name)
    NotebookClient(nb, timeout=240, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()


@pytest.mark.slow
def test_01_labels_a_survey_and_writes_reports(tmp_path, monkeypatch):
    run(NAMES[0], tmp_path, monkeypatch)
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
