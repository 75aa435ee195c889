"""The label schema (contact groups, process topics) read from a YAML file, and label checks."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from .errors import InputError

DEFAULT_PRIORITY = ("claim", "complaint", "service_request", "consultation", "suggestion", "gratitude")


@dataclass(frozen=True)
class Label:
    """One group or topic: its id, Russian name, description and points (groups only)."""

    id: str
    name: str
    description: str = ""
    points: int = 0


@dataclass(frozen=True)
class Taxonomy:
    """A label schema. Ids are the contract; names are what a Russian analyst reads."""

    name: str
    version: str
    groups: tuple[Label, ...]
    topics: tuple[Label, ...]
    group_priority: tuple[str, ...] = DEFAULT_PRIORITY
    repeat_points: int = 3
    repeat_window_days: int = 30
    general_name: str = "Слишком общий комментарий"
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]

    @property
    def topic_ids(self) -> list[str]:
        return [t.id for t in self.topics]

    @cached_property
    def _names(self) -> dict[str, str]:
        return {label.id: label.name for label in self.groups + self.topics}

    def group_name(self, group_id: str) -> str:
        return self._names.get(group_id, group_id)

    def topic_name(self, topic_id: str) -> str:
        return self._names.get(topic_id, topic_id)

    def group_points(self) -> dict[str, int]:
        return {g.id: g.points for g in self.groups}

    def with_topic(self, topic_id: str, name: str, description: str = "") -> "Taxonomy":
        """A copy with one more topic (for an analyst's own topic)."""
        if topic_id in self.topic_ids:
            raise InputError(f"topic '{topic_id}' already exists in taxonomy '{self.name}'")
        raw = dict(self.raw)
        raw["topics"] = list(raw.get("topics", [])) + [
            {"id": topic_id, "name": name, "description": description}
        ]
        return from_dict(raw)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "group_priority": list(self.group_priority),
            "repeat_points": self.repeat_points,
            "repeat_window_days": self.repeat_window_days,
            "groups": [
                {"id": g.id, "name": g.name, "points": g.points, "description": g.description}
                for g in self.groups
            ],
            "topics": [{"id": t.id, "name": t.name, "description": t.description} for t in self.topics],
            "general": {"name": self.general_name},
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(
            yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8"
        )

    def check_labels(self, groups: Iterable, topics: Iterable[Sequence[str]]) -> None:
        """Raise InputError naming every row whose group or topic is not in the taxonomy."""
        known_groups, known_topics = set(self.group_ids), set(self.topic_ids)
        bad = []
        for row, (group, row_topics) in enumerate(zip(groups, topics)):
            if group not in known_groups:
                bad.append(f"row {row + 1}: group '{group}'")
            for topic in row_topics:
                if topic not in known_topics:
                    bad.append(f"row {row + 1}: topic '{topic}'")
        if bad:
            shown = "; ".join(bad[:20]) + (f"; ... and {len(bad) - 20} more" if len(bad) > 20 else "")
            raise InputError(
                f"{len(bad)} label(s) are not in taxonomy '{self.name}': {shown}. "
                f"Known groups: {', '.join(self.group_ids)}. Known topics: {', '.join(self.topic_ids)}. "
                "Fix the labels or pass a taxonomy that declares them (--taxonomy FILE)."
            )


def _labels(items: list, kind: str, source: str) -> tuple[Label, ...]:
    if not items:
        raise InputError(f"taxonomy {source} declares no {kind}")
    out, seen = [], set()
    for item in items:
        if not isinstance(item, dict) or "id" not in item:
            raise InputError(f"taxonomy {source}: every entry of '{kind}' needs an 'id', got {item!r}")
        if item["id"] in seen:
            raise InputError(f"taxonomy {source}: {kind} id '{item['id']}' appears twice")
        seen.add(item["id"])
        out.append(
            Label(
                id=str(item["id"]),
                name=str(item.get("name", item["id"])),
                description=str(item.get("description", "")),
                points=int(item.get("points", 0)),
            )
        )
    return tuple(out)


def from_dict(data: dict, source: str = "<dict>") -> Taxonomy:
    """Build a Taxonomy from its YAML/JSON structure, checking ids."""
    if not isinstance(data, dict):
        raise InputError(f"taxonomy {source} must be a mapping with 'groups' and 'topics'")
    groups = _labels(data.get("groups", []), "groups", source)
    topics = _labels(data.get("topics", []), "topics", source)
    group_ids = [g.id for g in groups]
    priority = tuple(data.get("group_priority") or [g for g in DEFAULT_PRIORITY if g in group_ids])
    missing = [g for g in group_ids if g not in priority]
    priority = tuple(p for p in priority if p in group_ids) + tuple(missing)
    return Taxonomy(
        name=str(data.get("name", "custom")),
        version=str(data.get("version", "1")),
        groups=groups,
        topics=topics,
        group_priority=priority,
        repeat_points=int(data.get("repeat_points", 3)),
        repeat_window_days=int(data.get("repeat_window_days", 30)),
        general_name=str((data.get("general") or {}).get("name", "Слишком общий комментарий")),
        raw=data,
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml's safe loader, refusing a key written twice in one mapping (the last would silently win)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is written twice in one entry", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read a taxonomy YAML file; None gives the default taxonomy shipped with cxtext."""
    if path is None:
        text = resources.files("cxtext.models").joinpath("default/taxonomy.yaml").read_text("utf-8")
        return from_dict(yaml.safe_load(text), "default")
    path = Path(path)
    if path.is_dir():
        path = path / "taxonomy.yaml"
    if not path.exists():
        raise InputError(f"taxonomy file {path} not found; pass a YAML file with 'groups' and 'topics'")
    try:
        data = yaml.load(path.read_text("utf-8"), Loader=_UniqueKeyLoader)  # safe: SafeLoader's types only
    except yaml.YAMLError as exc:
        raise InputError(f"taxonomy file {path} is not valid YAML: {exc}") from exc
    return from_dict(data, str(path))
