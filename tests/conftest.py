"""Shared fixtures: the default model (loaded once), the shared evaluation data (skips when absent)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Property tests run the same examples on every run (a red CI must be reproducible) and have no
# per-example deadline (a loaded 2-core machine is slow, not wrong).
settings.register_profile("cxtext", derandomize=True, deadline=None)
settings.load_profile("cxtext")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def default_model():
    from cxtext.classify import load_model

    return load_model()


@pytest.fixture(scope="session")
def corpus():
    from cxtext.train import read_corpus

    return read_corpus(ROOT / "models" / "default" / "corpus")


@pytest.fixture(scope="session")
def dev_set():
    path = SHARED / "data" / "dev_labelled.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared is absent): nothing to measure on")
    from cxtext.train import read_corpus

    return read_corpus(path)
