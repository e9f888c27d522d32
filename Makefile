# 一表通 Hub — developer entry points. `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HUB_HOME ?= $(CURDIR)/hub-data

.PHONY: demo test test-all test-browser test-spark spark-setup check lint format type setup clean bench serve browser-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The main job on sample_data/ with the embedded store: every report for both townships in out/demo.
demo: $(STAMP)
	rm -rf $(HUB_HOME)/demo out/demo
	HUB_HOME=$(HUB_HOME)/demo $(BIN)/hub run sample_data --date 2026-11-30 --out out/demo

## Fast tests (what CI runs, with the browser journeys).
test: $(STAMP)
	$(BIN)/pytest -n 2

## Debian's Chromium and CJK fonts for the browser tests (Playwright never downloads a browser).
browser-deps:
	@command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'noto.*cjk' || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

test-browser: $(STAMP) browser-deps
	$(BIN)/pytest -m browser tests/serve

## The Spark engine suite (pyspark from the `spark` extra, Java 17 from Debian; nothing downloads jars).
## HUB_SPARK_MASTER picks the cluster (default local[2]); .ci/run points it at a loopback standalone one.
spark-setup: $(STAMP)
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null)
	@$(BIN)/python -c "import pyspark" 2>/dev/null || $(BIN)/pip install -q -e '.[dev,spark]'

test-spark: spark-setup
	$(BIN)/pytest -m spark tests/spark

## Everything: slow tests, benchmarks-as-tests, browser journeys, every property test at its full count.
test-all: $(STAMP) browser-deps
	$(BIN)/pytest -n 2 -m '' --hypothesis-profile=full

lint: $(STAMP)
	$(BIN)/ruff check hub cli.py tests benchmarks
	$(BIN)/ruff format --check hub cli.py tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format hub cli.py tests benchmarks
	$(BIN)/ruff check --fix hub cli.py tests benchmarks

type: $(STAMP)
	$(BIN)/mypy hub cli.py

check: lint type test

serve: $(STAMP)
	$(BIN)/hub serve

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_merge.py
	$(BIN)/python benchmarks/bench_columns.py --split heldout
	$(BIN)/python benchmarks/bench_recognition.py
	$(BIN)/python -m benchmarks.bench_linkage_febrl
	$(BIN)/python -m benchmarks.bench_linkage_chinese 100000
	$(BIN)/python benchmarks/bench_admission.py

clean:
	rm -rf $(VENV) hub-data out .pytest_cache .mypy_cache .ruff_cache
