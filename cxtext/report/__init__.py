"""Reports from a labelled frame: an Excel workbook and a self-contained HTML page."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from ..errors import InputError
from .excel import write_excel
from .html import write_html
from .tables import build, summary

__all__ = ["make_report"]

WRITERS = {".xlsx": write_excel, ".html": write_html}


def _read(labelled) -> pd.DataFrame:
    if isinstance(labelled, pd.DataFrame):
        return labelled
    path = Path(labelled)
    if not path.exists():
        raise InputError(f"labelled file {path} not found; pass the output of 'cxtext label'")
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path)
    return pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig", dtype={"topics": "string"})


def make_report(labelled: pd.DataFrame | str | Path, outputs: Sequence[str | Path], *, score_col: str,
                scale: str, text_col: str | None = None, period_col: str | None = None,
                segment_col: str | None = None, volume=None, taxonomy=None, contacts: bool = False) -> dict:
    """Write each output (.xlsx and/or .html) and return the headline summary with the paths.

    `labelled` is the classifier's output (a frame or a CSV/Excel path); `volume` is a table or a file
    with columns period, volume; `taxonomy` a Taxonomy, a YAML path, or None for the default; `contacts`: each
    row is a CRM contact, so groups get points and cost (a survey answer gets neither; a volume implies it).
    """
    paths = [Path(p) for p in outputs]
    bad = [str(p) for p in paths if p.suffix.lower() not in WRITERS]
    if not paths or bad:
        raise InputError(f"report outputs must end with .xlsx or .html, got: {', '.join(bad) or 'nothing'}; "
                         "e.g. -o report.xlsx -o report.html")
    if taxonomy is None or isinstance(taxonomy, (str, Path)):
        from ..taxonomy import load_taxonomy

        taxonomy = load_taxonomy(taxonomy)
    data = build(_read(labelled), score_col=score_col, scale=scale, text_col=text_col, period_col=period_col,
                 segment_col=segment_col, volume=volume, taxonomy=taxonomy, contacts=contacts)
    written = []
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        written.append(str(WRITERS[path.suffix.lower()](data, path)))
    return {**summary(data), "paths": written}
