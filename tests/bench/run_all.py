"""`make bench`: every benchmark in one run; figures printed and written to bench_results/*.json."""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["lemma_accuracy", "bench_preprocess", "bench_classify", "instructions_classify", "bench_quality", "bench_attribution", "bench_batch", "bench_service"]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    failed = []
    for name in ORDER:
        if not (HERE / f"{name}.py").exists():
            continue
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        try:
            module = _load(name)
            saved, sys.argv = sys.argv, [name]
            try:
                module.main()
            finally:
                sys.argv = saved
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            print(f"{name} failed: {exc!r}")
        print(f"({time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
