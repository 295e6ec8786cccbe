# footy_assets: the README's commands. Everything installs into .venv from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo lint check test fuzz dev serve bench clean-lake

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -m footy_assets.orchestration.instance  # .env: DAGSTER_HOME for dagster and dg run from here
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/footy-assets demo

lint: install  # a second: the linter, the formatter's verdict and the layer contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

check: lint  # the inner loop (under a minute): lint, then the tests not marked slow or server
	$(BIN)/python -m pytest -q -m "not slow and not server"

test: lint  # the whole suite (what CI runs)
	$(BIN)/python -m pytest

fuzz: install  # the readers' mutation fuzzer, 10x what the test suite runs, with a new seed
	$(BIN)/python -m footy_assets_tests.fuzz --mutants 2000

dev: install
	@$(BIN)/python -m footy_assets.orchestration.instance
	$(BIN)/dagster dev -w workspace.yaml

serve: install  # the vendor API over the lake on http://127.0.0.1:8000 (docs/operations/serving.md)
	$(BIN)/footy-assets serve

bench: install
	$(BIN)/python bench/full_match.py
	$(BIN)/python bench/sync.py

clean-lake:
	find data_lake -mindepth 1 ! -name .gitignore -delete
