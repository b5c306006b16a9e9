# dso-analytics: the two commands are `make report` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SAMPLE ?= data/sample
OUT ?= reports
JOBS ?=

.PHONY: report test lab bench lint format sample clean install install-dev

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (dso-analytics)" >/dev/null
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(PY) -m pip install --quiet -e ".[dev,dask]"
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## Render every sample DSO and the portfolio overview into reports/
report: $(VENV)/.runtime
	$(VENV)/bin/dso-analytics report --all $(SAMPLE) --out $(OUT) $(if $(JOBS),--jobs $(JOBS),)

## Set up and run the whole test suite
test: $(VENV)/.dev
	$(PY) -m pytest -n 2 --dist loadgroup -q

## JupyterLab on the report templates (the package's own files: an editable install, edits are live)
lab: $(VENV)/.runtime
	$(VENV)/bin/jupyter lab notebooks/

## Benchmarks (writes BENCHMARKS.md)
bench: $(VENV)/.dev
	$(PY) benchmarks/run_all.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

## Regenerate the committed sample portfolio (deterministic)
sample: $(VENV)/.dev
	$(VENV)/bin/dso-analytics sample $(SAMPLE) --force

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
