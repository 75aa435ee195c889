"""How labels are written in files analysts touch: topic lists and yes/no flags, read back leniently."""
from __future__ import annotations

import numpy as np
import pandas as pd


def split_topics(value) -> list[str]:
    """Topic ids from a list or from a string joined by ';' or ','."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in value if str(v).strip()]
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return []
    text = str(value).replace(",", ";")
    return [part.strip() for part in text.split(";") if part.strip()]


def to_bool(value) -> bool:
    """true/false from booleans, numbers and the strings analysts type (да, нет, 1, 0, true...)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return False
    return str(value).strip().lower() in {"1", "true", "t", "yes", "y", "да", "д", "истина", "1.0"}
