"""train(frame) -> (model, metrics): one path for the CLI and for notebooks."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .classify import TextClassifier
from .errors import InputError
from .evaluate import score_labels, split_topics, to_bool
from .persist import round_weights
from .taxonomy import Taxonomy, load_taxonomy


@dataclass(frozen=True)
class LabelColumns:
    """Which columns of a labelled file hold the text and each label."""

    text: str = "text"
    group: str = "group"
    topics: str = "topics"
    general: str = "is_general"
    repeat: str | None = None


def labelled_rows(frame: pd.DataFrame, cols: LabelColumns = LabelColumns()) -> dict:
    """Texts and labels from a frame, with a clear error for a missing column."""
    needed = [c for c in (cols.text, cols.group, cols.topics, cols.general) if c]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"column(s) {', '.join(map(repr, missing))} not found; columns are: "
                         f"{', '.join(map(str, frame.columns))}. Pass the right --text-col/--group-col/"
                         "--topics-col/--general-col.")
    groups = [("" if pd.isna(g) else str(g).strip()) for g in frame[cols.group]]
    rows = {
        "texts": frame[cols.text].tolist(),
        "groups": groups,
        "topics": [split_topics(v) for v in frame[cols.topics]],
        "general": [to_bool(v) for v in frame[cols.general]],
    }
    if cols.repeat and cols.repeat in frame.columns:
        rows["repeat"] = [to_bool(v) for v in frame[cols.repeat]]
    return rows


def corpus_hash(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return digest.hexdigest()[:16]


def evaluate_model(model: TextClassifier, frame: pd.DataFrame, cols: LabelColumns = LabelColumns()) -> dict:
    """Metrics of a model on a labelled frame (never one it was trained on, if the figure is to mean anything)."""
    rows = labelled_rows(frame, cols)
    model.taxonomy_.check_labels(rows["groups"], rows["topics"])
    pred = model.predict(rows["texts"])
    return score_labels(pred, rows["groups"], rows["topics"], rows["general"], model.topics_,
                        rows.get("repeat"))


def train(frame: pd.DataFrame, cols: LabelColumns = LabelColumns(), *, taxonomy: Taxonomy | str | None = None,
          holdout: float = 0.15, eval_sets: dict[str, pd.DataFrame] | None = None, random_state: int = 0,
          **params) -> tuple[TextClassifier, dict]:
    """Check labels against the taxonomy, keep a held-out part aside, fit, and measure.

    Returns the model (fitted on the training part only) and metrics: cross-validated on the
    training part, on the held-out part, and on each of `eval_sets` (name -> labelled frame).
    """
    tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    rows = labelled_rows(frame, cols)
    tax.check_labels(rows["groups"], rows["topics"])
    empty = [i + 1 for i, t in enumerate(rows["texts"]) if not isinstance(t, str) or not t.strip()]
    if empty:
        raise InputError(f"{len(empty)} training row(s) have no text (rows {empty[:10]}); remove or fill them")
    unique = ~frame[cols.text].astype(str).str.strip().duplicated().to_numpy()
    dropped = int((~unique).sum())
    if dropped:  # a text twice would sit on both sides of the held-out split
        frame = frame[unique]
        rows = labelled_rows(frame, cols)
    index = np.arange(len(frame))
    if holdout > 0:
        counts = pd.Series(rows["groups"]).value_counts()
        strata = [g if counts[g] >= 2 else "_rare" for g in rows["groups"]]
        fit_idx, held_idx = train_test_split(index, test_size=holdout, random_state=random_state,
                                             stratify=strata)
    else:
        fit_idx, held_idx = index, np.array([], dtype=int)
    pick = lambda key, idx: [rows[key][i] for i in idx]  # noqa: E731
    model = TextClassifier(taxonomy=tax, random_state=random_state, **params)
    model.fit(pick("texts", fit_idx), pick("groups", fit_idx), pick("topics", fit_idx), pick("general", fit_idx))
    round_weights(model)  # measured as it will be saved

    metrics: dict = {"trained_on": int(len(fit_idx)), "held_out": int(len(held_idx)),
                     "corpus_rows": int(len(frame)), "duplicate_texts_dropped": dropped,
                     "corpus_sha256_16": corpus_hash(frame),
                     "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    metrics["cross_validated"] = score_labels(
        _oof_frame(model), pick("groups", fit_idx), pick("topics", fit_idx), pick("general", fit_idx),
        model.topics_)
    if len(held_idx):
        metrics["held_out_metrics"] = evaluate_model(model, frame.iloc[held_idx], cols)
        metrics["held_out_ids"] = [str(x) for x in frame.iloc[held_idx].index]
    for name, other in (eval_sets or {}).items():
        metrics[name] = evaluate_model(model, other, cols)
    return model, metrics


def _oof_frame(model: TextClassifier) -> pd.DataFrame:
    """Out-of-fold predictions kept by fit, in the shape score_labels reads."""
    oof = model.oof_
    general = oof["general"] >= model.general_threshold_
    on = model.topics_on(oof["topics"], general)
    return pd.DataFrame({
        "group": [model.groups_[i] for i in oof["group"].argmax(axis=1)],
        "topics": [";".join(t for t, o in zip(model.topics_, row) if o) for row in on],
        "is_general": general,
    })


def read_corpus(path: str | Path) -> pd.DataFrame:
    """A labelled corpus: a .jsonl file or a folder of them (the default model's corpus/)."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"no .jsonl files in {path}")
    frame = pd.concat([pd.read_json(f, lines=True, dtype=False) for f in files], ignore_index=True)
    if "id" in frame:
        frame = frame.set_index("id", drop=False)
        frame.index.name = None
    return frame
