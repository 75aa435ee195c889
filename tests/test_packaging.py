"""`pip install .` (not editable) must carry the default model and the data files: every file the package
reads at run time is listed in pyproject.toml's packages and package data."""
import fnmatch
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]


def _package_of(path: Path, config: dict) -> tuple[str, str]:
    """(the package a file sits in, its name inside that package), as setuptools maps folders to packages."""
    for package, folder in sorted(config["package-dir"].items(), key=lambda kv: -len(kv[1])):
        try:
            inside = path.relative_to(ROOT / folder)
        except ValueError:
            continue
        return ".".join([package, *inside.parent.parts]), inside.name
    raise AssertionError(f"{path} is in no package folder")


def _runtime_files() -> list[Path]:
    data = [p for p in (ROOT / "cxtext" / "data").iterdir() if p.is_file() and p.suffix != ".py"]
    model = [p for p in (ROOT / "models" / "default").rglob("*") if p.is_file() and p.suffix != ".py"]
    return data + model


def test_the_default_model_and_data_files_go_into_the_wheel(setuptools_config):
    needed = {"model.json", "model.npz", "taxonomy.yaml", "card.md", "card.json"}
    assert needed <= {p.name for p in (ROOT / "models" / "default").iterdir()}
    missing = []
    for path in _runtime_files():
        package, name = _package_of(path, setuptools_config)
        globs = setuptools_config["package-data"].get(package, [])
        if package not in setuptools_config["packages"] or not any(fnmatch.fnmatch(name, g) for g in globs):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"left out of the wheel: {missing}"


def test_a_stray_file_would_be_caught(setuptools_config):
    stray = ROOT / "cxtext" / "data" / "cues.json"  # a .json in data/ is not in its package data
    package, name = _package_of(stray, setuptools_config)
    assert package == "cxtext.data"
    assert not any(fnmatch.fnmatch(name, g) for g in setuptools_config["package-data"][package])
