"""train(frame) -> (model, metrics): one path for the CLI and for notebooks."""
from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .classify import TextClassifier
from .errors import InputError
from .evaluate import score_labels, split_topics, to_bool
from .labels_io import parse_flag, read_labels
from .persist import default_model_dir, round_weights
from .taxonomy import Taxonomy, load_taxonomy

MIN_EXAMPLES = 10  # a label with fewer training texts is learnt poorly and its threshold is a guess


class ThinLabelsWarning(UserWarning):
    """Some groups or topics have too few training texts (or none: such a label is never predicted)."""


class UnlabelledWarning(UserWarning):
    """Part of the labels is missing: rows nobody checked, or no too-general column."""


@dataclass(frozen=True)
class LabelColumns:
    """Which columns of a labelled file hold the text and each label."""

    text: str = "text"
    group: str = "group"
    topics: str = "topics"
    general: str = "is_general"
    repeat: str | None = None

    def fields(self) -> dict[str, str]:
        """read_labels' field -> the column named here."""
        names = {"text": self.text, "group": self.group, "topics": self.topics, "is_general": self.general,
                 "is_repeat": self.repeat}
        return {field: col for field, col in names.items() if col}


def labelled_rows(frame: pd.DataFrame, cols: LabelColumns = LabelColumns(), taxonomy: Taxonomy | None = None,
                  *, checked_only: bool = False) -> dict:
    """Texts and labels of a frame as lists: texts, groups, topics, general (and repeat).

    With a taxonomy the frame is read as `read_labels` reads an analyst's file: group and topic ids or
    Russian names, every bad cell reported with its row, rows without a group left out (their number in
    'unlabelled'; with `checked_only`, rows not marked «Проверено» too), and 'general_given' False when the
    file has no too-general column. Without one, the labels must already be ids, as read_labels returns them."""
    if taxonomy is not None:
        labels = read_labels(frame, taxonomy=taxonomy, columns=cols.fields(), checked_only=checked_only)
        if labels.empty:
            raise InputError(f"{labels.attrs['source']}: no labelled rows ({labels.attrs['skipped']} row(s) have "
                             "a text but no group, i.e. are not labelled yet"
                             + (", or are not marked checked)" if checked_only else ")"))
        found = labels.attrs["columns"]
        if "checked" in found and not checked_only:
            _warn_unchecked(frame[found["checked"]], len(labels), labels.attrs["source"])
        rows = labelled_rows(labels, LabelColumns(repeat="is_repeat" if "is_repeat" in found else None))
        return rows | {"row": labels["row"].tolist(), "unlabelled": labels.attrs["skipped"],
                       "general_given": "is_general" in found}
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


def _warn_unchecked(checked: pd.Series, labelled: int, source: str) -> None:
    """A checking file («Проверено») read whole: the rows nobody checked carry the model's own guesses."""
    ticked = int(checked.map(parse_flag).fillna(False).astype(bool).sum())
    if ticked < labelled:
        warnings.warn(f"{source}: {labelled - ticked} of {labelled} labelled rows are not marked «Проверено»; "
                      "if they hold the model's own guesses, train and measure on the checked rows only "
                      "(--checked-only; checked_only=True)", UnlabelledWarning, stacklevel=3)


_LABEL_KEYS = ("groups", "topics", "general", "repeat")


def _last_of_each_text(rows: dict, source: str) -> tuple[np.ndarray, dict[int, int]]:
    """(the position of the first row of each distinct text, first -> last row of a text given more than once).

    The first row takes the labels of the last, in place: a correction appended to a file wins, and the
    held-out split is the one the first rows give. Texts labelled twice in different ways are named."""
    texts = pd.Series(rows["texts"])
    first = np.flatnonzero(~texts.duplicated(keep="first").to_numpy())
    if len(first) == len(texts):
        return first, {}
    positions: dict = {}
    for i, text in enumerate(rows["texts"]):
        positions.setdefault(text, []).append(i)
    latest = {p[0]: p[-1] for p in positions.values() if len(p) > 1}
    label = lambda i: tuple(tuple(v) if isinstance(v := rows[k][i], list) else v  # noqa: E731
                            for k in _LABEL_KEYS if rows.get(k) is not None)
    relabelled = [rows["texts"][a] for a, b in latest.items() if any(label(a) != label(i) for i in positions[
        rows["texts"][a]])]
    if relabelled:
        shown = "; ".join(f"«{str(t)[:60]}»" for t in relabelled[:3])
        warnings.warn(f"{source}: {len(relabelled)} text(s) are labelled more than once, differently ({shown}"
                      f"{' ...' if len(relabelled) > 3 else ''}); the last row of each is trained on",
                      UnlabelledWarning, stacklevel=3)
    for a, b in latest.items():
        for key in _LABEL_KEYS:
            if rows.get(key) is not None:
                rows[key][a] = rows[key][b]
    return first, latest


