# Customer-loyalty workbook. `make` alone lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
SIZE ?= default
CONFIG ?= configs/default.yaml
PDF ?=
BENCH_SIZES ?= default 1m 10m
ARGS ?=
PYTEST_ARGS ?=

## Create .venv from the pinned requirements, install the project, register its Jupyter kernel
setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0] + " (set PYTHON=/path/to/python3.11)")'
	@echo "setting up $(VENV) with the pinned packages of requirements.txt ..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PIP) install --quiet -r requirements.txt
	@$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@$(PY) -m ipykernel install --sys-prefix --name loyalty --display-name "Python (loyalty workbook)" > /dev/null
	@touch $(STAMP)
	@echo "$(VENV) ready"

## Write the built-in sample into data/raw if it is empty (SIZE=default|small|tiny)
sample: setup
	@$(PY) -m helpers.sample --if-empty --size $(SIZE)

## Run the whole notebook chain: reports/<run_id>/index.html (PDF=1 also index.pdf; ARGS="-p key=value ..." overrides)
report: setup
	@$(PY) -m helpers.sample --if-empty --size $(SIZE) --config $(CONFIG)
	@$(PY) -m helpers.run --config $(CONFIG) $(if $(PDF),--pdf) $(ARGS)

## Benchmark: generate samples and time the chain (BENCH_SIZES="default 1m 10m"): reports/bench/
bench: setup
	@$(PY) -m helpers.bench --sizes $(BENCH_SIZES)

## Run the whole test suite (PYTEST_ARGS="-k cleaning" to narrow it)
test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

## Check code style with ruff (also part of make test)
lint: setup
	@$(VENV)/bin/ruff check src tests notebooks scripts conftest.py

## Open JupyterLab on the notebooks, with the sample in data/raw
lab: sample
	@$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

## Translations: write the template of every text to translate (src/helpers/locale/messages.pot)
i18n-extract: setup
	@$(PY) -m helpers.catalog extract

## Translations: add new texts to the Chinese catalog, mark changed ones fuzzy (then translate)
i18n-update: setup
	@$(PY) -m helpers.catalog update

## Translations: list missing, fuzzy, unused or mismatched entries (also part of make test)
i18n-check: setup
	@$(PY) -m helpers.catalog check

## Re-pin requirements.txt and environment.yml from what .venv holds now
lock: setup
	@$(PY) scripts/lock.py

## Delete the venv, generated data (clean tables, truth) and reports; data/raw is kept
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find data/clean data/truth reports -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	find . -type d -name __pycache__ -prune -exec rm -rf {} +

## List the targets
help:
	@echo "Targets (run 'make report' for the reports, 'make test' for the tests):"
	@awk '/^## /{desc=substr($$0,4); next} /^[a-z0-9-]+:/{if (desc) {split($$1,t,":"); printf "  %-13s %s\n", t[1], desc}; desc=""}' $(MAKEFILE_LIST)

.PHONY: setup sample report bench test lint lab lock clean help i18n-extract i18n-update i18n-check
