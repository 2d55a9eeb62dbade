# safety-data-exchange: every routine task is a target here. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VAR := var
DEMO := $(VAR)/demo
DEMO_SCALE ?= 0.1
DEMO_SEED ?= 20261129
# pip's own chatter about the local mirrors is noise; errors still show.
PIP_QUIET := 2>&1 | { grep -vE "^(WARNING: Location|DEPRECATION)" || true; }

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint typecheck unit integration browser compose-schema bench clean

help:  ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing into $(VENV) (first time: about 3 minutes)…"
	@# The venv module bundles old pip and setuptools, which .ci/advisories.yaml lists as affected.
	@set -o pipefail; $(BIN)/pip install -q -U "pip>=23.3" "setuptools>=65.5.1" $(PIP_QUIET)
	@set -o pipefail; $(BIN)/pip install -q -e '.[dev]' $(PIP_QUIET)
	@$(BIN)/python -c "import airflow.sdk, exchange.cli"
	@touch $@

venv: $(VENV)/.installed  ## Create the virtual environment and install the project with its dev tools

demo: venv  ## Generate a demo legacy DB (SQLite), run nightly_sync through Airflow, print the summary
	@$(BIN)/sdx demo --home $(DEMO) --scale $(DEMO_SCALE) --seed $(DEMO_SEED)

lint: venv  ## ruff (lint, with Airflow AIR and security S rules)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv  ## mypy on the packages
	$(BIN)/mypy

unit: venv  ## Unit tests only (no servers)
	$(BIN)/pytest tests -m "not integration"

integration: venv  ## Integration tests (needs SDX_TEST_POSTGRES_URL and SDX_TEST_MARIADB_URL)
	$(BIN)/pytest tests -m integration

# The catalogue export test renders its HTML page in headless Chromium; CI runs it, so CI needs the browser.
browser:  ## Install Debian's chromium and Chinese fonts for the browser tests (as root; else print how)
	@if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  echo "chromium: $$(command -v chromium), with Chinese fonts"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	else \
	  echo "missing; run: sudo apt-get update -qq && sudo apt-get install -y -qq chromium fonts-noto-cjk"; \
	fi

# Docker cannot run here: the compose file is tested against the Compose specification's schema instead.
COMPOSE_SPEC := $(VAR)/compose-spec
compose-schema: venv  ## Fetch the Compose specification's JSON schema (hash-pinned) for the compose-file test
	@ls $(COMPOSE_SPEC)/docker_compose-*.whl >/dev/null 2>&1 || { set -o pipefail; \
	  $(BIN)/pip download -q --no-deps --require-hashes -r tests/deploy/compose-spec-requirements.txt \
	  -d $(COMPOSE_SPEC) $(PIP_QUIET); }

test: lint typecheck compose-schema  ## Install, lint, type-check and run every test (integration tests skip without servers)
	$(BIN)/pytest tests

# Benchmarks of issue 9 (bench/README.md): long (scale 10 generates for ~10 min and runs for longer), so not
# part of `make test`, which runs the harness at scale 0.01 instead (tests/bench). The servers as in .ci/run.
BENCH_MARIADB_URL ?= mysql+pymysql://root@127.0.0.1:3306
BENCH_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432
BENCH_SCALES ?= 1 10
BENCH_RUNS ?= 3
bench: venv  ## Benchmarks: legacy DBs at scale 1 and 10 in MariaDB, nightly runs, side-by-side (bench/results/)
	$(BIN)/python bench/run.py --mariadb-url $(BENCH_MARIADB_URL) --postgres-url $(BENCH_POSTGRES_URL) \
	  --scales $(BENCH_SCALES) --runs $(BENCH_RUNS)

clean:  ## Remove generated files (demo, staging, caches); keeps the virtual environment
	rm -rf $(VAR) .pytest_cache .mypy_cache .ruff_cache .hypothesis
