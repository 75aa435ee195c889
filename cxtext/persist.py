"""Safe model files: plain arrays (.npz, no pickle) plus JSON, with a protocol and version check."""
from __future__ import annotations

import json
import platform
import zipfile
import zlib
from importlib import resources
from pathlib import Path

import numpy as np

from . import __version__
from .errors import ModelError
from .features import TextFeatures
from .taxonomy import from_dict, load_taxonomy

FORMAT = "cxtext-linear"
PROTOCOL = 2  # 2: character n-grams summed per word (1: TF-IDF of the whole text)
_ARRAYS = ("group_coef_", "group_intercept_", "topic_coef_", "topic_intercept_", "general_coef_",
           "general_intercept_", "stack_coef_", "stack_intercept_", "topic_thresholds_")


def library_versions() -> dict:
    import pandas
    import pymorphy3
    import sklearn

    return {"cxtext": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "pandas": pandas.__version__,
            "pymorphy3": getattr(pymorphy3, "__version__", "?")}


def default_model_dir() -> Path:
    return Path(str(resources.files("cxtext.models").joinpath("default")))


_HALF = ("group_coef_", "topic_coef_", "general_coef_")  # stored in float16: halves the file


def round_weights(model) -> None:
    """Round the heads' weights to the float16 the saved file holds (scores move by ~1e-3), so that
    metrics measured before saving describe the model as saved and loaded."""
    for name in _HALF:
        setattr(model, name, np.asarray(getattr(model, name)).astype(np.float16).astype(np.float32))


