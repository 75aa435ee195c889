"""Label Studio for text classification: the labelling config, tasks with predictions, annotations back.

    >>> Path("config.xml").write_text(labeling_config(taxonomy))         # doctest: +SKIP
    >>> write_tasks(labelled, "tasks.json")        # import in Label Studio; predictions pre-annotate
    >>> frame = read_annotations("export.json", taxonomy=taxonomy)       # doctest: +SKIP

Choices show Russian names and store taxonomy ids (Label Studio's `alias`), so an export keeps working
after a topic is renamed; `read_annotations` accepts names too, and the JSON and JSON-MIN exports.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from xml.sax.saxutils import quoteattr

import pandas as pd

from .errors import InputError
from .evaluate import split_topics
from .labels_io import UNKNOWN_TOPIC, LabelFileError, Problem, Resolver, parse_flag
from .mask import mask_text
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["labeling_config", "read_annotations", "to_tasks", "write_tasks"]

TO_NAME = "text"  # the <Text> tag every control labels
GROUP, TOPICS, GENERAL, REPEAT = "group", "topics", "is_general", "is_repeat"
CONTROLS = (GROUP, TOPICS, GENERAL, REPEAT)
# what a JSON-MIN row holds besides the task's data and the choices (its "id" is the task's id)
_MIN_META = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement", "drafts",
             "predictions"}
_FLAG_ALIAS = "true"  # a flag is one checkbox; ticked = this value in the result
# the columns of read_annotations, before the task's other data keys
_COLUMNS = ["task", "text", "group", "topics", "is_general", "is_repeat", "annotator", "disagree"]


def labeling_config(taxonomy: Taxonomy | None = None, *, repeat: bool = True) -> str:
    """The Label Studio labelling config (XML) for this taxonomy: one group, any topics, flags.

    Control names are the fields of cxtext labels (group, topics, is_general, is_repeat) and all label
    the Text tag 'text', which reads the task's data['text'].
    """
    tax = taxonomy or load_taxonomy()

    def choice(value: str, alias: str, hint: str = "") -> str:
        extra = f" hint={quoteattr(hint)}" if hint else ""
        return f"    <Choice value={quoteattr(value)} alias={quoteattr(alias)}{extra}/>"

    lines = ["<View>",
             '  <Header value="Комментарий клиента"/>',
             f'  <Text name="{TO_NAME}" value="${TO_NAME}"/>',
             '  <Header value="Группа обращения"/>',
             f'  <Choices name="{GROUP}" toName="{TO_NAME}" choice="single-radio" required="true" showInline="true">']
    lines += [choice(g.name, g.id, g.description) for g in tax.groups]
    lines += ["  </Choices>", '  <Header value="Темы (можно несколько)"/>',
              f'  <Choices name="{TOPICS}" toName="{TO_NAME}" choice="multiple">']
    lines += [choice(t.name, t.id, t.description) for t in tax.topics]
    lines += ["  </Choices>",
              f'  <Choices name="{GENERAL}" toName="{TO_NAME}" choice="multiple">',
              choice(tax.general_name, _FLAG_ALIAS, "Нет ни процесса, ни факта: только оценка или эмоция; "
                                                    "темы тогда не ставятся"),
              "  </Choices>"]
    if repeat:
        lines += [f'  <Choices name="{REPEAT}" toName="{TO_NAME}" choice="multiple">',
                  choice("Повторное обращение", _FLAG_ALIAS, "Клиент пишет или звонит по тому же вопросу снова"),
                  "  </Choices>"]
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def _result(from_name: str, choices: list[str]) -> dict:
    return {"from_name": from_name, "to_name": TO_NAME, "type": "choices", "value": {"choices": choices}}


def to_tasks(frame: pd.DataFrame, *, text_col: str = "text", data_cols: Iterable[str] = (),
             predictions: bool = True, model_version: str = "cxtext") -> list[dict]:
    """Label Studio tasks, one per row: data['text'] (+ `data_cols`), and, when the frame has a 'group'
    column (the output of `cxtext label`), the labels as a prediction to pre-annotate with.
    The prediction's score is the 'confidence' column when there is one. The text goes out with its
    personal data masked, as `cxtext label` writes it; `data_cols` (e.g. an id to trace rows back by)
    go as they are, and `read_annotations` returns them."""
    if text_col not in frame.columns:
        raise InputError(f"column '{text_col}' not found; columns are: {', '.join(map(str, frame.columns))}; "
                         "pass text_col=")
    data_cols = list(data_cols)
    missing = [c for c in data_cols if c not in frame.columns]
    if missing:
        raise InputError(f"data column(s) {', '.join(missing)} not found; columns are: {', '.join(map(str, frame.columns))}")
    with_pred = predictions and "group" in frame.columns
    tasks = []
    for row in frame.to_dict("records"):
        data = {TO_NAME: "" if pd.isna(row[text_col]) else mask_text(str(row[text_col]))}
        data.update({c: _json_value(row[c]) for c in data_cols})
        task: dict = {"data": data}
        group = "" if pd.isna(row.get("group")) else str(row.get("group") or "")
        if with_pred and group:
            result = [_result(GROUP, [group])]
            topics = split_topics(row.get("topics"))
            if topics:
                result.append(_result(TOPICS, topics))
            for flag in (GENERAL, REPEAT):
                if parse_flag(row.get(flag, False)):
                    result.append(_result(flag, [_FLAG_ALIAS]))
            prediction = {"model_version": model_version, "result": result}
            if "confidence" in row and not pd.isna(row["confidence"]):
                prediction["score"] = float(row["confidence"])
            task["predictions"] = [prediction]
        tasks.append(task)
    return tasks


def _json_value(value):
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def write_tasks(frame: pd.DataFrame, path: str | os.PathLike, **options) -> Path:
    """to_tasks written as a JSON file to import into a Label Studio project."""
    path = Path(path)
    path.write_text(json.dumps(to_tasks(frame, **options), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


# ---- import ----------------------------------------------------------------------------------------
def _load(source) -> list[dict]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise InputError(f"Label Studio export {path} not found; export the project as JSON")
        try:
            source = json.loads(path.read_text("utf-8"))
        except ValueError as exc:
            raise InputError(f"{path} is not JSON ({exc}); export the project as JSON or JSON-MIN") from exc
    if isinstance(source, dict):
        source = [source]
    if not isinstance(source, list) or not all(isinstance(t, dict) for t in source):
        raise InputError("a Label Studio export is a JSON list of tasks; got something else")
    return source


def _choices(result: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in result or []:
        if item.get("type") == "choices" and item.get("to_name", TO_NAME) == TO_NAME:
            out.setdefault(item.get("from_name", ""), []).extend(item.get("value", {}).get("choices", []))
    return out


def _min_choices(task: dict) -> dict[str, list[str]]:
    # JSON-MIN: one choice is a string, several are {"choices": [...]}
    out = {}
    for name in CONTROLS:
        value = task.get(name)
        if isinstance(value, dict):
            out[name] = list(value.get("choices", []))
        elif isinstance(value, list):
            out[name] = [str(v) for v in value]
        elif value not in (None, ""):
            out[name] = [str(value)]
    return out


@dataclass(frozen=True)
class _Annotation:
    """One annotator's choices on a task, from either export format."""

    data: dict  # the task's data: the text and the data_cols of write_tasks
    chosen: dict[str, list[str]]
    annotator: object
    when: str  # updated_at, else created_at: the latest annotation counts


