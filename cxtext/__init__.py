"""cxtext: Russian customer feedback to decisions.

read -> mask -> normalise -> lemmatise -> classify -> score -> report; the names below are what a
notebook needs, the modules hold the rest.
"""
__version__ = "0.1.0"

from .attribution import evidence, explain
from .classify import LABEL_COLUMNS, TextClassifier, load_model
from .drivers import drivers, trends
from .errors import CxTextError, InputError, ModelError
from .lemmatize import lemmatize
from .mask import mask, mask_text
from .preprocess import TextPreprocessor, prepare, preprocess
from .scores import nps
from .taxonomy import Taxonomy, load_taxonomy
from .train import LabelColumns, evaluate_model, train

def label_file(*args, **kwargs):
    """Label a CSV/XLSX/Parquet file: every input row and column kept, label columns added."""
    from .batch import label_file as _label_file

    return _label_file(*args, **kwargs)


def make_report(*args, **kwargs):
    """Write the Excel and/or HTML driver report of a labelled frame or file."""
    from .report import make_report as _make_report

    return _make_report(*args, **kwargs)


__all__ = [
    "CxTextError", "InputError", "LABEL_COLUMNS", "LabelColumns", "ModelError", "Taxonomy", "TextClassifier",
    "TextPreprocessor", "drivers", "evaluate_model", "evidence", "explain", "label_file", "lemmatize", "load_model",
    "load_taxonomy", "make_report", "mask", "mask_text", "nps", "prepare", "preprocess", "train", "trends",
]