def check_model_dir(path: str | Path) -> Path:
    """Refuse, before hours of training, a path that cannot take a model: a file, or a folder of other files."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ModelError(f"{path} is a file; give a folder for the model (it is created if missing)")
    if path.is_dir() and any(path.iterdir()) and not (path / "model.json").exists():
        raise ModelError(f"{path} holds other files; give a new or empty folder for the model, or a model folder "
                         "to replace")
    return path


def save(model, path: str | Path, card: dict | None = None) -> Path:
    """Write model.json + model.npz (+ card.json) into a directory."""
    from .card import write_card

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab, idf = model.features_.to_state()
    meta = {
        "format": FORMAT, "protocol": PROTOCOL, "versions": library_versions(),
        "params": {k: v for k, v in model.get_params().items() if k != "taxonomy"},
        "taxonomy": model.taxonomy_.to_dict(),
        "groups": model.groups_, "topics": model.topics_,
        "temperature": model.temperature_, "general_threshold": model.general_threshold_,
        "topic_fallback": bool(model.topic_fallback_),
        "vocabulary": vocab,
    }
    arrays = {name: np.asarray(getattr(model, name)) for name in _ARRAYS}
    for name in _HALF:
        arrays[name] = arrays[name].astype(np.float16)
    arrays.update(idf)
    np.savez_compressed(path / "model.npz", **arrays)
    (path / "model.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    tax_file = path / "taxonomy.yaml"
    if not tax_file.exists() or load_taxonomy(tax_file) != model.taxonomy_:  # keep a hand-written file
        model.taxonomy_.save(tax_file)
    if card is not None:
        write_card(card, path)
    return path


# settings of earlier cxtext versions whose step no longer exists; their arrays still fit
_RETIRED_PARAMS = frozenset({"chunk_topics"})  # topics scored on pieces of long texts


_AGAIN = " Copy the model directory again from where it came, or retrain it with `cxtext train`."


def load(path: str | Path | None = None):
    """Rebuild a TextClassifier from a directory written by save(); refuses unknown formats."""
    from .classify import TextClassifier

    path = default_model_dir() if path is None else Path(path)
    meta_file, array_file = path / "model.json", path / "model.npz"
    if not meta_file.exists() or not array_file.exists():
        raise ModelError(f"no cxtext model in {path}: expected model.json and model.npz there. "
                         "Train one with `cxtext train DATA -o DIR` or pass --model DIR of a trained model.")
    try:
        meta = json.loads(meta_file.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_file} is not valid JSON ({exc}); the model directory is damaged.{_AGAIN}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise ModelError(f"{meta_file} is not a cxtext model (format {found!r}, expected {FORMAT!r}).{_AGAIN}")
    if meta.get("protocol") != PROTOCOL:
        raise ModelError(f"{path} was saved with model protocol {meta.get('protocol')} by cxtext "
                         f"{meta.get('versions', {}).get('cxtext')}; this cxtext {__version__} reads protocol "
                         f"{PROTOCOL}. Retrain the model with this version (`cxtext train`).")
    try:
        with np.load(array_file, allow_pickle=False) as data:  # no pickle: arrays only
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ModelError(f"{array_file} cannot be read ({type(exc).__name__}: {exc}); the model directory is "
                         f"damaged.{_AGAIN}") from exc
    missing = [name for name in _ARRAYS if name not in arrays]
    if missing:
        raise ModelError(f"{array_file} lacks the arrays {', '.join(missing)}; the model directory is damaged.{_AGAIN}")
    try:
        model = TextClassifier(**{k: v for k, v in meta["params"].items() if k not in _RETIRED_PARAMS})
        model.taxonomy_ = from_dict(meta["taxonomy"], str(path))
        model.taxonomy = model.taxonomy_
        model.groups_, model.topics_ = list(meta["groups"]), list(meta["topics"])
        model.temperature_ = float(meta["temperature"])
        model.general_threshold_ = float(meta["general_threshold"])
        model.topic_fallback_ = bool(meta.get("topic_fallback", False))  # absent in models saved before it
        model.features_ = TextFeatures.from_state(meta["vocabulary"], arrays)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # InputError of the taxonomy is a ValueError
        raise ModelError(f"{meta_file} is damaged ({type(exc).__name__}: {exc}).{_AGAIN}") from exc
    for name in _ARRAYS:
        value = arrays[name]
        setattr(model, name, value.astype(np.float32) if value.dtype == np.float16 else value)
    problem = _misfit(model)
    if problem:
        raise ModelError(f"{path}: {problem} (saved by cxtext {meta.get('versions', {}).get('cxtext')}).{_AGAIN}")
    card_file = path / "card.json"
    try:
        model.card = json.loads(card_file.read_text("utf-8")) if card_file.exists() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{card_file} is not valid JSON ({exc}); the model card is damaged.{_AGAIN}") from exc
    return model


def _misfit(model) -> str:
    """What in a loaded model does not fit together ('' when all does): a damaged or edited file would
    otherwise load and then fail on every text, or label every text wrongly."""
    tax = model.taxonomy_
    if model.topics_ != list(tax.topic_ids) or model.groups_ != [g for g in tax.group_ids if g in model.groups_]:
        return "its groups or topics are not those of its taxonomy, in the taxonomy's order"
    n_groups, n_topics, n_features = len(model.groups_), len(model.topics_), model.features_.n_features
    shapes = {"group_coef_": (n_groups, n_features), "group_intercept_": (n_groups,),
              "topic_coef_": (n_topics, n_features), "topic_intercept_": (n_topics,),
              "general_coef_": (1, n_features), "general_intercept_": (1,),
              "stack_coef_": (1, n_groups + 4), "stack_intercept_": (1,), "topic_thresholds_": (n_topics,)}
    for name, shape in shapes.items():
        value = getattr(model, name)
        if value.shape != shape:
            return f"the array {name} has shape {value.shape}, expected {shape}"
        if not np.issubdtype(value.dtype, np.floating) or not np.isfinite(value).all():
            return f"the array {name} holds values that are not finite numbers"
    if not (np.isfinite(model.temperature_) and model.temperature_ > 0 and 0 <= model.general_threshold_ <= 1):
        return "its temperature or too-general threshold is out of range"
    return ""