def _annotations(tasks: list[dict]) -> dict[object, list[_Annotation]]:
    """Per task id, in export order, the annotations that were not skipped and chose something.

    JSON holds one task with its list of annotations; JSON-MIN one row per annotation, the task's data and
    the choices side by side (a task two people labelled is two rows with the same id)."""
    found: dict[object, list[_Annotation]] = {}
    for i, task in enumerate(tasks):
        tid = task.get("id", i + 1)
        if "data" in task or "annotations" in task:
            data = task.get("data") or {}
            anns = [_Annotation(data, _choices(a.get("result")), _who(a.get("completed_by")), _when(a))
                    for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        else:
            data = {k: v for k, v in task.items() if k not in _MIN_META and k not in CONTROLS}
            anns = [_Annotation(data, _min_choices(task), task.get("annotator"), _when(task))]
        # opened and submitted empty, or an unlabelled JSON-MIN row: nothing chosen, not an annotation
        found.setdefault(tid, []).extend(a for a in anns if any(a.chosen.get(k) for k in CONTROLS))
    return found


def _who(completed_by: object) -> object:
    """The annotator: an id, or an id inside the user object some exports give ({"id": 1, "email": ...})."""
    if isinstance(completed_by, dict):
        return completed_by.get("id", completed_by.get("email", json.dumps(completed_by, sort_keys=True)))
    return completed_by


def _when(annotation: dict) -> str:
    return str(annotation.get("updated_at") or annotation.get("created_at") or "")


def _verdict(chosen: dict[str, list[str]], resolve: Resolver) -> tuple:
    """What an annotation says, the same whether a choice came as an id or a Russian name."""
    groups = tuple(sorted(resolve.group(g)[0] or g for g in chosen.get(GROUP, [])))
    topics = frozenset(resolve.topics(chosen.get(TOPICS, []))[0])
    return groups, topics, bool(chosen.get(GENERAL)), bool(chosen.get(REPEAT))


def read_annotations(source, *, taxonomy: Taxonomy | None = None, text_key: str = TO_NAME) -> pd.DataFrame:
    """Labels from a Label Studio export (JSON or JSON-MIN; a path or the loaded list) for train().

    One row per annotated task, whatever the format: task, text, group, topics (ids joined by ';'),
    is_general, is_repeat, annotator, disagree, then the task's other data keys (e.g. the `data_cols` of
    write_tasks; one named like a column above gets a 'data_' prefix; JSON-MIN writes the task id over a
    data key 'id'). Of the annotations that chose something and were not skipped, the latest (updated_at)
    counts; `disagree` marks a task whose annotators' latest choices differ (their task ids in
    attrs['disagreements']). Tasks nobody annotated are skipped (counted in attrs['skipped']). Choices may be
    ids or Russian names; every bad choice is collected and raised at once as LabelFileError naming its task.
    """
    tax = taxonomy or load_taxonomy()
    resolve = Resolver(tax)
    records, problems, skipped, disagreements = [], [], 0, []
    for tid, anns in _annotations(_load(source)).items():
        if not anns:
            skipped += 1
            continue
        ordered = sorted(anns, key=lambda a: a.when)  # stable: of two at the same time, the later in the export
        latest = ordered[-1]
        record, bad = _record(f"task {tid}", latest.data.get(text_key), latest.chosen, resolve)
        problems += bad
        last_words = {a.annotator: a for a in ordered}  # one who changed their mind does not disagree
        disagree = len({_verdict(a.chosen, resolve) for a in last_words.values()}) > 1
        if disagree:
            disagreements.append(tid)
        if not bad:
            records.append({"task": tid, **record, "annotator": latest.annotator, "disagree": disagree,
                            **_data_columns(latest.data, text_key)})
    if problems:
        raise LabelFileError(problems, "the Label Studio export")
    extra = dict.fromkeys(k for r in records for k in r if k not in _COLUMNS)
    out = pd.DataFrame(records, columns=_COLUMNS + list(extra))
    out.attrs = {"skipped": skipped, "disagreements": disagreements, "taxonomy": tax.name}
    return out


def _data_columns(data: dict, text_key: str) -> dict:
    """The task's data besides its text, as columns: an id given to write_tasks comes back."""
    return {f"data_{k}" if k in _COLUMNS else k: v for k, v in data.items() if k != text_key}


def _record(where: str, text, chosen: dict[str, list[str]], resolve: Resolver) -> tuple[dict, list[Problem]]:
    problems = []
    text = "" if text is None else str(text).strip()
    if not text:
        problems.append(Problem(where, TO_NAME, "", "the task has no text in data['text']"))
    groups = chosen.get(GROUP, [])
    group = None
    if len(groups) != 1:
        problems.append(Problem(where, GROUP, ", ".join(groups), f"choose exactly one group, got {len(groups)}"))
    else:
        group, bad = resolve.group(groups[0])
        if bad:
            problems.append(Problem(where, GROUP, groups[0], bad))
    topics, bad_topics = resolve.topics(chosen.get(TOPICS, []))
    problems += [Problem(where, TOPICS, "; ".join(chosen.get(TOPICS, [])), m, UNKNOWN_TOPIC) for m in bad_topics]
    general, repeat = bool(chosen.get(GENERAL)), bool(chosen.get(REPEAT))
    if general and topics:
        problems.append(Problem(where, GENERAL, _FLAG_ALIAS, "a too-general comment has no topics; "
                                "untick it or clear the topics"))
    return {"text": text, "group": group, "topics": ";".join(topics), "is_general": general,
            "is_repeat": repeat}, problems
