import numpy as np
import pandas as pd
import pytest

from cxtext.labels import split_topics, to_bool


@pytest.mark.parametrize("value, expected", [
    ("speed;payments", ["speed", "payments"]), ("speed, payments", ["speed", "payments"]),
    (" speed ; ", ["speed"]), ("", []), (None, []), (np.nan, []), (pd.NA, []),
    (["speed", " "], ["speed"]), (np.array(["a", "b"]), ["a", "b"]),
])
def test_topics_read_back_from_any_cell(value, expected):
    assert split_topics(value) == expected


@pytest.mark.parametrize("value, expected", [
    (True, True), ("true", True), ("TRUE", True), ("1", True), (1, True), ("да", True), ("Да", True),
    (False, False), ("false", False), ("0", False), ("нет", False), ("", False), (None, False),
    (np.nan, False), (pd.NA, False), (np.bool_(True), True),
])
def test_flags_read_back_from_what_analysts_type(value, expected):
    assert to_bool(value) is expected
