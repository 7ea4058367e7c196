# The command index: README, CI and developers all use these targets.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3
HGKM := $(BIN)/hgkm
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: install run demo-data test lint format bench chromium sample-data clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job on the shipped sample data, ending in a running dashboard.
run: demo-data
	$(HGKM) dashboard --host $(HOST) --port $(PORT)

demo-data: install
	$(HGKM) ingest sample_data/deliveries
	$(HGKM) approach import sample_data/approach_profiles.csv
	$(HGKM) benchmarks import sample_data/benchmark_nl.parquet
	$(HGKM) compute

# Debian's chromium for the real-browser tests (CI runs as root; elsewhere sudo is used).
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: install chromium
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the committed sample data and its national benchmark (tests check both are current).
sample-data: install
	$(BIN)/python -m generator.committed sample_data

bench: install
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf data .pytest_cache
