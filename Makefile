# clinitrack: `make demo` starts the service with the demo clinic; `make test` runs lint and every test
# on SQLite and PostgreSQL. `make` alone lists the targets.

PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CLINITRACK := $(BIN)/clinitrack

# Install stamps: redone only when pyproject.toml is newer than the stamp (or .venv was removed).
RUNTIME_STAMP := $(VENV)/.clinitrack-runtime
TEST_STAMP := $(VENV)/.clinitrack-test
# The web client's npm packages (the barcode decoder; axe-core for tests), from its lock file.
NPM_STAMP := mobile_web/node_modules/.package-lock.json

# Runtime targets read an optional .env (see .env.example); the test targets never do.
LOAD_ENV := set -a; if [ -f .env ]; then . ./.env; fi; set +a;
# mypy refuses a directory that holds no Python files (labels/ was empty at first), so skip those.
MYPY_PATHS = $(foreach d,server labels,$(if $(wildcard $(d)/*.py),$(d)))
# Root runs apt-get directly; anyone else goes through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
# Lint, then SQLite, then PostgreSQL, in that order, even under `make -j`.
.NOTPARALLEL:
.PHONY: help demo install install-test test test-sqlite test-postgres lint migrate seed run clean postgres-binaries chromium bench bench-web bench-stock bench-labels bench-region bench-load

help: ## List the targets
	@echo "clinitrack: make <target>"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

demo: install ## Install, migrate, load the demo clinic and serve it at http://127.0.0.1:8000/ (Ctrl+C stops)
	@$(LOAD_ENV) $(CLINITRACK) migrate
	@$(LOAD_ENV) $(CLINITRACK) seed demo
	@$(LOAD_ENV) exec $(CLINITRACK) serve --no-migrate

install: $(RUNTIME_STAMP) $(NPM_STAMP) ## Create .venv, install the service and the web client's packages

install-test: $(TEST_STAMP) $(NPM_STAMP) postgres-binaries chromium ## Install test tools, Debian's PostgreSQL and Chromium

test: install-test lint test-sqlite test-postgres ## Lint, then the whole suite on SQLite, then on PostgreSQL

test-sqlite: $(TEST_STAMP) $(NPM_STAMP) ## The whole suite on SQLite
	CLINITRACK_TEST_ENGINE=sqlite $(BIN)/pytest

test-postgres: $(TEST_STAMP) $(NPM_STAMP) ## The whole suite on PostgreSQL (a throwaway database on 127.0.0.1:5432)
	CLINITRACK_TEST_ENGINE=postgres $(BIN)/pytest

lint: $(TEST_STAMP) ## ruff check and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy $(MYPY_PATHS)

migrate: $(RUNTIME_STAMP) ## Apply database migrations
	@$(LOAD_ENV) $(CLINITRACK) migrate

seed: $(RUNTIME_STAMP) ## Load the demo clinic (idempotent) and print its logins
	@$(LOAD_ENV) $(CLINITRACK) seed demo

run: ## Serve without reinstalling (migrates first)
	@test -x $(CLINITRACK) || { echo "$(CLINITRACK) is missing: run 'make install' first" >&2; exit 1; }
	@$(LOAD_ENV) exec $(CLINITRACK) serve

clean: ## Remove var/ (database, secret key) and caches; keeps .venv
	rm -rf var .pytest_cache .mypy_cache .ruff_cache build
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

bench: bench-web bench-stock bench-labels ## All benchmarks (they print tables; nothing is asserted)

bench-web: install-test ## Web client: bytes before/after the camera, repeat load, decode time per frame
	$(BIN)/python -m bench.web_load

bench-stock: install-test ## Scan + use over HTTP at 1/10/50 clients vs the raw database ceiling
	$(BIN)/python -m bench.stock_scan

bench-load: install-test ## 50 scanners for 5 min on PostgreSQL, 4 workers; then ledger + audit checks (LOAD_ARGS=--duration 20)
	$(BIN)/python -m bench.load $(LOAD_ARGS)

bench-labels: $(RUNTIME_STAMP) ## Render 1,000 labels on Avery 5160 PDF (and roll PDF, ZPL): time and peak memory
	$(BIN)/python -m bench.labels

bench-region: install-test ## Issue 11's table against the region set (clinitrack demo generate --scale region first)
	$(BIN)/python bench/region.py

$(NPM_STAMP): mobile_web/package.json mobile_web/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing Debian's nodejs and npm"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm; \
	fi
	cd mobile_web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing clinitrack into $(VENV) (a minute or two the first time)"
	$(BIN)/pip install -qq -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@echo "installing clinitrack with its test tools into $(VENV) (a minute or two the first time)"
	$(BIN)/pip install -qq -e '.[test]'
	touch $@ $(RUNTIME_STAMP)

# Browser tests drive Debian's chromium through Playwright; Playwright never downloads a browser.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "installing Debian's chromium"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

# The tests use the PostgreSQL at 127.0.0.1:5432, or start a private cluster from these binaries.
postgres-binaries:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian's postgresql package"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi
