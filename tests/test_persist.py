"""A model directory that was edited or damaged is refused on load, with the file and the fix named."""
import json

import numpy as np
import pytest

from cxtext.classify import load_model
from cxtext.errors import ModelError
from cxtext.persist import save


def _edit_arrays(directory, change):
    with np.load(directory / "model.npz", allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    change(arrays)
    np.savez_compressed(directory / "model.npz", **arrays)


def _edit_meta(directory, change):
    meta = json.loads((directory / "model.json").read_text("utf-8"))
    change(meta)
    (directory / "model.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def _nan_weights(arrays):
    arrays["group_coef_"] = arrays["group_coef_"].copy()
    arrays["group_coef_"][0, 0] = np.nan


@pytest.mark.parametrize("damage, message", [
    (lambda d: _edit_arrays(d, lambda a: a.update(topic_thresholds_=a["topic_thresholds_"][:3])),
     r"topic_thresholds_ has shape \(3,\)"),
    (lambda d: _edit_arrays(d, lambda a: a.update(group_coef_=a["group_coef_"][:, :-5])), "group_coef_ has shape"),
    (lambda d: _edit_arrays(d, _nan_weights), "group_coef_ holds values that are not finite"),
    (lambda d: _edit_meta(d, lambda m: m["groups"].reverse()), "groups or topics are not those of its taxonomy"),
    (lambda d: _edit_meta(d, lambda m: m.pop("temperature")), "model.json is damaged.*temperature"),
    (lambda d: _edit_meta(d, lambda m: m["params"].update(no_such_setting=1)), "model.json is damaged"),
    (lambda d: _edit_meta(d, lambda m: m.update(taxonomy={"groups": "junk"})), "model.json is damaged"),
    (lambda d: (d / "card.json").write_text("{", "utf-8"), "card.json is not valid JSON"),
])
def test_an_edited_model_is_refused_before_it_labels_anything(default_model, tmp_path, damage, message):
    save(default_model, tmp_path / "m", card=default_model.card)
    damage(tmp_path / "m")
    with pytest.raises(ModelError, match=f"{message}.*Copy the model directory again"):
        load_model(tmp_path / "m")


def test_a_saved_model_loads_whole(default_model, tmp_path):
    save(default_model, tmp_path / "m", card=default_model.card)
    again = load_model(tmp_path / "m")
    assert again.groups_ == default_model.groups_ and again.card == default_model.card