def corpus_hash(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return digest.hexdigest()[:16]


def evaluate_model(model: TextClassifier, frame: pd.DataFrame, cols: LabelColumns = LabelColumns(),
                   taxonomy: Taxonomy | str | None = None, *, checked_only: bool = False) -> dict:
    """Metrics of a model on a labelled frame (never one it was trained on, if the figure is to mean anything).

    The frame is read as read_labels reads it, with the model's taxonomy unless `taxonomy` (or a YAML path)
    is given; its labels must be ones the model knows. Without a too-general column, is_general is not
    measured (rather than measured against "no text is too general")."""
    tax = model.taxonomy_ if taxonomy is None else _taxonomy(taxonomy)
    rows = labelled_rows(frame, cols, tax, checked_only=checked_only)
    known = set(model.taxonomy_.group_ids) | set(model.topics_)
    unknown = sorted({g for g in rows["groups"] if g not in known} | {t for ts in rows["topics"] for t in ts
                                                                       if t not in known})
    if unknown:
        raise InputError(f"the labels use {', '.join(unknown)} of taxonomy '{tax.name}', which the model "
                         f"(taxonomy '{model.taxonomy_.name}') does not know; measure a model trained with "
                         "that taxonomy (cxtext train ... --taxonomy FILE, then evaluate --model DIR)")
    kept = _last_of_each_text(rows, frame.attrs.get("source", "the labels"))[0].tolist()  # a text counts once
    pick = lambda key: [rows[key][i] for i in kept] if rows.get(key) is not None else None  # noqa: E731
    pred = model.predict(pick("texts"))
    metrics = score_labels(pred, pick("groups"), pick("topics"), pick("general") if rows["general_given"] else None,
                           model.topics_, pick("repeat"))
    metrics["unlabelled_rows"] = rows["unlabelled"]
    metrics["duplicate_texts_dropped"] = len(rows["texts"]) - len(kept)
    return metrics


def default_corpus(taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """The default model's training corpus, to train on besides your own rows: train(background=...).

    Its labels are ids of the default taxonomy, so `taxonomy` must keep all of them (add yours with
    Taxonomy.with_topic)."""
    default = load_taxonomy()
    if taxonomy is not None:
        have = set(taxonomy.group_ids) | set(taxonomy.topic_ids)
        lost = [i for i in default.group_ids + default.topic_ids if i not in have]
        if lost:
            raise InputError(f"the default corpus is labelled with {', '.join(lost)}, which taxonomy "
                             f"'{taxonomy.name}' does not have; train on your rows alone, or keep the default "
                             "groups and topics in your taxonomy and add yours to them")
    return read_corpus(default_model_dir() / "corpus")


def train(frame: pd.DataFrame, cols: LabelColumns = LabelColumns(), *, taxonomy: Taxonomy | str | None = None,
          holdout: float = 0.15, eval_sets: dict[str, pd.DataFrame] | None = None,
          background: pd.DataFrame | None = None, random_state: int = 0, checked_only: bool = False,
          **params) -> tuple[TextClassifier, dict]:
    """Check labels against the taxonomy, keep a held-out part aside, fit, and measure.

    `frame` is read as read_labels reads an analyst's file (ids or Russian names; rows without a group left
    out). `background` (labelled rows in cxtext's columns, e.g. default_corpus(taxonomy)) is trained on too,
    never held out or measured on; a text in both keeps `frame`'s labels. Groups and topics with fewer than
    MIN_EXAMPLES training texts are named in a ThinLabelsWarning before fitting.
    Returns the model (fitted on the training part only) and metrics: cross-validated on the training
    part of `frame`, on the held-out part, and on each of `eval_sets` (name -> labelled frame).
    """
    if not 0 <= holdout < 1:
        raise InputError(f"holdout is the share of texts kept aside, from 0 up to (not including) 1, e.g. 0.15; "
                         f"got {holdout}")
    tax = _taxonomy(taxonomy)
    rows = labelled_rows(frame, cols, tax, checked_only=checked_only)
    if not rows["general_given"]:
        warnings.warn(f"{frame.attrs.get('source', 'the labels')}: no too-general column («Слишком общий», "
                      "is_general or --general-col): every text is taken as specific, and the model will never "
                      "call a text too general", UnlabelledWarning, stacklevel=2)
    # a text twice would sit on both sides of the held-out split; a later row is a correction and wins
    kept, latest = _last_of_each_text(rows, frame.attrs.get("source", "the labels"))
    # rows as the user wrote them: of a text given twice, the last (the one trained on)
    written = lambda idx: frame.iloc[[rows["row"][latest.get(i, i)] - 2 for i in idx]]  # noqa: E731
    if holdout > 0:
        if round(len(kept) * (1 - holdout)) < 2 or round(len(kept) * holdout) < 1:
            raise InputError(f"a holdout of {holdout} leaves too few of the {len(kept)} distinct texts to train on "
                             "or to measure on; lower --holdout (0 keeps none aside) or label more texts")
        counts = pd.Series(rows["groups"]).iloc[kept].value_counts()
        strata = [rows["groups"][i] if counts[rows["groups"][i]] >= 2 else "_rare" for i in kept]
        try:
            fit_idx, held_idx = train_test_split(kept, test_size=holdout, random_state=random_state, stratify=strata)
        except ValueError as exc:  # a share too small or too large for the groups to reach both sides
            raise InputError(f"a holdout of {holdout} cannot keep every group on both sides ({exc}); "
                             "change --holdout (0 keeps none aside) or label more texts") from exc
    else:
        fit_idx, held_idx = kept, np.array([], dtype=int)
    extra = _background_rows(background, tax, rows["texts"])
    own = lambda key, idx: [rows[key][i] for i in idx]  # noqa: E731
    pick = lambda key, idx: extra[key] + own(key, idx)  # noqa: E731
    model = TextClassifier(taxonomy=tax, random_state=random_state, **params)
    thin = _thin_labels(pick("groups", fit_idx), pick("topics", fit_idx), tax, max(MIN_EXAMPLES, model.cv),
                       with_background=background is not None)
    with warnings.catch_warnings():
        if thin:
            warnings.warn(thin, ThinLabelsWarning, stacklevel=2)
            # sklearn's "least populated class has only 2 members" says the same, less plainly
            warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        model.fit(pick("texts", fit_idx), pick("groups", fit_idx), pick("topics", fit_idx),
                  pick("general", fit_idx))
    round_weights(model)  # measured as it will be saved

    n_extra = len(extra["texts"])
    metrics: dict = {"trained_on": int(len(fit_idx)) + n_extra, "held_out": int(len(held_idx)),
                     "corpus_rows": int(len(kept)) + n_extra, "background_rows": n_extra,
                     "duplicate_texts_dropped": len(rows["texts"]) - len(kept),
                     "unlabelled_rows": rows["unlabelled"], "corpus_sha256_16": corpus_hash(written(kept)),
                     "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "thin_labels": thin,
                     "eval_sources": {name: str(other.attrs.get("source", "a labelled frame"))
                                      for name, other in (eval_sets or {}).items()}}
    if background is not None:
        metrics["background_sha256_16"] = corpus_hash(background)
    metrics["cross_validated"] = score_labels(  # out-of-fold predictions of `frame`'s rows (they come last)
        _oof_frame(model).iloc[n_extra:], own("groups", fit_idx), own("topics", fit_idx),
        own("general", fit_idx) if rows["general_given"] else None, model.topics_)
    if len(held_idx):
        metrics["held_out_metrics"] = evaluate_model(model, written(held_idx), cols)
        metrics["held_out_ids"] = [str(x) for x in written(held_idx).index]
    for name, other in (eval_sets or {}).items():
        metrics[name] = evaluate_model(model, other, cols)
    return model, metrics


def _background_rows(background: pd.DataFrame | None, taxonomy: Taxonomy, texts: list[str]) -> dict:
    """Labelled rows of `background` whose text is not among `texts` (the user's label of a text wins)."""
    if background is None:
        return {"texts": [], "groups": [], "topics": [], "general": []}
    rows = labelled_rows(background, LabelColumns(), taxonomy)
    candidates = pd.Series(rows["texts"])
    keep = np.flatnonzero(~candidates.isin(set(texts)) & ~candidates.duplicated())
    return {key: [rows[key][i] for i in keep] for key in ("texts", "groups", "topics", "general")}


def _thin_labels(groups: list[str], topics: list[list[str]], taxonomy: Taxonomy, minimum: int = MIN_EXAMPLES,
                with_background: bool = False) -> str:
    """A plain message naming the groups and topics with fewer than `minimum` of these training texts,
    or "" when every one has enough."""
    lines = []
    for kind, ids, counts in (("group", taxonomy.group_ids, Counter(groups)),
                              ("topic", taxonomy.topic_ids, Counter(t for row in topics for t in row))):
        none = [i for i in ids if not counts[i]]
        few = [f"{i} ({counts[i]})" for i in ids if 0 < counts[i] < minimum]
        if none:
            lines.append(f"  {kind}s with no example (the model will never predict them): {', '.join(none)}")
        if few:
            lines.append(f"  {kind}s with fewer than {minimum} examples (learnt poorly; their figures rest on a "
                         f"few texts): {', '.join(few)}")
    if not lines:
        return ""
    fix = "Add labelled texts of these" + ("." if with_background else
                                           ", or train on top of the default corpus (cxtext train "
                                           "--with-default-corpus; train(..., background=default_corpus(tax)) "
                                           "in Python).")
    return f"too few training texts (of {len(groups)}) for some labels:\n" + "\n".join(lines) + "\n" + fix


def _taxonomy(taxonomy: Taxonomy | str | None) -> Taxonomy:
    return taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)


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
