# One-command set-up: every target creates .venv and installs the project when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cxtext-installed
EXTRAS ?= dev,service,spark

.PHONY: install test demo bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	$(PY) -m cxtext demo

bench: $(STAMP)
	$(PY) tests/bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
