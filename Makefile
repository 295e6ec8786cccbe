# footy_assets: the README's commands. Everything installs into .venv from pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo check test fuzz dev bench clean-lake

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -m footy_assets.orchestration.instance  # .env: DAGSTER_HOME for dagster and dg run from here
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/footy-assets demo

check: install  # the inner loop (a few minutes): lint, the layer contract, the tests not marked slow or server
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "not slow and not server"

test: install  # the whole suite
	$(BIN)/python -m pytest

fuzz: install  # the readers' mutation fuzzer, 10x what the test suite runs, with a new seed
	$(BIN)/python -m footy_assets_tests.fuzz --mutants 2000

dev: install
	@$(BIN)/python -m footy_assets.orchestration.instance
	$(BIN)/dagster dev -w workspace.yaml

bench: install
	$(BIN)/python bench/full_match.py

clean-lake:
	find data_lake -mindepth 1 ! -name .gitignore -delete
