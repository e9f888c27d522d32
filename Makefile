# 一表通 Hub — developer entry points. `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HUB_HOME ?= $(CURDIR)/hub-data

.PHONY: demo test test-all check lint type setup clean bench browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	rm -rf $(HUB_HOME)/demo
	HUB_HOME=$(HUB_HOME)/demo $(BIN)/hub run sample_data --date 2026-11-30 --out out/demo

test: $(STAMP)
	$(BIN)/pytest -n 2

test-all: $(STAMP)
	$(BIN)/pytest -n 2 -m ''

lint: $(STAMP)
	$(BIN)/ruff check hub cli.py tests benchmarks
	$(BIN)/ruff format --check hub cli.py tests benchmarks

type: $(STAMP)
	$(BIN)/mypy hub cli.py

check: lint type test

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) hub-data out .pytest_cache .mypy_cache .ruff_cache
